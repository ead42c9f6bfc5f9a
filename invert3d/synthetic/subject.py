"""A complete synthetic test subject: latent, decals, input view, ground-truth views and mesh, written to a folder."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from invert3d.cameras import pose_label, save_labels
from invert3d.files import atomic_dir
from invert3d.geometry import Mesh, extract_mesh, write_ply
from invert3d.media import save_png, unit_to_uint8
from invert3d.synthetic.decals import Decal, apply_decals, emblem_image, paint_image, place_decal, tattoo_image
from invert3d.synthetic.head import HeadField
from invert3d.synthetic.kinds import PROCEDURAL_KINDS
from invert3d.synthetic.params import PARAMETER_NAMES, sample_latents, subject_from_latent
from invert3d.synthetic.render import render_subject

# Ground-truth cameras around the frontal axis: yaw up to +-0.6 rad, pitch up to +-0.3 rad.
TRUTH_POSES = ((-0.6, 0.0), (-0.3, 0.0), (0.0, 0.0), (0.3, 0.0), (0.6, 0.0), (-0.45, -0.25), (0.45, -0.25),
               (-0.45, 0.25), (0.45, 0.25), (0.0, -0.3), (0.0, 0.3))
# The procedural decals: how each is drawn and its width (world units), by its name in PROCEDURAL_KINDS.
PROCEDURAL_DECALS = dict(zip(PROCEDURAL_KINDS, ((emblem_image, 0.14), (tattoo_image, 0.16), (paint_image, 0.22))))


@dataclass
class Subject:
    seed: int
    latent: torch.Tensor  # [LATENT_DIM]
    field: HeadField
    decals: list[Decal] = field(default_factory=list)
    decal_spec: dict | None = None


def make_subject(seed: int, decal: np.ndarray | str | None = None, decal_yaw: float | None = None,
                 decal_pitch: float | None = None, decal_width: float | None = None,
                 shift: dict[str, float] | None = None) -> Subject:
    """Subject ``seed`` (latent = ``sample_latents(1, seed)``), optionally with one decal: an RGBA image or the
    name of a procedural one ('emblem', 'tattoo', 'paint'). Placement defaults depend on the seed. ``shift``
    adds to named latent coordinates (``PARAMETER_NAMES``; one unit = one standard deviation): the true result
    of an attribute edit of that subject."""
    z = sample_latents(1, seed)[0]
    for name, delta in (shift or {}).items():
        z[PARAMETER_NAMES.index(name)] += delta
    head = HeadField(subject_from_latent(z))
    subject = Subject(seed, z, head)
    if decal is None:
        return subject
    rng = np.random.RandomState(seed + 7919)
    width = 0.16
    if isinstance(decal, str):
        make, width = PROCEDURAL_DECALS[decal]
        image = make(seed)
        kind = decal
    else:
        image, kind = decal, "image"
    yaw = float(rng.uniform(-0.45, 0.45)) if decal_yaw is None else decal_yaw
    pitch = float(rng.uniform(-0.05, 0.2)) if decal_pitch is None else decal_pitch
    width = width if decal_width is None else decal_width
    subject.decals.append(place_decal(head, image, yaw, pitch, width, target=(0.0, 0.0, 0.1)))
    subject.decal_spec = {"kind": kind, "yaw": yaw, "pitch": pitch, "width": width}
    return subject


def subject_mesh(subject: Subject, resolution: int = 160) -> Mesh:
    """Watertight mesh of the subject with vertex colours (albedo with decals, unshaded)."""
    mesh = extract_mesh(subject.field.sdf, resolution, half=0.5)
    verts = torch.from_numpy(mesh.vertices)
    normals = subject.field.normals(verts)
    albedo = apply_decals(subject.field.albedo(verts), verts, normals, subject.decals)
    mesh.colors = unit_to_uint8(albedo.numpy())
    return mesh


def _image(subject: Subject, label: torch.Tensor, resolution: int) -> np.ndarray:
    """The subject's true view from camera label [25] as [H, W, 3] uint8."""
    return unit_to_uint8(render_subject(subject.field, label, resolution, subject.decals).rgb.permute(1, 2, 0).numpy())


def write_subject(subject: Subject, out: Path, yaw: float, pitch: float, resolution: int = 128,
                  mesh_resolution: int = 160) -> Path:
    """Write input.png, input_camera.json, truth/*.png + truth/cameras.json, mesh.ply, subject.json to ``out``
    (atomically: the folder appears complete or not at all)."""
    with atomic_dir(out) as tmp:
        label = pose_label(yaw, pitch)
        save_png(tmp / "input.png", _image(subject, label, resolution))
        (tmp / "input_camera.json").write_text(json.dumps([float(v) for v in label]))
        entries = []
        for y, p in TRUTH_POSES:
            if abs(y - yaw) < 1e-6 and abs(p - pitch) < 1e-6:
                continue
            name = f"yaw{y:+.2f}_pitch{p:+.2f}.png"
            view = pose_label(y, p)
            save_png(tmp / "truth" / name, _image(subject, view, resolution))
            entries.append((name, view))
        save_labels(tmp / "truth" / "cameras.json", entries)
        write_ply(tmp / "mesh.ply", subject_mesh(subject, mesh_resolution))
        meta = {"seed": subject.seed, "latent": subject.latent.tolist(), "input_pose": {"yaw": yaw, "pitch": pitch},
                "decal": subject.decal_spec, "resolution": resolution}
        (tmp / "subject.json").write_text(json.dumps(meta, indent=2))
    return out
