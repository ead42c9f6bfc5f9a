"""Triangle meshes from implicit fields sampled on a regular grid (scikit-image marching cubes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch


@dataclass
class Mesh:
    vertices: np.ndarray  # [V, 3] float32, world units
    faces: np.ndarray  # [F, 3] int64, counter-clockwise seen from outside
    colors: np.ndarray | None = None  # [V, 3] uint8


def grid_points(resolution: int, half: float) -> torch.Tensor:
    """Points of a resolution^3 grid over [-half, half]^3 -> [R^3, 3], ordered so that reshaping values to
    [R, R, R] gives volume[i, j, k] at (x_i, y_j, z_k), the layout marching cubes expects."""
    axis = torch.linspace(-half, half, resolution)
    gx, gy, gz = torch.meshgrid(axis, axis, axis, indexing="ij")
    return torch.stack([gx, gy, gz], dim=-1).reshape(-1, 3)


@torch.no_grad()
def sample_grid(field: Callable[[torch.Tensor], torch.Tensor], resolution: int, half: float,
                chunk: int = 262144) -> np.ndarray:
    """Values [R, R, R] of ``field`` (points [P, 3] -> values [P]) on ``grid_points(resolution, half)``."""
    points = grid_points(resolution, half)
    values = torch.cat([field(points[i:i + chunk]).reshape(-1).float().cpu() for i in range(0, len(points), chunk)])
    return values.reshape(resolution, resolution, resolution).numpy()


def mesh_from_volume(volume: np.ndarray, half: float, level: float = 0.0, inside_is_greater: bool = False,
                     largest_component: bool = False) -> Mesh:
    """Iso-surface at ``level`` of a volume [R, R, R] sampled over the box [-half, half]^3 (marching cubes).

    ``inside_is_greater`` is True for densities (inside = high), False for signed distances. The grid border is
    forced outside so the surface is always closed.
    """
    from skimage.measure import marching_cubes

    volume = -volume if inside_is_greater else volume.copy()
    level = -level if inside_is_greater else level
    outside = level + 1.0
    volume[[0, -1], :, :] = outside
    volume[:, [0, -1], :] = outside
    volume[:, :, [0, -1]] = outside
    if volume.min() >= level:
        raise ValueError("the field has no surface inside the box at this level")
    resolution = volume.shape[0]
    spacing = (2 * half / (resolution - 1),) * 3
    verts, faces, _, _ = marching_cubes(volume, level=level, spacing=spacing)
    mesh = Mesh((verts - half).astype(np.float32), faces.astype(np.int64))
    return keep_largest_component(mesh) if largest_component else mesh


def extract_mesh(field: Callable[[torch.Tensor], torch.Tensor], resolution: int = 192, half: float = 0.5,
                 level: float = 0.0, inside_is_greater: bool = False, largest_component: bool = False) -> Mesh:
    """Iso-surface of ``field`` (points [P, 3] -> values [P]) at ``level`` over the box [-half, half]^3."""
    return mesh_from_volume(sample_grid(field, resolution, half), half, level, inside_is_greater, largest_component)


def keep_largest_component(mesh: Mesh) -> Mesh:
    """Drop every connected component but the one with the most faces."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    f = mesh.faces
    n = len(mesh.vertices)
    edges = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    face_labels = labels[f[:, 0]]
    keep_label = np.bincount(face_labels).argmax()
    keep_faces = f[face_labels == keep_label]
    used = np.unique(keep_faces)
    remap = -np.ones(n, dtype=np.int64)
    remap[used] = np.arange(len(used))
    colors = None if mesh.colors is None else mesh.colors[used]
    return Mesh(mesh.vertices[used], remap[keep_faces], colors)
