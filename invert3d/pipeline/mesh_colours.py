"""The result's mesh in the result's own colours: each vertex takes what the final renders (super-resolved, from
several cameras) show at it, weighted toward the views that face it; vertices no view sees take the colour of
the nearest vertex that one does."""

from __future__ import annotations

import numpy as np
import torch

from invert3d.cameras import split_label
from invert3d.geometry import Mesh
from invert3d.media import unit_to_uint8
from invert3d.pseudo_views import photo_vertex_colours


def vertex_normals(mesh: Mesh) -> torch.Tensor:
    """Unit area-weighted vertex normals [V, 3]."""
    v = torch.from_numpy(mesh.vertices).double()
    f = torch.from_numpy(mesh.faces)
    face_normals = torch.linalg.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    normals = torch.zeros_like(v).index_add_(0, f.reshape(-1), face_normals.repeat_interleave(3, dim=0))
    return torch.nn.functional.normalize(normals, dim=1).float()


@torch.no_grad()
def render_colours(mesh: Mesh, labels: torch.Tensor, images: torch.Tensor, tolerance: float) -> np.ndarray:
    """Vertex colours [V, 3] uint8 of ``mesh`` from renders images [K, 3, H, W] (in [-1, 1]) at cameras labels
    [K, 25]: each view's colour at the vertices it sees (z-buffer test with ``tolerance``, world units), weighted
    by cos^2 of the angle between the vertex normal and the way to the camera."""
    verts = torch.from_numpy(mesh.vertices).float()
    normals = vertex_normals(mesh)
    total, weight = torch.zeros(len(verts), 3), torch.zeros(len(verts))
    for label, image in zip(labels.cpu(), images.float().cpu()):
        colours, seen = photo_vertex_colours(mesh, image[None], label, tolerance)
        to_camera = torch.nn.functional.normalize(split_label(label)[0][:3, 3] - verts, dim=1)
        w = (normals * to_camera).sum(dim=1).square() * seen  # orientation-free: occlusion is the z-buffer's
        total += w[:, None] * colours
        weight += w
    seen = weight > 0
    colour = torch.zeros(len(verts), 3)
    colour[seen] = total[seen] / weight[seen, None]
    if seen.any() and not seen.all():
        from scipy.spatial import cKDTree

        _, nearest = cKDTree(mesh.vertices[seen.numpy()]).query(mesh.vertices[~seen.numpy()])
        colour[~seen] = colour[seen][torch.from_numpy(nearest)]
    return unit_to_uint8((colour + 1) / 2).numpy()
