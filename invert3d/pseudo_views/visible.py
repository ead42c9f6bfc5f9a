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


@dataclass
class _SeenMesh:
    """The mesh as tensors and its z-buffer at the input camera: what the visibility tests compare against."""

    verts: torch.Tensor  # [V, 3] float32
    faces: torch.Tensor  # [F, 3] int64
    cam2world: torch.Tensor  # [4, 4] of the input camera
    intrinsics: torch.Tensor  # [3, 3]
    zbuffer: torch.Tensor  # [H, W] depth at the input camera (inf off the mesh)

    @classmethod
    def of(cls, mesh: Mesh, input_camera: torch.Tensor, size: int) -> _SeenMesh:
        verts = torch.from_numpy(mesh.vertices).float()
        faces = torch.from_numpy(mesh.faces).long()
        c0, k0 = split_label(input_camera.cpu())
        return cls(verts, faces, c0, k0, rasterize(verts, faces, c0, k0, size).depth)

    def seen(self, points: torch.Tensor, tolerance: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Input-view pixels [P, 2] of world points [P, 3] and whether the input view sees them [P] bool."""
        return seen_from(points, self.zbuffer, self.cam2world, self.intrinsics, tolerance)


@torch.no_grad()
def warp_photo(mesh: Mesh, photo: torch.Tensor, input_camera: torch.Tensor, cameras: torch.Tensor,
               tolerance: float) -> VisiblePart:
    """V_i and M_v for cameras [N, 25]: photo [1, 3, H, W] in [-1, 1] seen at input_camera [25]."""
    size = photo.shape[-1]
    photo = photo.float().cpu()
    seen_mesh = _SeenMesh.of(mesh, input_camera, size)
    verts, faces = seen_mesh.verts, seen_mesh.faces
    off_mesh = photo[0][:, ~torch.isfinite(seen_mesh.zbuffer.reshape(size, size))]
    background = off_mesh.median(dim=1).values if off_mesh.shape[1] else torch.ones(3)
    images, masks, silhouettes = [], [], []
    for label in cameras.cpu():
        c, k = split_label(label)
        position, covered = render_vertex_colors(verts, faces, verts, c, k, size)  # [3, H, W] world points
        covered = covered[0] > 0
        points = position.permute(1, 2, 0)[covered]
        pixels, seen = seen_mesh.seen(points, tolerance)
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
    seen_mesh = _SeenMesh.of(mesh, input_camera, photo.shape[-1])
    pixels, seen = seen_mesh.seen(seen_mesh.verts, tolerance)
    colours = torch.zeros(len(seen_mesh.verts), 3)
    colours[seen] = _sample_photo(photo.float().cpu(), pixels[seen])
    return colours, seen
