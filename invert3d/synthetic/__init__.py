"""The synthetic world: procedural heads with exact ground truth from every camera, and decals."""

from invert3d.synthetic.decals import Decal, place_decal
from invert3d.synthetic.head import HeadField
from invert3d.synthetic.params import LATENT_DIM, HeadParams, sample_latents, subject_from_latent
from invert3d.synthetic.render import Render, render_subject

__all__ = ["Decal", "HeadField", "HeadParams", "LATENT_DIM", "Render", "place_decal", "render_subject",
           "sample_latents", "subject_from_latent"]
