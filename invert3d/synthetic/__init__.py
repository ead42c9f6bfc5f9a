"""The synthetic world: procedural heads with exact ground truth from every camera, and decals."""

from invert3d.lazy import lazy_exports

__all__ = ["Decal", "HeadField", "HeadParams", "LATENT_DIM", "Render", "place_decal", "render_subject",
           "sample_latents", "subject_from_latent"]
__getattr__ = lazy_exports(__name__, {
    "Decal": "invert3d.synthetic.decals", "place_decal": "invert3d.synthetic.decals",
    "HeadField": "invert3d.synthetic.head", "LATENT_DIM": "invert3d.synthetic.params",
    "HeadParams": "invert3d.synthetic.params", "sample_latents": "invert3d.synthetic.params",
    "subject_from_latent": "invert3d.synthetic.params", "Render": "invert3d.synthetic.render",
    "render_subject": "invert3d.synthetic.render"})
