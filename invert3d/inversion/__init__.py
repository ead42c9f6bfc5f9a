"""Optimization: typed settings, the reconstruction loss, latent projection and generator tuning."""

from invert3d.inversion.config import InversionConfig, preset

__all__ = ["InversionConfig", "preset"]
