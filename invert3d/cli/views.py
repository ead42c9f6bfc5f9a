"""How the commands render views: the camera angles they accept (warned past the range the generators were
trained on, refused where no 3D-aware face GAN renders anything meaningful) and the output options they share."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import typer

from invert3d import console
from invert3d.errors import Invert3dError

TRAINED_YAW, TRAINED_PITCH = 0.7, 0.35  # rad: the embedded model's training views (FFHQ's poses fall mostly inside)
MAX_YAW, MAX_PITCH = math.pi / 2, math.pi / 3  # past these the camera looks at the back or the top of the head


def check_view(yaw: float, pitch: float) -> None:
    """Refuse angles (rad) past MAX_* (or not numbers); warn past the trained range."""
    if not (math.isfinite(yaw) and math.isfinite(pitch)):
        raise Invert3dError(f"yaw {yaw:g} / pitch {pitch:g}: angles must be finite numbers (rad)")
    if abs(yaw) > MAX_YAW or abs(pitch) > MAX_PITCH:
        raise Invert3dError(f"yaw {yaw:g} / pitch {pitch:g} rad is past what the generator can show (|yaw| <= "
                            f"{MAX_YAW:.2f}, |pitch| <= {MAX_PITCH:.2f})")
    if abs(yaw) > TRAINED_YAW or abs(pitch) > TRAINED_PITCH:
        console.warn(f"yaw {yaw:g} / pitch {pitch:g} rad is past the views the generator was trained on (|yaw| <= "
                     f"{TRAINED_YAW}, |pitch| <= {TRAINED_PITCH}); expect a blurred or broken image")


IMAGE_MODES = ("image", "depth", "raw")  # EG3D's image, image_depth, image_raw
ImageMode = Literal[IMAGE_MODES]


def view_options(fov_default: str) -> dict:
    """The typer options of ``ViewOptions`` (``render`` and ``sample`` take them all)."""
    return {
        "image_mode": typer.Option("image", help="image: the output; raw: the neural render before "
                                   "super-resolution; depth: ray distance, near = bright."),
        "resolution": typer.Option(None, min=16, max=4096, help="Side of the written images (default: their "
                                   "own: the generator's output size; raw and depth at the neural rendering "
                                   "resolution)."),
        "fov_deg": typer.Option(None, min=1.0, max=120.0, help=f"Field of view (default: {fov_default})."),
        "nrr": typer.Option(None, min=16, max=1024, help="Neural rendering resolution (default: the generator's; "
                            "higher is sharper geometry, slower)."),
        "sample_mult": typer.Option(None, min=0.1, max=16.0, help="Multiply the samples per ray (default 1)."),
    }


@dataclass(frozen=True)
class ViewOptions:
    """How a command renders and writes views (the options ``render`` and ``sample`` share)."""

    image_mode: str = "image"  # image: the super-resolved output; raw: the neural render; depth: ray distance
    resolution: int | None = None  # output side in pixels (None: the generator's own)
    fov_deg: float | None = None  # field of view of the cameras the command builds (None: the photo's / EG3D's)
    nrr: int | None = None  # neural rendering resolution (None: the generator's)
    sample_mult: float | None = None  # x samples per ray (None: 1)

    def apply(self, G) -> None:
        """Set the generator overrides (rendering resolution, samples per ray) on G."""
        import dataclasses

        if self.nrr is not None:
            G.neural_rendering_resolution = self.nrr
        if self.sample_mult is not None:
            r = G.renderer.cfg
            G.renderer.cfg = dataclasses.replace(
                r, depth_resolution=max(1, round(r.depth_resolution * self.sample_mult)),
                depth_resolution_importance=round(r.depth_resolution_importance * self.sample_mult))

    def lens(self):
        """Intrinsics [3, 3] for --fov-deg, or None."""
        from invert3d.cameras import fov_to_intrinsics

        return None if self.fov_deg is None else fov_to_intrinsics(self.fov_deg)

    def picture(self, out: dict) -> np.ndarray:
        """One view's outputs -> the [H, W, 3] uint8 image this mode writes (depth: near is bright, over the
        covered pixels; the background black)."""
        import torch
        from PIL import Image

        from invert3d.media import to_uint8

        if self.image_mode == "depth":
            depth, covered = out["image_depth"][0, 0].float().cpu(), out["image_mask"][0, 0].float().cpu() > 0.5
            values = depth[covered] if covered.any() else depth.reshape(-1)
            near, far = float(values.min()), float(values.max())
            shade = ((far - depth) / max(far - near, 1e-6)).clamp(0, 1) * covered
            image = (shade * 255 + 0.5).to(torch.uint8)[..., None].expand(-1, -1, 3).numpy()
        else:
            image = to_uint8(out["image_raw" if self.image_mode == "raw" else "image"])
        if self.resolution is not None and image.shape[0] != self.resolution:
            image = np.asarray(Image.fromarray(image).resize((self.resolution, self.resolution), Image.LANCZOS))
        return image
