"""Neural volume rendering of a triplane field: rays, triplane lookup, the decoder MLP, importance sampling and
alpha compositing (EG3D's ``RaySampler``, ``ImportanceRenderer``, ``OSGDecoder`` and ``MipRayMarcher2``).

Conventions: points are world coordinates in the EG3D frame; the triplane box is [-box_warp/2, box_warp/2]^3.
Colours leave the decoder in (-0.001, 1.001) and are composited to [-1, 1]. Depth is distance along the ray.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from invert3d.generator.config import RenderingConfig
from invert3d.generator.stylegan2 import FullyConnectedLayer


def camera_rays(cam2world: torch.Tensor, intrinsics: torch.Tensor, resolution: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rays through pixel centres. cam2world [N, 4, 4], normalized intrinsics [N, 3, 3] -> origins, unit
    directions, each [N, R*R, 3], pixels in row-major order (OpenCV camera: x right, y down, z forward)."""
    n = cam2world.shape[0]
    device = cam2world.device
    fx, fy = intrinsics[:, 0, 0, None], intrinsics[:, 1, 1, None]
    cx, cy = intrinsics[:, 0, 2, None], intrinsics[:, 1, 2, None]
    sk = intrinsics[:, 0, 1, None]
    centres = torch.arange(resolution, dtype=torch.float32, device=device) * (1.0 / resolution) + (0.5 / resolution)
    v, u = torch.meshgrid(centres, centres, indexing="ij")
    u = u.reshape(1, -1)
    v = v.reshape(1, -1)
    x_lift = (u - cx + cy * sk / fy - sk * v / fy) / fx
    y_lift = (v - cy) / fy
    ones = torch.ones_like(x_lift.expand(n, -1))
    cam_points = torch.stack((x_lift.expand(n, -1), y_lift.expand(n, -1), ones, ones), dim=-1)  # [N, M, 4]
    world_points = torch.bmm(cam2world, cam_points.permute(0, 2, 1)).permute(0, 2, 1)[:, :, :3]
    origins = cam2world[:, None, :3, 3]
    directions = F.normalize(world_points - origins, dim=2)
    return origins.expand(-1, directions.shape[1], -1), directions


# The three planes' (u, v) axes. EG3D's third plane reads (z, x), not (y, z); trained models depend on it.
PLANE_AXES = ((0, 1), (0, 2), (2, 0))


def sample_triplanes(planes: torch.Tensor, coordinates: torch.Tensor, box_warp: float) -> torch.Tensor:
    """Bilinear lookup of planes [N, 3, C, H, W] at points [N, M, 3] -> features [N, 3, M, C] (zero outside)."""
    n, n_planes, c, h, w = planes.shape
    m = coordinates.shape[1]
    coordinates = (2 / box_warp) * coordinates
    grid = torch.stack([coordinates[..., list(axes)] for axes in PLANE_AXES], dim=1)  # [N, 3, M, 2]
    grid = grid.reshape(n * n_planes, 1, m, 2)
    out = F.grid_sample(planes.reshape(n * n_planes, c, h, w), grid.to(planes.dtype), mode="bilinear",
                        padding_mode="zeros", align_corners=False)  # [N*3, C, 1, M]
    return out.permute(0, 3, 2, 1).reshape(n, n_planes, m, c)


class TriplaneDecoder(nn.Module):
    """Small MLP on plane-averaged features [N, 3, M, C] -> {'sigma' [N, M, 1] raw density, 'rgb' [N, M, F]}."""

    def __init__(self, in_features: int = 32, hidden: int = 64, out_features: int = 32, lr_multiplier: float = 1.0):
        super().__init__()
        self.net = nn.Sequential(
            FullyConnectedLayer(in_features, hidden, lr_multiplier=lr_multiplier),
            nn.Softplus(),
            FullyConnectedLayer(hidden, 1 + out_features, lr_multiplier=lr_multiplier),
        )

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        x = features.mean(1)
        n, m, c = x.shape
        x = self.net(x.reshape(n * m, c)).reshape(n, m, -1)
        rgb = torch.sigmoid(x[..., 1:]) * (1 + 2 * 0.001) - 0.001
        return {"rgb": rgb, "sigma": x[..., 0:1]}


