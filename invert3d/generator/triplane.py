"""EG3D's ``TriPlaneGenerator``: a StyleGAN2 backbone paints three axis-aligned feature planes, a small MLP decodes
density and colour features at any 3D point, volume rendering gives a raw image and depth at the neural rendering
resolution, and a 2D super-resolution network lifts that to the output image.

The Python API mirrors NVIDIA's (``mapping``, ``synthesis``, ``sample``, ``sample_mixed``, ``forward``) so that
scripts written for EG3D work unchanged, and ``state_dict()`` has NVIDIA's exact names and shapes.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from invert3d.cameras.rays import camera_rays
from invert3d.generator.config import GeneratorConfig
from invert3d.generator.rendering import ImportanceRenderer, TriplaneDecoder
from invert3d.generator.stylegan2 import NoiseMode, StyleGAN2Backbone
from invert3d.generator.superresolution import SuperResolution


class TriPlaneGenerator(nn.Module):
    """z [N, z_dim], camera label c [N, 25] -> image [N, 3, R, R] in [-1, 1] (nominally), plus raw render and depth."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        self.z_dim, self.c_dim, self.w_dim = cfg.z_dim, cfg.c_dim, cfg.w_dim
        self.img_resolution, self.img_channels = cfg.img_resolution, cfg.img_channels
        self.neural_rendering_resolution = cfg.neural_rendering_resolution
        self.backbone = StyleGAN2Backbone(
            cfg.z_dim, cfg.c_dim, cfg.w_dim, cfg.triplane_resolution, 3 * cfg.triplane_channels,
            cfg.mapping_layers, cfg.channel_base, cfg.channel_max, cfg.num_fp16_res, cfg.conv_clamp)
        self.superresolution = SuperResolution(cfg)
        self.decoder = TriplaneDecoder(cfg.triplane_channels, cfg.decoder_hidden, cfg.triplane_channels,
                                       cfg.decoder_lr_mul)
        self.renderer = ImportanceRenderer(cfg.rendering)
        self.num_ws = self.backbone.num_ws
        if cfg.plane_offset:
            self.plane_offset = nn.Parameter(self._zero_planes())

    @property
    def rendering_kwargs(self) -> dict:
        """EG3D's name for the rendering settings, as a plain dict."""
        return dict(vars(self.cfg.rendering))

    def mapping(self, z: torch.Tensor, c: torch.Tensor, truncation_psi: float = 1, truncation_cutoff: int | None = None,
                update_emas: bool = False) -> torch.Tensor:
        """z [N, z_dim], c [N, 25] -> ws [N, num_ws, w_dim]."""
        r = self.cfg.rendering
        if r.c_gen_conditioning_zero:
            c = torch.zeros_like(c)
        return self.backbone.mapping(z, c * r.c_scale, truncation_psi=truncation_psi,
                                     truncation_cutoff=truncation_cutoff, update_emas=update_emas)

    def planes(self, ws: torch.Tensor, noise_mode: NoiseMode = "const") -> torch.Tensor:
        """ws -> the three feature planes [N, 3, C, H, W] (plus the ``plane_offset`` if the config has one)."""
        planes = self.backbone.synthesis(ws, noise_mode=noise_mode)
        planes = planes.view(len(planes), 3, self.cfg.triplane_channels, planes.shape[-2], planes.shape[-1])
        return planes + self.plane_offset if self.cfg.plane_offset else planes

    def _zero_planes(self, device: torch.device | None = None) -> torch.Tensor:
        res = self.cfg.triplane_resolution
        return torch.zeros(3, self.cfg.triplane_channels, res, res, device=device)

    def add_plane_offset(self) -> None:
        """Give the generator a (zero) ``plane_offset`` if it has none, changing no output: the triplane residual
        an inversion tunes."""
        if not self.cfg.plane_offset:
            self.cfg = dataclasses.replace(self.cfg, plane_offset=True)
            self.plane_offset = nn.Parameter(self._zero_planes(self.decoder.net[0].weight.device))

    def render_planes(self, planes: torch.Tensor, ws: torch.Tensor, c: torch.Tensor,
                      neural_rendering_resolution: int | None = None, deterministic: bool = False,
                      detach_superresolution_from: int | None = None) -> dict[str, torch.Tensor]:
        """Volume-render given planes from cameras c [N, 25] and super-resolve; see ``synthesis``.

        ``detach_superresolution_from`` = k: views k.. are super-resolved with the super-resolution network's
        weights detached, so a loss on them reaches the planes, decoder and latent but not that network's weights
        (the same images either way)."""
        res = neural_rendering_resolution or self.neural_rendering_resolution
        cam2world = c[:, :16].view(-1, 4, 4)
        intrinsics = c[:, 16:25].view(-1, 3, 3)
        origins, directions = camera_rays(cam2world, intrinsics, res)
        if planes.shape[0] != origins.shape[0]:
            planes = planes.expand(origins.shape[0], -1, -1, -1, -1)
            ws = ws.expand(origins.shape[0], -1, -1)
        features, depth, opacity = self.renderer(planes, self.decoder, origins, directions, deterministic)
        n = origins.shape[0]
        feature_image = features.permute(0, 2, 1).reshape(n, features.shape[-1], res, res).contiguous()
        depth_image = depth.permute(0, 2, 1).reshape(n, 1, res, res)
        image, raw = self._super_resolve(feature_image, ws, detach_superresolution_from)
        return {"image": image, "image_raw": raw, "image_depth": depth_image,
                "image_mask": opacity.permute(0, 2, 1).reshape(n, 1, res, res)}

    def _super_resolve(self, features: torch.Tensor, ws: torch.Tensor, detach_from: int | None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """(image, raw) of feature images [N, C, r, r]; views ``detach_from``.. through detached weights."""
        sr = self.superresolution
        if detach_from is None or detach_from >= len(features):
            return sr(features[:, :3], features, ws)
        k = detach_from
        weights = {name: t.detach() for name, t in [*sr.named_parameters(), *sr.named_buffers()]}
        live = sr(features[:k, :3], features[:k], ws[:k])
        frozen = torch.func.functional_call(sr, weights, (features[k:, :3], features[k:], ws[k:]))
        return torch.cat([live[0], frozen[0]]), torch.cat([live[1], frozen[1]])

    def synthesis(self, ws: torch.Tensor, c: torch.Tensor, neural_rendering_resolution: int | None = None,
                  noise_mode: NoiseMode = "const", deterministic: bool = False, **_: object) -> dict[str, torch.Tensor]:
        """ws [N, num_ws, w_dim], c [N, 25] -> {'image' [N, 3, R, R], 'image_raw' [N, 3, r, r] (r = neural
        rendering resolution), 'image_depth' [N, 1, r, r] (distance along the ray), 'image_mask' [N, 1, r, r]
        (accumulated opacity)}. ``deterministic`` replaces the two random draws of the ray sampler."""
        return self.render_planes(self.planes(ws, noise_mode), ws, c, neural_rendering_resolution, deterministic)

    def sample_mixed(self, coordinates: torch.Tensor, directions: torch.Tensor, ws: torch.Tensor,
                     noise_mode: NoiseMode = "const", **_: object) -> dict[str, torch.Tensor]:
        """Raw density 'sigma' [N, M, 1] (before the softplus) and colour features 'rgb' [N, M, 32] at
        points [N, M, 3]. ``directions`` is accepted for EG3D compatibility; the decoder ignores it."""
        return self.renderer.query(self.planes(ws, noise_mode), self.decoder, coordinates)

    def sample(self, coordinates: torch.Tensor, directions: torch.Tensor, z: torch.Tensor, c: torch.Tensor,
               truncation_psi: float = 1, truncation_cutoff: int | None = None, noise_mode: NoiseMode = "const",
               **_: object) -> dict[str, torch.Tensor]:
        """``sample_mixed`` for latents z [N, z_dim] with camera labels c."""
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.sample_mixed(coordinates, directions, ws, noise_mode)

    def forward(self, z: torch.Tensor, c: torch.Tensor, truncation_psi: float = 1, truncation_cutoff: int | None = None,
                neural_rendering_resolution: int | None = None, noise_mode: NoiseMode = "const",
                deterministic: bool = False, **_: object) -> dict[str, torch.Tensor]:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, c, neural_rendering_resolution, noise_mode, deterministic)
