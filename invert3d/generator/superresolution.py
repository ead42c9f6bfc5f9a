"""EG3D's 2D super-resolution: StyleGAN2 synthesis blocks that lift the raw neural render to the output size.

The blocks are styled by the last w of the latent; the first blocks keep the resolution (EG3D's
``SynthesisBlockNoUp``), the last ``log2(out / in)`` blocks upsample 2x. Covers NVIDIA's
``SuperresolutionHybrid2X/4X/8X/8XDC`` with their exact parameter names.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from invert3d.generator.config import SUPERRESOLUTION_SPECS, GeneratorConfig
from invert3d.generator.ops import binomial_filter
from invert3d.generator.stylegan2 import SynthesisBlock


class SuperResolution(nn.Module):
    """(rgb [N, 3, r, r], features [N, C, r, r], ws [N, num_ws, w_dim]) -> image [N, 3, R, R]."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.input_resolution = cfg.sr_input_resolution
        self.antialias = cfg.rendering.sr_antialias
        self.noise_mode = cfg.rendering.superresolution_noise_mode
        use_fp16 = cfg.sr_num_fp16_res > 0
        channels = cfg.sr_block_channels
        first_up = len(channels) - cfg.sr_up_blocks
        resolution = self.input_resolution
        in_ch = cfg.triplane_channels
        self.num_blocks = len(channels)
        for i, out_ch in enumerate(channels):
            upsample = i >= first_up
            resolution *= 2 if upsample else 1
            block = SynthesisBlock(in_ch, out_ch, cfg.w_dim, resolution, cfg.img_channels, use_fp16=use_fp16,
                                   conv_clamp=256 if use_fp16 else None, upsample=upsample)
            setattr(self, f"block{i}", block)
            in_ch = out_ch
        if SUPERRESOLUTION_SPECS[cfg.superresolution]["filter_buffer"]:
            self.register_buffer("resample_filter", binomial_filter())

    def forward(self, rgb: torch.Tensor, features: torch.Tensor, ws: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (image [N, 3, R, R], raw [N, 3, r, r]).

        ``raw`` is ``rgb`` plus the ToRGB outputs of the leading same-resolution blocks when no resizing was
        needed: NVIDIA's blocks add to the raw image in place, so that sum is what their generator returns
        (and what their discriminator was trained on) as ``image_raw`` for the 2X and 4X modules.
        """
        raw = rgb  # at the neural rendering resolution, as NVIDIA's generator returns it
        resized = features.shape[-1] != self.input_resolution
        if resized:
            size = (self.input_resolution, self.input_resolution)
            features = F.interpolate(features, size=size, mode="bilinear", align_corners=False, antialias=self.antialias)
            rgb = F.interpolate(rgb, size=size, mode="bilinear", align_corners=False, antialias=self.antialias)
        ws = ws[:, -1:, :].expand(-1, 3, -1)
        x, img = features, rgb
        for i in range(self.num_blocks):
            block: SynthesisBlock = getattr(self, f"block{i}")
            x, img = block(x, img, ws, self.noise_mode)
            if not block.upsample and not resized:
                raw = img
        return img, raw
