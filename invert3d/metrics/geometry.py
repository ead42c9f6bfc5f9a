"""Geometry metrics against synthetic ground truth: silhouettes, depth maps, meshes."""

from __future__ import annotations

import numpy as np
import torch

from invert3d.geometry import Mesh


def mask_iou(a: torch.Tensor, b: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Intersection over union of foreground masks [N, 1, H, W] (soft masks are cut at ``threshold``) -> [N]."""
    fa, fb = a > threshold, b > threshold
    inter = (fa & fb).flatten(1).sum(1).float()
    union = (fa | fb).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union))


def depth_error(depth: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Median absolute depth difference [N] over the pixels where ``mask`` [N, 1, H, W] is set (world units);
    NaN where the mask is empty."""
    out = []
    for d, t, m in zip(depth, truth, mask):
        sel = m > 0.5
        out.append((d[sel] - t[sel]).abs().median() if sel.any() else torch.tensor(float("nan")))
    return torch.stack(out)


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
