"""Neural volume rendering of a triplane field: triplane lookup, the decoder MLP, importance sampling and
alpha compositing (EG3D's ``RaySampler``, ``ImportanceRenderer``, ``OSGDecoder`` and ``MipRayMarcher2``).

Conventions: points are world coordinates in the EG3D frame; the triplane box is [-box_warp/2, box_warp/2]^3.
Colours leave the decoder in (-0.001, 1.001) and are composited to [-1, 1]. Depth is distance along the ray.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from invert3d.generator.config import PLANE_AXES, RenderingConfig
from invert3d.generator.stylegan2 import FullyConnectedLayer


def triplane_features(planes: torch.Tensor, coordinates: torch.Tensor, box_warp: float,
                      plane_axes: str = "eg3d") -> torch.Tensor:
    """Features at points [N, M, 3] from planes [N, 3, C, H, W], averaged over the planes -> [N, M, C].

    Bilinear with zero padding and ``align_corners=False`` (``grid_sample``'s convention, as EG3D uses), done
    as one weighted ``embedding_bag`` over the 12 texels a point touches. The planes are laid out channels-last
    with a one-texel zero border, so corners outside a plane read zeros and need no masks; whole rows of C
    values are read at a time, several times faster on the CPU than ``grid_sample`` on channel-first planes.
    """
    n, n_planes, c, h, w = planes.shape
    m = coordinates.shape[1]
    table = F.pad(planes, (1, 1, 1, 1)).permute(0, 1, 3, 4, 2).reshape(n * n_planes * (h + 2) * (w + 2), c)
    uv = coordinates[..., [axis for axes in PLANE_AXES[plane_axes] for axis in axes]].view(n, m, n_planes, 2)
    size = uv.new_tensor([w, h])
    # Texel coordinates (texel centres at integers): ((2 uv / box_warp + 1) * size - 1) / 2, kept within the
    # border so that both corners of every point exist in the padded table.
    pix = torch.addcmul((size - 1) / 2, uv, size / box_warp)
    pix = torch.minimum(pix.clamp_min(-1.0), size)
    lo = torch.minimum(pix.floor(), size - 1)
    frac = pix - lo
    corner = (lo + 1).to(torch.int64)  # padded coordinates of the lower corner
    row = w + 2
    base = (torch.arange(n * n_planes, device=planes.device).view(n, 1, n_planes) * ((h + 2) * row)
            + corner[..., 1] * row + corner[..., 0])  # [N, M, 3]
    index = base.unsqueeze(-1) + torch.tensor(_corner_offsets(row), device=planes.device)  # [N, M, 3, 4]
    fx, fy = frac[..., 0:1], frac[..., 1:2]
    weights = torch.cat([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy], -1) * (1.0 / n_planes)
    index = index.reshape(n * m, 4 * n_planes)
    weights = weights.reshape(n * m, 4 * n_planes).to(table.dtype)
    if weights.requires_grad or not table.is_cpu:  # gradients toward the points too, or a GPU: the generic op
        out = F.embedding_bag(index, table, per_sample_weights=weights, mode="sum")
    else:
        out = _WeightedGather.apply(table, index, weights, base.reshape(n * m, n_planes), row)
    return out.view(n, m, c)


def _corner_offsets(row: int) -> tuple[int, int, int, int]:
    """Table-row offsets of a texel's 2x2 neighbourhood from its lower corner, in planes ``row`` texels wide."""
    return 0, 1, row, row + 1


class _WeightedGather(torch.autograd.Function):
    """out[m] = sum_k weights[m, k] * table[index[m, k]], the k running over the 2x2 corners (in
    ``_corner_offsets`` order from ``lower`` [M, P], the lower corners' rows) of P planes; gradients flow to
    ``table`` only.

    ``embedding_bag``'s own backward sorts all indices first, 3x slower on the CPU than accumulating directly.
    This backward adds each point's four weighted gradients of a plane as one 4C-wide row at the lower corner
    (one ``index_add_`` per chunk of points into a preallocated buffer), then shifts the four C-wide blocks onto
    their corners: 2x faster again than one C-wide row per corner.
    """

    CHUNK = 8192  # points per scatter step: the CHUNK * K * C buffer (12 MB) stays near the caches

    @staticmethod
    def forward(ctx, table: torch.Tensor, index: torch.Tensor, weights: torch.Tensor, lower: torch.Tensor,
                row: int) -> torch.Tensor:
        ctx.save_for_backward(lower, weights)
        ctx.table_shape, ctx.row = table.shape, row
        return F.embedding_bag(index, table, per_sample_weights=weights, mode="sum")

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        lower, weights = ctx.saved_tensors  # [M, P], [M, 4P]
        rows, c = ctx.table_shape
        m, k = weights.shape
        grad4 = grad_out.new_zeros(rows, 4 * c)  # row r: the gradients of r's 2x2 neighbourhood, corner by corner
        chunk = min(_WeightedGather.CHUNK, m)
        buffer = grad_out.new_empty(chunk, k, c)
        for start in range(0, m, chunk):
            n = min(chunk, m - start)
            contrib = torch.mul(weights[start:start + n, :, None], grad_out[start:start + n, None, :],
                                out=buffer[:n])
            grad4.index_add_(0, lower[start:start + n].reshape(-1), contrib.view(-1, 4 * c))
        grad4 = grad4.view(rows, 4, c)
        grad_table = grad4[:, 0].clone()
        for corner, offset in enumerate(_corner_offsets(ctx.row)[1:], 1):
            grad_table[offset:] += grad4[:rows - offset, corner]
        return grad_table, None, None, None, None


class TriplaneDecoder(nn.Module):
    """Small MLP on plane-averaged features [N, M, C] -> {'sigma' [N, M, 1] raw density, 'rgb' [N, M, F]}."""

    def __init__(self, in_features: int = 32, hidden: int = 64, out_features: int = 32, lr_multiplier: float = 1.0):
        super().__init__()
        self.net = nn.Sequential(
            FullyConnectedLayer(in_features, hidden, lr_multiplier=lr_multiplier),
            nn.Softplus(),
            FullyConnectedLayer(hidden, 1 + out_features, lr_multiplier=lr_multiplier),
        )

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        n, m, c = features.shape
        x = self.net(features.reshape(n * m, c)).reshape(n, m, -1)
        sigma, rgb = x.split([1, x.shape[-1] - 1], dim=-1)  # split, not slices: one gradient, not two zero-padded
        return {"rgb": torch.sigmoid(rgb) * (1 + 2 * 0.001) - 0.001, "sigma": sigma}


def interval_weights(densities: torch.Tensor, depths: torch.Tensor) -> torch.Tensor:
    """Mip-NeRF compositing weights of the S-1 intervals between sorted samples.

    densities [N, R, S, 1] raw (softplus(x - 1) is the activation), depths [N, R, S, 1] -> [N, R, S-1, 1].
    """
    deltas = depths[:, :, 1:] - depths[:, :, :-1]
    densities_mid = F.softplus((densities[:, :, :-1] + densities[:, :, 1:]) / 2 - 1)
    alpha = 1 - torch.exp(-densities_mid * deltas)
    transmittance = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :, :1]), 1 - alpha + 1e-10], -2), -2)
    return alpha * transmittance[:, :, :-1]


