"""invert3d: faithful single-photo 3D GAN inversion by pseudo-multi-view optimization."""
