"""The 3D result: a generator and its latent (``Scene``), rendered from any camera, and meshed from its density."""

from invert3d.scene.density import density_mesh, density_volume
from invert3d.scene.scene import Scene

__all__ = ["Scene", "density_mesh", "density_volume"]