def composite_depth(weights: torch.Tensor, depths: torch.Tensor) -> torch.Tensor:
    """Expected depth over interval midpoints [N, R, 1], clamped to the sampled range (inf-safe)."""
    depths_mid = (depths[:, :, :-1] + depths[:, :, 1:]) / 2
    total = weights.sum(2)
    # EG3D divides unguarded and maps the 0/0 of empty rays to +inf; the same values, without the 0 * inf that
    # would poison the gradients of empty rays.
    hit = total > 0
    depth = torch.sum(weights * depths_mid, -2) / torch.where(hit, total, torch.ones_like(total))
    depth = torch.where(hit, depth, torch.full_like(depth, float("inf")))
    return depth.clamp(torch.min(depths), torch.max(depths))


def sample_color_weights(weights: torch.Tensor) -> torch.Tensor:
    """Interval weights [N, R, S-1, 1] -> per-sample colour weights [N, R, S, 1].

    An interval's colour is the mean of its two end samples, so sample j gets half of each adjacent weight.
    """
    return (F.pad(weights, (0, 0, 1, 0)) + F.pad(weights, (0, 0, 0, 1))) / 2


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


def _weighted_sum(weights: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """sum_s weights[n, r, s, 0] * values[n, r, s, :] -> [N, R, F], as one batched matrix product."""
    n, r, s, f = values.shape
    return torch.bmm(weights.reshape(n * r, 1, s), values.reshape(n * r, s, f)).reshape(n, r, f)


class ImportanceRenderer(nn.Module):
    """Two-pass volume renderer: coarse stratified samples, then importance samples merged in depth order."""

    def __init__(self, cfg: RenderingConfig):
        super().__init__()
        self.cfg = cfg

    def query(self, planes: torch.Tensor, decoder: TriplaneDecoder, coordinates: torch.Tensor) -> dict[str, torch.Tensor]:
        """Raw density and colour features at points [N, M, 3]."""
        return decoder(triplane_features(planes, coordinates, self.cfg.box_warp, self.cfg.plane_axes))

    def _shade(self, planes, decoder, origins, directions, depths):
        n, m, s, _ = depths.shape
        points = (origins.unsqueeze(-2) + depths * directions.unsqueeze(-2)).reshape(n, -1, 3)
        out = self.query(planes, decoder, points)
        return out["rgb"].reshape(n, m, s, -1), out["sigma"].reshape(n, m, s, 1)

    def forward(self, planes: torch.Tensor, decoder: TriplaneDecoder, origins: torch.Tensor,
                directions: torch.Tensor, deterministic: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """planes [N, 3, C, H, W], rays [N, M, 3] -> features [N, M, F] in [-1, 1], depth [N, M, 1],
        opacity [N, M, 1].

        Colours are never sorted: the compositing weights are computed in depth order and scattered back to
        the samples, so only one channel is gathered instead of F.
        """
        cfg = self.cfg
        n, m, _ = origins.shape
        depths = stratified_depths(n, m, cfg, origins.device, deterministic)
        colors, densities = self._shade(planes, decoder, origins, directions, depths)
        if cfg.depth_resolution_importance > 0:
            with torch.no_grad():
                coarse_weights = interval_weights(densities, depths)
            fine = importance_depths(depths, coarse_weights, cfg.depth_resolution_importance, deterministic)
            colors_fine, densities_fine = self._shade(planes, decoder, origins, directions, fine)
            depths = torch.cat([depths, fine], dim=-2)
            order = torch.sort(depths, dim=-2).indices
            depths = torch.gather(depths, -2, order)
            densities = torch.gather(torch.cat([densities, densities_fine], -2), -2, order)
        weights = interval_weights(densities, depths)
        sample_weights = sample_color_weights(weights)
        if cfg.depth_resolution_importance > 0:
            sample_weights = torch.zeros_like(sample_weights).scatter(-2, order, sample_weights)
            coarse_count = cfg.depth_resolution
            rgb = (_weighted_sum(sample_weights[:, :, :coarse_count], colors)
                   + _weighted_sum(sample_weights[:, :, coarse_count:], colors_fine))
        else:
            rgb = _weighted_sum(sample_weights, colors)
        opacity = weights.sum(2)
        if cfg.white_back:
            rgb = rgb + 1 - opacity
        return rgb * 2 - 1, composite_depth(weights, depths), opacity