def composite(colors: torch.Tensor, densities: torch.Tensor, depths: torch.Tensor, white_back: bool = False
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mip-NeRF style compositing over interval midpoints.

    colors [N, R, S, F], densities [N, R, S, 1] (raw), depths [N, R, S, 1] sorted along S ->
    rgb [N, R, F] in [-1, 1], depth [N, R, 1] clamped to the sampled range, weights [N, R, S-1, 1].
    """
    deltas = depths[:, :, 1:] - depths[:, :, :-1]
    colors_mid = (colors[:, :, :-1] + colors[:, :, 1:]) / 2
    densities_mid = F.softplus((densities[:, :, :-1] + densities[:, :, 1:]) / 2 - 1)
    depths_mid = (depths[:, :, :-1] + depths[:, :, 1:]) / 2
    alpha = 1 - torch.exp(-densities_mid * deltas)
    transmittance = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :, :1]), 1 - alpha + 1e-10], -2), -2)[:, :, :-1]
    weights = alpha * transmittance
    rgb = torch.sum(weights * colors_mid, -2)
    weight_total = weights.sum(2)
    depth = torch.sum(weights * depths_mid, -2) / weight_total
    depth = torch.nan_to_num(depth, float("inf")).clamp(torch.min(depths), torch.max(depths))
    if white_back:
        rgb = rgb + 1 - weight_total
    return rgb * 2 - 1, depth, weights


def stratified_depths(n: int, m: int, cfg: RenderingConfig, device: torch.device, deterministic: bool) -> torch.Tensor:
    """Coarse depths [N, M, S, 1]: S bins over [ray_start, ray_end] (uniform in depth, or in inverse depth with
    disparity sampling), each jittered by U(0, 1) of a bin, or by exactly half a bin if deterministic."""
    s = cfg.depth_resolution
    start, end = (0.0, 1.0) if cfg.disparity_space_sampling else (cfg.ray_start, cfg.ray_end)
    depths = torch.linspace(start, end, s, device=device).reshape(1, 1, s, 1).repeat(n, m, 1, 1)
    jitter = torch.full_like(depths, 0.5) if deterministic else torch.rand_like(depths)
    depths = depths + jitter * ((end - start) / (s - 1))
    if cfg.disparity_space_sampling:
        depths = 1.0 / (1.0 / cfg.ray_start * (1.0 - depths) + 1.0 / cfg.ray_end * depths)
    return depths


@torch.no_grad()
def importance_depths(depths: torch.Tensor, weights: torch.Tensor, count: int, deterministic: bool,
                      eps: float = 1e-5) -> torch.Tensor:
    """Fine depths [N, M, count, 1] by inverse-CDF sampling of the (max-then-average smoothed) coarse weights.

    depths [N, M, S, 1]; weights [N, M, S-1, 1]. Deterministic mode uses u = linspace(0, 1, count).
    """
    n, m, s, _ = depths.shape
    z = depths.reshape(n * m, s)
    w = weights.reshape(n * m, 1, -1).float()
    w = F.avg_pool1d(F.max_pool1d(w, 2, 1, padding=1), 2, 1).squeeze(1) + 0.01
    bins = 0.5 * (z[:, :-1] + z[:, 1:])
    w = w[:, 1:-1] + eps
    pdf = w / w.sum(-1, keepdim=True)
    cdf = torch.cat([torch.zeros_like(pdf[:, :1]), torch.cumsum(pdf, -1)], -1)
    if deterministic:
        u = torch.linspace(0, 1, count, device=depths.device).expand(n * m, count).contiguous()
    else:
        u = torch.rand(n * m, count, device=depths.device)
    idx = torch.searchsorted(cdf, u, right=True)
    below = torch.clamp_min(idx - 1, 0)
    above = torch.clamp_max(idx, w.shape[1])
    pair = torch.stack([below, above], -1).view(n * m, 2 * count)
    cdf_g = torch.gather(cdf, 1, pair).view(n * m, count, 2)
    bins_g = torch.gather(bins, 1, pair).view(n * m, count, 2)
    denom = cdf_g[..., 1] - cdf_g[..., 0]
    denom = torch.where(denom < eps, torch.ones_like(denom), denom)
    samples = bins_g[..., 0] + (u - cdf_g[..., 0]) / denom * (bins_g[..., 1] - bins_g[..., 0])
    return samples.reshape(n, m, count, 1)


class ImportanceRenderer(nn.Module):
    """Two-pass volume renderer: coarse stratified samples, then importance samples merged in depth order."""

    def __init__(self, cfg: RenderingConfig):
        super().__init__()
        self.cfg = cfg

    def query(self, planes: torch.Tensor, decoder: TriplaneDecoder, coordinates: torch.Tensor) -> dict[str, torch.Tensor]:
        """Raw density and colour features at points [N, M, 3]."""
        return decoder(sample_triplanes(planes, coordinates, self.cfg.box_warp))

    def _shade(self, planes, decoder, origins, directions, depths):
        n, m, s, _ = depths.shape
        points = (origins.unsqueeze(-2) + depths * directions.unsqueeze(-2)).reshape(n, -1, 3)
        out = self.query(planes, decoder, points)
        return out["rgb"].reshape(n, m, s, -1), out["sigma"].reshape(n, m, s, 1)

    def forward(self, planes: torch.Tensor, decoder: TriplaneDecoder, origins: torch.Tensor,
                directions: torch.Tensor, deterministic: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """planes [N, 3, C, H, W], rays [N, M, 3] -> features [N, M, F], depth [N, M, 1], opacity [N, M, 1]."""
        cfg = self.cfg
        n, m, _ = origins.shape
        depths = stratified_depths(n, m, cfg, origins.device, deterministic)
        colors, densities = self._shade(planes, decoder, origins, directions, depths)
        if cfg.depth_resolution_importance > 0:
            _, _, weights = composite(colors, densities, depths, cfg.white_back)
            fine = importance_depths(depths, weights, cfg.depth_resolution_importance, deterministic)
            colors_fine, densities_fine = self._shade(planes, decoder, origins, directions, fine)
            depths = torch.cat([depths, fine], dim=-2)
            order = torch.sort(depths, dim=-2).indices
            depths = torch.gather(depths, -2, order)
            colors = torch.gather(torch.cat([colors, colors_fine], -2), -2, order.expand(-1, -1, -1, colors.shape[-1]))
            densities = torch.gather(torch.cat([densities, densities_fine], -2), -2, order)
        rgb, depth, weights = composite(colors, densities, depths, cfg.white_back)
        return rgb, depth, weights.sum(2)
