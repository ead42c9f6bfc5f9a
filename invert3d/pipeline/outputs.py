"""What an inversion leaves in its folder: images, contact sheet, novel views, orbit video, meshes, latent and
tuned generator."""

from __future__ import annotations

import numpy as np
import torch

from invert3d.geometry import Mesh, write_ply
from invert3d.media import image_grid, save_png, to_uint8, unit_to_uint8, write_video
from invert3d.pipeline.layout import ResultFolder
from invert3d.pipeline.mesh_colours import render_colours
from invert3d.pseudo_views import PseudoViews, photo_vertex_colours
from invert3d.scene import Scene, density_mesh

NOVEL_YAWS = (-0.6, -0.3, 0.0, 0.3, 0.6)
NOVEL_PITCHES = (-0.25, 0.0, 0.25)
SHEET_VIEWS = 8  # pseudo views shown in the contact sheet


def novel_view_labels(scene: Scene) -> torch.Tensor:
    """The novel-view grid's cameras [15, 25] (rows = pitch, columns = yaw), through the scene's lens."""
    return scene.rig.grid(NOVEL_YAWS, NOVEL_PITCHES)


def contact_sheet(pseudo: PseudoViews, difference: torch.Tensor | None) -> np.ndarray:
    """Rows: visible part V_i, loss mask M_v, occluded part O_i, blended pseudo view; columns: pseudo cameras
    (evenly picked). A last column shows the binarized difference map D."""
    n = len(pseudo)
    picks = np.linspace(0, n - 1, min(SHEET_VIEWS, n)).round().astype(int)
    cols = len(picks) + (difference is not None)

    def row(images: torch.Tensor, extra: torch.Tensor | None) -> list[np.ndarray]:
        tiles = [to_uint8(images[i]) for i in picks]
        if difference is not None:
            tiles.append(to_uint8(extra if extra is not None else torch.ones(3, *images.shape[-2:])))
        return tiles

    mask_rgb = (pseudo.weight * 2 - 1).expand(-1, 3, -1, -1)
    d_rgb = (difference[0] * 2 - 1).expand(3, -1, -1) if difference is not None else None
    tiles = (row(pseudo.visible, None) + row(mask_rgb, d_rgb) + row(pseudo.occluded, None)
             + row(pseudo.target, None))
    return image_grid(tiles, cols)


@torch.no_grad()
def decoder_colours(scene: Scene, vertices: np.ndarray) -> np.ndarray:
    """Per-vertex colour [V, 3] uint8: the triplane decoder's first three colour features at each vertex."""
    rgb = scene.query(torch.from_numpy(vertices).float())["rgb"][:, :3].cpu()
    return unit_to_uint8(rgb.clamp(0, 1)).numpy()


def write_scene_views(folder: ResultFolder, scene: Scene, camera: torch.Tensor, mesh_resolution: int,
                      visibility_tolerance: float, frames: int = 120, made_by: str = "invert3d invert") -> torch.Tensor:
    """What every result folder holds of its scene: the reconstruction (the view from ``camera`` [25]), the
    novel views, the orbit video, the coloured mesh and the scene itself; returns the reconstruction
    [1, 3, H, W]."""
    labels = torch.cat([camera.reshape(1, -1).cpu(), novel_view_labels(scene)])  # the input view, then the grid
    renders = torch.cat([out["image"] for out in scene.renders(labels)])  # also what colours the mesh
    recon = renders[:1]
    save_png(folder.reconstruction, to_uint8(recon))
    save_png(folder.novel_views, image_grid([to_uint8(image) for image in renders[1:]], len(NOVEL_YAWS)))
    write_video(folder.orbit, scene.views(scene.rig.orbit(frames)))
    mesh, _ = density_mesh(scene, camera, mesh_resolution)
    mesh.colors = render_colours(mesh, labels, renders, visibility_tolerance)
    write_ply(folder.mesh, mesh)
    scene.save(folder.root, extra={"tuned_by": made_by})
    return recon


def write_outputs(folder: ResultFolder, scene: Scene, photo: torch.Tensor, camera: torch.Tensor,
                  coarse: Scene, coarse_mesh: Mesh | None, pseudo: PseudoViews | None,
                  difference: torch.Tensor | None, mesh_resolution: int, visibility_tolerance: float,
                  frames: int = 120) -> torch.Tensor:
    """Write every result file of an inversion; returns the reconstruction [1, 3, H, W] at the input camera.

    ``coarse`` (stage 1's scene: the frozen generator and z_e) colours ``coarse_mesh`` (hfgi3d only) where the
    photo does not see it.
    """
    save_png(folder.input, to_uint8(photo))
    recon = write_scene_views(folder, scene, camera, mesh_resolution, visibility_tolerance, frames)
    if pseudo is not None:
        save_png(folder.pseudo_views, contact_sheet(pseudo, difference))
    if coarse_mesh is not None:
        colours, seen = photo_vertex_colours(coarse_mesh, photo, camera, visibility_tolerance)
        textured = Mesh(coarse_mesh.vertices, coarse_mesh.faces, decoder_colours(coarse, coarse_mesh.vertices))
        textured.colors[seen.numpy()] = unit_to_uint8((colours[seen] + 1) / 2).numpy()
        write_ply(folder.coarse_mesh, textured)
    return recon
