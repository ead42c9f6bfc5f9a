"""What an inversion leaves in its folder: images, contact sheet, novel views, orbit video, meshes, latent and
tuned generator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from invert3d.cameras import orbit_labels, pose_label, split_label
from invert3d.checkpoints import save_generator
from invert3d.files import atomic_file
from invert3d.generator import TriPlaneGenerator
from invert3d.geometry import Mesh, write_ply
from invert3d.geometry.density import density_mesh
from invert3d.media import image_grid, save_png, to_uint8, write_video
from invert3d.pseudo_views import PseudoViews, photo_vertex_colours
from invert3d.views import iter_views

NOVEL_YAWS = (-0.6, -0.3, 0.0, 0.3, 0.6)
NOVEL_PITCHES = (-0.25, 0.0, 0.25)
SHEET_VIEWS = 8  # pseudo views shown in the contact sheet


def novel_view_labels(G: TriPlaneGenerator, camera: torch.Tensor) -> torch.Tensor:
    """The novel-view grid's cameras [15, 25] (rows = pitch, columns = yaw), with the input's intrinsics."""
    r = G.cfg.rendering
    _, k = split_label(camera.cpu())
    yaw = torch.tensor([y for _ in NOVEL_PITCHES for y in NOVEL_YAWS])
    pitch = torch.tensor([p for p in NOVEL_PITCHES for _ in NOVEL_YAWS])
    return pose_label(yaw, pitch, r.avg_camera_radius, r.avg_camera_pivot, k)


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
def decoder_colours(G: TriPlaneGenerator, ws: torch.Tensor, vertices: np.ndarray) -> np.ndarray:
    """Per-vertex colour [V, 3] uint8: the triplane decoder's first three colour features at each vertex."""
    planes = G.planes(ws)
    pts = torch.from_numpy(vertices).float()[None].to(ws.device)
    rgb = G.renderer.query(planes, G.decoder, pts)["rgb"][0, :, :3].cpu()
    return (rgb.clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)


def write_outputs(out: Path, G: TriPlaneGenerator, ws: torch.Tensor, photo: torch.Tensor, camera: torch.Tensor,
                  coarse: tuple[Mesh, TriPlaneGenerator, torch.Tensor] | None, pseudo: PseudoViews | None,
                  difference: torch.Tensor | None, mesh_resolution: int, visibility_tolerance: float,
                  frames: int = 120) -> torch.Tensor:
    """Write every result file; returns the reconstruction [1, 3, H, W] at the input camera.

    ``coarse`` is (coarse mesh, frozen generator, z_e) for the textured coarse mesh (hfgi3d only).
    """
    device = ws.device
    save_png(out / "input.png", to_uint8(photo))
    with torch.no_grad():
        recon = G.synthesis(ws, camera.reshape(1, -1).to(device), deterministic=True)["image"]
    save_png(out / "reconstruction.png", to_uint8(recon))
    novel = list(iter_views(G, ws, novel_view_labels(G, camera)))
    save_png(out / "novel_views.png", image_grid(novel, len(NOVEL_YAWS)))
    r = G.cfg.rendering
    _, k = split_label(camera.cpu())
    write_video(out / "orbit.mp4", iter_views(G, ws, orbit_labels(frames, r.avg_camera_radius, r.avg_camera_pivot,
                                                                    intrinsics=k)))
    if pseudo is not None:
        save_png(out / "pseudo_views.png", contact_sheet(pseudo, difference))
    mesh, _ = density_mesh(G, ws, camera, mesh_resolution)
    mesh.colors = decoder_colours(G, ws, mesh.vertices)
    write_ply(out / "mesh.ply", mesh)
    if coarse is not None:
        coarse_mesh, G_coarse, ws_coarse = coarse
        colours, seen = photo_vertex_colours(coarse_mesh, photo, camera, visibility_tolerance)
        textured = Mesh(coarse_mesh.vertices, coarse_mesh.faces, decoder_colours(G_coarse, ws_coarse,
                                                                                 coarse_mesh.vertices))
        textured.colors[seen.numpy()] = ((colours[seen] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
        write_ply(out / "coarse_mesh.ply", textured)
    with atomic_file(out / "latent.safetensors") as tmp:
        save_file({"ws": ws.detach().contiguous().cpu()}, str(tmp))
    save_generator(G, out / "generator", extra={"tuned_by": "invert3d invert"})
    return recon
