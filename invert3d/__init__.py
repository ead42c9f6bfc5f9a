"""invert3d: faithful single-photo 3D GAN inversion by pseudo-multi-view optimization."""

from invert3d.lazy import lazy_exports

__version__ = "0.1.0"
__all__ = ["GeneratorConfig", "TriPlaneGenerator", "load_generator", "__version__"]
__getattr__ = lazy_exports(__name__, {"load_generator": "invert3d.checkpoints",
                                      "GeneratorConfig": "invert3d.generator", "TriPlaneGenerator": "invert3d.generator"})
