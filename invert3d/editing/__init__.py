"""3D-aware editing of inverted results: attribute directions in W (InterFaceGAN) and their application."""

from invert3d.editing.directions import Directions, apply_edit, learn_directions

__all__ = ["Directions", "apply_edit", "learn_directions"]
