"""The 3D result of an inversion: a generator (tuned weights, with its triplane residual ``plane_offset`` if it
has one) and a W+ latent, seen by default through the photo's lens.

Everything that renders, meshes or scores a result takes a ``Scene``: its renders compute the triplanes once and
re-render them per camera; its cameras sit on the generator's camera sphere with the photo's intrinsics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from invert3d.cameras import CameraRig, split_label
from invert3d.checkpoints import load_generator, save_generator
from invert3d.errors import Invert3dError
from invert3d.files import atomic_file
from invert3d.generator import TriPlaneGenerator
from invert3d.media import to_uint8

GENERATOR_DIR = "generator"
LATENT_FILE = "latent.safetensors"


@dataclass(eq=False)
class Scene:
    G: TriPlaneGenerator
    ws: torch.Tensor  # [1, num_ws, w_dim]; moved to G's device
    intrinsics: torch.Tensor | None = None  # [3, 3] normalized (the photo's); None: EG3D's 18.837 deg

    def __post_init__(self) -> None:
        self.ws = self.ws.to(self.device)

    @classmethod
    def with_lens_of(cls, G: TriPlaneGenerator, ws: torch.Tensor, camera: torch.Tensor) -> Scene:
        """A scene whose default cameras take the intrinsics of ``camera`` [25] (the photo's label)."""
        return cls(G, ws, split_label(camera.reshape(-1).cpu())[1])

    @property
    def device(self) -> torch.device:
        return next(self.G.parameters()).device

    @property
    def rig(self) -> CameraRig:
        """The scene's default cameras: on the generator's camera sphere, through the photo's lens."""
        return CameraRig.of(self.G.cfg.rendering, self.intrinsics)

    # Rendering and queries.
    def planes(self) -> torch.Tensor:
        """The triplanes [1, 3, C, H, W] (the residual included)."""
        return self.G.planes(self.ws)

    @torch.no_grad()
    def renders(self, labels: torch.Tensor, deterministic: bool = True) -> Iterator[dict[str, torch.Tensor]]:
        """G's outputs ('image', 'image_raw', 'image_depth', 'image_mask'; batch 1, on G's device) for each
        camera of labels [K, 25]; the planes are computed once."""
        planes = self.planes()
        for label in labels.reshape(-1, labels.shape[-1]).to(self.device):
            yield self.G.render_planes(planes, self.ws, label[None], deterministic=deterministic)

    def render(self, label: torch.Tensor, deterministic: bool = True) -> dict[str, torch.Tensor]:
        """G's outputs for one camera label [25]."""
        return next(self.renders(label.reshape(1, -1), deterministic))

    def views(self, labels: torch.Tensor) -> Iterator[np.ndarray]:
        """[H, W, 3] uint8 images for each camera of labels [K, 25]."""
        for out in self.renders(labels):
            yield to_uint8(out["image"])

    @torch.no_grad()
    def query(self, points: torch.Tensor, planes: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Raw density 'sigma' [P] (before the softplus) and colour features 'rgb' [P, C] at world points [P, 3];
        pass ``planes`` to reuse them over many calls."""
        planes = self.planes() if planes is None else planes
        out = self.G.renderer.query(planes, self.G.decoder, points[None].to(self.device))
        return {"sigma": out["sigma"][0, :, 0], "rgb": out["rgb"][0]}

    # Files: the tuned generator as a checkpoint folder, the latent as safetensors.
    def save(self, folder: Path, extra: dict | None = None) -> None:
        with atomic_file(folder / LATENT_FILE) as tmp:
            save_file({"ws": self.ws.detach().contiguous().cpu()}, str(tmp))
        save_generator(self.G, folder / GENERATOR_DIR, extra=extra)

    @classmethod
    def load(cls, folder: Path, device: str | torch.device = "cpu", intrinsics: torch.Tensor | None = None) -> Scene:
        """The scene ``save`` wrote into ``folder``."""
        if not (folder / LATENT_FILE).is_file() or not (folder / GENERATOR_DIR).is_dir():
            raise Invert3dError(f"{folder} holds no scene ({LATENT_FILE} and {GENERATOR_DIR}/)")
        G = load_generator(folder / GENERATOR_DIR, device)
        ws = load_file(str(folder / LATENT_FILE))["ws"].to(device)
        if ws.shape[1:] != (G.num_ws, G.w_dim):
            raise Invert3dError(f"{folder}: latent shape {list(ws.shape)} does not fit the generator")
        return cls(G, ws, intrinsics)
