"""Stage 3, the visible part: the photo's texture carried to other cameras through the coarse mesh.

For each pixel of a pseudo view the rasterizer gives the mesh point it sees; that point is projected into the
input camera, and if the input view's z-buffer shows it (it is not behind other geometry) it takes the photo's
colour there (bilinear). This is the paper's "project the colour mesh" with the texture kept at the photo's own
resolution instead of being resampled onto vertices; ``photo_vertex_colours`` gives the per-vertex variant used
for the textured coarse mesh.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from invert3d.cameras import split_label
from invert3d.geometry import Mesh, rasterize, render_vertex_colors
from invert3d.geometry.raster import seen_from


@dataclass
class VisiblePart:
    image: torch.Tensor  # [N, 3, H, W] in [-1, 1], photo colours where mask, 0 elsewhere
    mask: torch.Tensor  # [N, 1, H, W] in {0, 1}: the pixel sees a mesh point that the input view sees too
    covered: torch.Tensor  # [N, 1, H, W] in {0, 1}: the pixel sees the mesh at all (its silhouette)
    background: torch.Tensor  # [3] in [-1, 1]: the photo's median colour off the mesh at the input view

    def tensors(self) -> dict[str, torch.Tensor]:
        return {"image": self.image, "mask": self.mask, "covered": self.covered, "background": self.background}


def _sample_photo(photo: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
    """photo [1, 3, H, W], pixel coordinates [P, 2] (x, y; centres at i + 0.5) -> colours [P, 3] (bilinear)."""
    size = photo.shape[-1]
    grid = (pixels / size * 2 - 1).view(1, 1, -1, 2)
    return F.grid_sample(photo, grid, mode="bilinear", padding_mode="border", align_corners=False)[0, :, 0].T


@torch.no_grad()
def warp_photo(mesh: Mesh, photo: torch.Tensor, input_camera: torch.Tensor, cameras: torch.Tensor,
               tolerance: float) -> VisiblePart:
    """V_i and M_v for cameras [N, 25]: photo [1, 3, H, W] in [-1, 1] seen at input_camera [25]."""
    size = photo.shape[-1]
    verts = torch.from_numpy(mesh.vertices).float()
    faces = torch.from_numpy(mesh.faces).long()
    photo = photo.float().cpu()
    c0, k0 = split_label(input_camera.cpu())
    zbuffer = rasterize(verts, faces, c0, k0, size).depth
    off_mesh = photo[0][:, ~torch.isfinite(zbuffer.reshape(size, size))]
    background = off_mesh.median(dim=1).values if off_mesh.shape[1] else torch.ones(3)
    images, masks, silhouettes = [], [], []
    for label in cameras.cpu():
        c, k = split_label(label)
        position, covered = render_vertex_colors(verts, faces, verts, c, k, size)  # [3, H, W] world points
        covered = covered[0] > 0
        points = position.permute(1, 2, 0)[covered]
        pixels, seen = seen_from(points, zbuffer, c0, k0, tolerance)
        image = torch.zeros(size, size, 3)
        mask = torch.zeros(size, size)
        colour = torch.zeros(len(points), 3)
        colour[seen] = _sample_photo(photo, pixels[seen])
        image[covered] = colour
        mask[covered] = seen.float()
        images.append(image.permute(2, 0, 1))
        masks.append(mask[None])
        silhouettes.append(covered[None].float())
    return VisiblePart(torch.stack(images), torch.stack(masks), torch.stack(silhouettes), background)


@torch.no_grad()
def photo_vertex_colours(mesh: Mesh, photo: torch.Tensor, input_camera: torch.Tensor, tolerance: float
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-vertex photo colours [V, 3] in [-1, 1] and visibility [V] bool from the input camera (z-buffer test)."""
    size = photo.shape[-1]
    verts = torch.from_numpy(mesh.vertices).float()
    faces = torch.from_numpy(mesh.faces).long()
    c0, k0 = split_label(input_camera.cpu())
    zbuffer = rasterize(verts, faces, c0, k0, size).depth
    pixels, seen = seen_from(verts, zbuffer, c0, k0, tolerance)
    colours = torch.zeros(len(verts), 3)
    colours[seen] = _sample_photo(photo.float().cpu(), pixels[seen])
    return colours, seen
