"""A z-buffer triangle rasterizer in plain torch (CPU or GPU), for visibility tests and mesh rendering.

Cameras follow EG3D's conventions (OpenCV cam2world, intrinsics normalized by the image size). Each triangle's
candidate pixels (the pixel centres inside its screen bounding box) are enumerated at once, tested with edge
functions, and resolved by a depth minimum per pixel; barycentric weights are perspective-correct.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Fragments:
    face: torch.Tensor  # [H, W] int64, -1 where no triangle covers the pixel
    bary: torch.Tensor  # [H, W, 3] perspective-correct barycentric weights (zero on the background)
    depth: torch.Tensor  # [H, W] camera-space z (inf on the background)


def project(vertices: torch.Tensor, cam2world: torch.Tensor, intrinsics: torch.Tensor, resolution: int
            ) -> torch.Tensor:
    """World points [V, 3] -> [V, 3]: pixel x, pixel y (pixel centres at i + 0.5) and camera-space depth z."""
    world2cam = torch.linalg.inv(cam2world)
    cam = vertices @ world2cam[:3, :3].T + world2cam[:3, 3]
    z = cam[:, 2]
    x = (intrinsics[0, 0] * cam[:, 0] / z + intrinsics[0, 1] * cam[:, 1] / z + intrinsics[0, 2]) * resolution
    y = (intrinsics[1, 1] * cam[:, 1] / z + intrinsics[1, 2]) * resolution
    return torch.stack([x, y, z], dim=-1)


@torch.no_grad()
def rasterize(vertices: torch.Tensor, faces: torch.Tensor, cam2world: torch.Tensor, intrinsics: torch.Tensor,
              resolution: int, near: float = 1e-3, max_candidates: int = 1 << 24) -> Fragments:
    """Rasterize triangles (vertices [V, 3] world, faces [F, 3]) seen from one camera at resolution^2 pixels."""
    device = vertices.device
    h = w = resolution
    p = project(vertices.float(), cam2world.float(), intrinsics.float(), resolution)
    tri = p[faces]  # [F, 3, 3]
    valid = (tri[:, :, 2] > near).all(dim=1)
    lo = torch.floor(tri[:, :, :2].amin(dim=1) - 0.5).clamp(min=0)
    hi = torch.ceil(tri[:, :, :2].amax(dim=1) - 0.5).clamp(max=resolution - 1)
    size = (hi - lo + 1).clamp(min=0).long()
    valid &= (size > 0).all(dim=1)
    face_ids = torch.nonzero(valid).squeeze(1)
    counts = size[face_ids, 0] * size[face_ids, 1]
    depth_best = torch.full((h * w,), float("inf"), device=device)
    face_best = torch.full((h * w,), -1, dtype=torch.long, device=device)
    bary_best = torch.zeros(h * w, 3, device=device)
    # Process faces in groups whose candidate count fits the budget.
    cumulative = torch.cumsum(counts, 0)
    start = 0
    while start < len(face_ids):
        base = cumulative[start - 1] if start > 0 else torch.tensor(0, device=device)
        stop = int(torch.searchsorted(cumulative, base + max_candidates, right=True))
        stop = max(stop, start + 1)
        _raster_group(face_ids[start:stop], counts[start:stop], tri, lo, size, resolution,
                      depth_best, face_best, bary_best)
        start = stop
    return Fragments(face_best.view(h, w), bary_best.view(h, w, 3), depth_best.view(h, w))


def _raster_group(face_ids, counts, tri, lo, size, resolution, depth_best, face_best, bary_best) -> None:
    fid = torch.repeat_interleave(face_ids, counts)
    offsets = torch.arange(len(fid), device=fid.device) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts,
                                                                                   counts)
    width = size[fid, 0]
    px = lo[fid, 0] + (offsets % width) + 0.5
    py = lo[fid, 1] + torch.div(offsets, width, rounding_mode="floor") + 0.5
    t = tri[fid]  # [C, 3, 3]
    x0, y0, x1, y1, x2, y2 = t[:, 0, 0], t[:, 0, 1], t[:, 1, 0], t[:, 1, 1], t[:, 2, 0], t[:, 2, 1]
    area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    w0 = ((x1 - px) * (y2 - py) - (x2 - px) * (y1 - py)) / area
    w1 = ((x2 - px) * (y0 - py) - (x0 - px) * (y2 - py)) / area
    w2 = 1 - w0 - w1
    inside = (w0 >= 0) & (w1 >= 0) & (w2 >= 0) & (area.abs() > 1e-12)
    fid, px, py = fid[inside], px[inside], py[inside]
    screen = torch.stack([w0[inside], w1[inside], w2[inside]], dim=-1)
    inv_z = 1 / t[inside][:, :, 2]
    persp = screen * inv_z
    depth = 1 / persp.sum(dim=-1)
    bary = persp * depth[:, None]
    pixel = py.long() * resolution + px.long()
    depth_best.scatter_reduce_(0, pixel, depth, reduce="amin")
    winner = depth <= depth_best[pixel]
    face_best.scatter_(0, pixel[winner], fid[winner])
    # Ties at equal depth: keep the bary of the face that won the scatter.
    won = winner.clone()
    won[winner] = face_best[pixel[winner]] == fid[winner]
    bary_best[pixel[won]] = bary[won]


def seen_from(points: torch.Tensor, zbuffer: torch.Tensor, cam2world: torch.Tensor, intrinsics: torch.Tensor,
              tolerance: float = 5e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """points [P, 3] -> (their pixel coordinates [P, 2] in the camera, seen [P] bool): in front of the camera,
    inside the image, and not behind the z-buffer [H, W] (camera-space z) by more than ``tolerance`` (world units)."""
    size = zbuffer.shape[-1]
    p = project(points.float(), cam2world.float(), intrinsics.float(), size)
    x, y = p[:, 0].floor().long(), p[:, 1].floor().long()
    inside = (x >= 0) & (x < size) & (y >= 0) & (y < size) & (p[:, 2] > 0)
    z = torch.full_like(p[:, 2], float("inf"))
    z[inside] = zbuffer[y[inside], x[inside]]
    return p[:, :2], inside & (p[:, 2] <= z + tolerance)


def vertex_visibility(vertices: torch.Tensor, faces: torch.Tensor, cam2world: torch.Tensor,
                      intrinsics: torch.Tensor, resolution: int, tolerance: float = 5e-3) -> torch.Tensor:
    """[V] bool: the vertex lies in front of the camera, inside the image, and no triangle in the z-buffer is
    closer than its own depth minus ``tolerance`` (world units) at its pixel."""
    zbuffer = rasterize(vertices, faces, cam2world, intrinsics, resolution).depth
    return seen_from(vertices, zbuffer, cam2world, intrinsics, tolerance)[1]


def render_vertex_colors(vertices: torch.Tensor, faces: torch.Tensor, colors: torch.Tensor, cam2world: torch.Tensor,
                         intrinsics: torch.Tensor, resolution: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Image [C, H, W] interpolating per-vertex values colors [V, C], and the coverage mask [1, H, W]."""
    frags = rasterize(vertices, faces, cam2world, intrinsics, resolution)
    covered = frags.face >= 0
    image = torch.zeros(resolution, resolution, colors.shape[1], dtype=colors.dtype, device=colors.device)
    f = faces[frags.face[covered]]  # [P, 3]
    image[covered] = (colors[f] * frags.bary[covered][..., None]).sum(dim=1)
    return image.permute(2, 0, 1), covered[None].to(colors.dtype)
