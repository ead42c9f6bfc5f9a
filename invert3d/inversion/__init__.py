"""Optimization: the reconstruction loss, latent projection and generator tuning (settings: ``invert3d.config``)."""
