"""invert3d: faithful single-photo 3D GAN inversion by pseudo-multi-view optimization."""

from invert3d.checkpoints import load_generator
from invert3d.generator import GeneratorConfig, TriPlaneGenerator

__version__ = "0.1.0"
__all__ = ["GeneratorConfig", "TriPlaneGenerator", "load_generator", "__version__"]
