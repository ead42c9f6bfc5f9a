"""Meshes of a scene's density field: the coarse geometry of stage 2, and the result's mesh.

The scene's density is sampled on a grid over the triplane box and meshed by marching cubes; the largest
component is kept. EG3D's own shape export uses raw sigma level 10, but the level at which the volume renderer's
surface sits depends on the model, so by default the level is chosen among candidates (fixed levels, or quantiles
of the sampled volume when none of those cuts it) as the one whose mesh, rasterized at the input camera, best
matches the depth the generator renders there.
"""

from __future__ import annotations

import numpy as np
import torch

from invert3d.cameras import split_label
from invert3d.geometry import Mesh, mesh_from_volume, render_vertex_colors, sample_grid
from invert3d.scene.scene import Scene

LEVEL_CANDIDATES = (0.0, 2.5, 5.0, 10.0, 20.0, 40.0)  # raw sigma (density = softplus(sigma - 1))
QUANTILE_CANDIDATES = (0.6, 0.8, 0.9, 0.97)  # fallback: levels at these quantiles of the volume
MISSING_PENALTY = 0.1  # world units charged to a pixel covered by only one of render and mesh


@torch.no_grad()
def density_volume(scene: Scene, resolution: int) -> tuple[np.ndarray, float]:
    """Raw sigma [R, R, R] of the scene on a grid over the triplane box, and the box half-side."""
    planes = scene.planes()
    half = scene.G.cfg.rendering.box_warp / 2
    return sample_grid(lambda points: scene.query(points, planes)["sigma"], resolution, half, chunk=65536), half


@torch.no_grad()
def _depth_error(mesh: Mesh, depth: torch.Tensor, coverage: torch.Tensor, camera: torch.Tensor) -> float:
    """Mean ray-distance disagreement between a mesh and a rendered depth [r, r] / coverage [r, r] bool."""
    c2w, k = split_label(camera.cpu())
    verts = torch.from_numpy(mesh.vertices)
    position, covered = render_vertex_colors(verts, torch.from_numpy(mesh.faces), verts, c2w, k, depth.shape[-1])
    mesh_depth = (position.permute(1, 2, 0) - c2w[:3, 3]).norm(dim=-1)
    covered = covered[0] > 0
    both = covered & coverage
    error = torch.where(both, (mesh_depth - depth).abs(), torch.full_like(depth, MISSING_PENALTY))
    union = covered | coverage
    return float(error[union].mean()) if union.any() else float("inf")


@torch.no_grad()
def density_mesh(scene: Scene, camera: torch.Tensor, resolution: int, level: float | None = None
                 ) -> tuple[Mesh, float]:
    """Mesh (largest component) of the scene's density and the level used; ``level=None`` picks it by depth
    agreement with the render at ``camera`` [25]."""
    volume, half = density_volume(scene, resolution)
    if level is not None:
        return mesh_from_volume(volume, half, level, inside_is_greater=True, largest_component=True), level
    out = scene.render(camera)
    depth, coverage = out["image_depth"][0, 0].cpu(), out["image_mask"][0, 0].cpu() > 0.5
    best: tuple[float, Mesh, float] | None = None
    candidates = [c for c in LEVEL_CANDIDATES if volume.min() < c < volume.max()]
    if not candidates:  # e.g. an untrained generator: its density never reaches the usual levels
        candidates = sorted({round(float(q), 3) for q in np.quantile(volume, QUANTILE_CANDIDATES)})
    for candidate in candidates:
        if not volume.min() < candidate < volume.max():
            continue
        mesh = mesh_from_volume(volume, half, candidate, inside_is_greater=True, largest_component=True)
        error = _depth_error(mesh, depth, coverage, camera)
        if best is None or error < best[0]:
            best = (error, mesh, candidate)
    if best is None:
        raise ValueError("the latent's density field has no surface inside the box")
    return best[1], best[2]
