"""The subject's own latent, for a generator of the synthetic world: how far an edit really moves this subject.

Such a generator takes the subject's latent z as its input, and every parameter of a subject is
low + (high - low) Phi(z_k) (``invert3d/synthetic/params.py``). An exact-label direction is the *mean* true edit
over subjects: s sd move a parameter by s E[phi] of its range on average (E[phi] = 1 / (2 sqrt(pi)) for
z ~ N(0, 1), Stein's lemma). A subject near a tail moves much less (at z_k = -1.5, an edit of -1.5 sd moves it by
a sixth of that), one near the middle a little more. Knowing the subject's z, the edit of s sd is the direction's
step times ``response_scale(z_k, s)``. z is fitted to the result's photo through the pretrained generator's
mapping network: the preimage of the result's stage-1 w, then the photo matched at its camera (the projector's
schedule, ``FIT``). Once per result, kept in its folder as ``subject_latent.safetensors``.

Measured on the edit suite's 16 edits (docs/benchmark.md 3b): the fitted z_k lie within 0.27 sd of the
true ones on the edited attributes, and the scaled edits come 0.8 dB closer to the true edit on average.
"""

from __future__ import annotations

import math

import torch
from safetensors.torch import load_file, save_file

from invert3d.checkpoints import load_generator
from invert3d.config import LossConfig, ProjectionConfig
from invert3d.editing.samples import is_synthetic_world_model
from invert3d.errors import Invert3dError
from invert3d.files import atomic_file
from invert3d.generator import TriPlaneGenerator
from invert3d.inversion.losses import ReconstructionLoss
from invert3d.inversion.progress import StageLog
from invert3d.inversion.projection import fit_latent
from invert3d.media import load_photo
from invert3d.pipeline.layout import ResultFolder

LATENT_FILE = "subject_latent.safetensors"
MEAN_SLOPE = 1 / (2 * math.sqrt(math.pi))  # E[phi(z)], z ~ N(0, 1): a parameter's mean change per unit of z
FIT = ProjectionConfig(steps=300, lr=0.05, space="z")  # z has unit RMS: lr 10x the W projection's (W's spread ~0.4)


def response_scale(z: float, s: float) -> float:
    """How far a subject at latent coordinate ``z`` moves for an edit of ``s`` sd, relative to the mean edit."""
    phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    return 1.0 if s == 0 else (phi(z + s) - phi(z)) / (s * MEAN_SLOPE)


def fit_subject_latent(G: TriPlaneGenerator, photo: torch.Tensor, camera: torch.Tensor,
                       stage1_ws: torch.Tensor) -> torch.Tensor:
    """z [z_dim] at unit RMS whose render at ``camera`` [1, 25] matches ``photo`` [1, 3, H, W]: the projector in Z
    (``FIT``, the inversion's loss) from the preimage of ``stage1_ws`` [1, num_ws, w_dim]."""
    z = fit_latent(G, photo, camera[0], FIT, ReconstructionLoss(LossConfig()), start=stage1_ws,
                   log=StageLog(None, "subject latent (once per result)", FIT.steps))[0]
    return z / z.square().mean().sqrt()


def pretrained_generator(result: ResultFolder) -> TriPlaneGenerator:
    """The generator the result was inverted into, as it was before tuning."""
    return load_generator(result.checkpoint_path())


def subject_latent(result: ResultFolder) -> torch.Tensor:
    """The subject's z [z_dim] for a finished result inverted into a generator of the synthetic world: read from
    the result folder, or fitted with the pretrained generator (a projection's time: ~100 s on two CPU cores) and
    kept there."""
    path = result.root / LATENT_FILE
    if path.is_file():
        return load_file(str(path))["z"]
    stage1 = result.stages / "coarse.safetensors"
    if not stage1.is_file():
        raise Invert3dError(f"{result.root} has no stage-1 latent ({stage1}); edit with --mean-edit")
    G = pretrained_generator(result)
    if not is_synthetic_world_model(G):
        raise Invert3dError(f"{result.root}'s generator is not of the synthetic world; edit with --mean-edit")
    camera = result.input_camera()[None]
    z = fit_subject_latent(G, load_photo(result.input, G.img_resolution), camera, load_file(str(stage1))["ws"])
    try:
        with atomic_file(path) as tmp:
            save_file({"z": z.contiguous()}, str(tmp))
    except OSError:
        pass  # a read-only result: fitted again next time
    return z
