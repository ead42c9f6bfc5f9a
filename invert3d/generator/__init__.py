"""EG3D's triplane generator, rebuilt: config, StyleGAN2 backbone, volume renderer, super-resolution."""

from invert3d.generator.config import GeneratorConfig, RenderingConfig, preset
from invert3d.generator.triplane import TriPlaneGenerator

__all__ = ["GeneratorConfig", "RenderingConfig", "TriPlaneGenerator", "preset"]
