"""Geometry metrics against synthetic ground truth: silhouettes, depth maps, meshes."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from invert3d.geometry import Mesh


def mask_iou(a: torch.Tensor, b: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Intersection over union of foreground masks [N, 1, H, W] (soft masks are cut at ``threshold``) -> [N]."""
    fa, fb = a > threshold, b > threshold
    inter = (fa & fb).flatten(1).sum(1).float()
    union = (fa | fb).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union))


def silhouette_band(coverage: torch.Tensor, radius: int = 2) -> torch.Tensor:
    """Pixels within ``radius`` pixels of the silhouette of coverage maps [..., H, W] (cut at 0.5) -> bool, same
    shape."""
    fg = (coverage > 0.5).float().reshape(-1, 1, *coverage.shape[-2:])
    grown = F.max_pool2d(fg, 2 * radius + 1, 1, radius)
    shrunk = -F.max_pool2d(-fg, 2 * radius + 1, 1, radius)
    return (grown != shrunk).reshape(coverage.shape)


def render_vs_truth(opacity: torch.Tensor, depth: torch.Tensor, truth_mask: torch.Tensor, truth_depth: torch.Tensor,
                    camera_distance: float) -> tuple[float, float]:
    """Silhouette IoU and median relative depth error of one generator render against a truth render.

    opacity, depth [1, r, r] (accumulated opacity, ray distance) at the neural rendering resolution; truth_mask,
    truth_depth [1, R, R] with R a multiple of r, area-pooled to r (depth averaged over the foreground). Depth is
    compared where both are foreground and the truth pixel is fully covered, and divided by ``camera_distance``;
    NaN where there is no such pixel.
    """
    factor = truth_mask.shape[-1] // opacity.shape[-1]
    coverage = F.avg_pool2d(truth_mask[None].float(), factor)[0]
    true_depth = F.avg_pool2d((truth_depth * truth_mask)[None], factor)[0] / coverage.clamp_min(1e-6)
    fg_true, fg = coverage >= 0.5, opacity >= 0.5
    iou = float(mask_iou(fg[None].float(), fg_true[None].float())[0])
    both = fg & fg_true & (coverage > 0.99)
    if not both.any():
        return iou, float("nan")
    return iou, float((depth - true_depth).abs()[both].median()) / camera_distance


def sample_surface(mesh: Mesh, count: int, seed: int = 0) -> np.ndarray:
    """``count`` points [count, 3] uniformly distributed over the mesh's area."""
    rng = np.random.default_rng(seed)
    tri = mesh.vertices[mesh.faces].astype(np.float64)  # [F, 3, 3]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    faces = rng.choice(len(tri), size=count, p=area / area.sum())
    u, v = rng.random(count), rng.random(count)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    t = tri[faces]
    return t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + v[:, None] * (t[:, 2] - t[:, 0])


def chamfer_distance(a: Mesh, b: Mesh, count: int = 30_000, seed: int = 0) -> float:
    """Symmetric Chamfer distance (world units): the mean distance from points on each surface to the nearest
    point on the other, averaged over both directions."""
    from scipy.spatial import cKDTree

    pa, pb = sample_surface(a, count, seed), sample_surface(b, count, seed + 1)
    da, _ = cKDTree(pb).query(pa)
    db, _ = cKDTree(pa).query(pb)
    return float((da.mean() + db.mean()) / 2)
