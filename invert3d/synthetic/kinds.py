"""The names of the procedural decals (``invert3d.synthetic.decals`` draws them); light, for the CLI's choices."""

PROCEDURAL_KINDS = ("emblem", "tattoo", "paint")
