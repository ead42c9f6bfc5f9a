"""Attribute directions in W, learnt as InterFaceGAN learns them, and applied to an inverted latent.

For each attribute, of N latents the top and bottom ``keep`` share by the attribute's label are kept and a
linear SVM separates them in W (trained on 70 %, its accuracy measured on the other 30 %). With labels from a
classifier, the unit normal of its hyperplane is the direction (InterFaceGAN). With exact, independent labels
(the embedded model: its z is the synthetic subject) the mean true edit is known instead, and is the direction:
the regression of w on the label, cov(w, label) / var(label). Measured on the embedded model (6 held-out
subjects, +2 sd, 3 views; ``bench/edit_directions.py``): it reproduces 66-96 % of the true change of the
attributes the model renders large (head and jaw width, hair volume and length, skin and hair tone), the SVM
normal 0-24 % (they agree only to cos 0.2-0.3: the top and bottom 2 % are separable along many directions). A strength is measured in the attribute's own unit: for exact labels (the embedded
model, whose z is the synthetic subject), one standard deviation of the label: the least-squares slope of
(w · direction) on the label, times the label's standard deviation, i.e. how far along the direction the true
subjects move, on average, when their label rises by one standard deviation; for scores of a classifier, the
spread (standard deviation) of (w · direction) over the samples. Conditional directions
(InterFaceGAN's remedy for entanglement) are each direction with every other one projected out, all at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from invert3d.editing.svm import accuracy, fit_linear_svm
from invert3d.errors import Invert3dError
from invert3d.files import atomic_file

UNITS = {"label_sd": "standard deviations of the attribute's label (for the embedded model: of its latent "
                     "coordinate)",
         "spread": "standard deviations of the samples' distance to the attribute's SVM boundary"}


@dataclass(frozen=True)
class Directions:
    """names [K]; vectors, conditional [K, w_dim] unit vectors; unit, conditional_unit [K] (W distance per
    strength unit); accuracy [K] (held-out share right); samples: N; unit_kind: a key of ``UNITS``."""

    names: tuple[str, ...]
    vectors: torch.Tensor
    conditional: torch.Tensor
    unit: torch.Tensor
    conditional_unit: torch.Tensor
    accuracy: torch.Tensor
    samples: int
    unit_kind: str

    def step(self, name: str, conditional: bool = False) -> torch.Tensor:
        """The W offset [w_dim] of one strength unit of attribute ``name``."""
        if name not in self.names:
            raise Invert3dError(f"unknown attribute {name!r}; known: {', '.join(self.names)}")
        k = self.names.index(name)
        return (self.conditional[k] * self.conditional_unit[k] if conditional else self.vectors[k] * self.unit[k])

    def save(self, path: Path) -> None:
        tensors = {"vectors": self.vectors, "conditional": self.conditional, "unit": self.unit,
                   "conditional_unit": self.conditional_unit, "accuracy": self.accuracy}
        meta = {"names": json.dumps(list(self.names)), "samples": str(self.samples), "unit_kind": self.unit_kind}
        with atomic_file(path) as tmp:
            save_file({k: v.float().contiguous() for k, v in tensors.items()}, str(tmp), metadata=meta)

    @classmethod
    def load(cls, path: Path) -> "Directions":
        from safetensors import safe_open

        if not Path(path).is_file():
            raise Invert3dError(f"directions file not found: {path}")
        try:
            with safe_open(str(path), "pt") as f:
                meta = f.metadata() or {}
            tensors = load_file(str(path))
            return cls(names=tuple(json.loads(meta["names"])), vectors=tensors["vectors"],
                       conditional=tensors["conditional"], unit=tensors["unit"],
                       conditional_unit=tensors["conditional_unit"], accuracy=tensors["accuracy"],
                       samples=int(meta["samples"]), unit_kind=meta["unit_kind"])
        except (KeyError, ValueError, OSError) as exc:
            raise Invert3dError(f"{path}: not an invert3d directions file ({exc})") from None


def _unit(w: torch.Tensor, label: torch.Tensor, vector: torch.Tensor, kind: str) -> float:
    """W distance along ``vector`` per strength unit (see the module docstring)."""
    along = w.double() @ vector.double()
    if kind == "spread":
        return float(along.std())
    lab = label.double()
    slope = ((along - along.mean()) * (lab - lab.mean())).sum() / (lab - lab.mean()).square().sum()
    return float(slope * lab.std())


def _projected_out(vectors: torch.Tensor) -> torch.Tensor:
    """Each row of vectors [K, D] with the span of all the other rows removed, renormalized."""
    out = torch.empty_like(vectors)
    for k in range(len(vectors)):
        others = torch.cat([vectors[:k], vectors[k + 1:]]).double()
        basis, _ = torch.linalg.qr(others.T)  # [D, K-1] orthonormal
        v = vectors[k].double()
        v = v - basis @ (basis.T @ v)
        out[k] = (v / v.norm().clamp_min(1e-12)).float()
    return out


def learn_directions(w: torch.Tensor, labels: torch.Tensor, names: list[str], keep: float = 0.02,
                     train_share: float = 0.7, unit_kind: str = "label_sd", seed: int = 0) -> Directions:
    """Directions from latents w [N, w_dim] and their attribute labels [N, K] (one column per name): for exact
    labels (``unit_kind='label_sd'``) the regression directions, for classifier scores (``'spread'``) the SVM
    normals; the SVM's held-out accuracy either way."""
    if unit_kind not in UNITS:
        raise ValueError(f"unit_kind must be one of {', '.join(UNITS)}")
    n = len(w)
    per_side = max(2, round(keep * n))
    g = torch.Generator().manual_seed(seed)
    vectors, scores = [], []
    for k in range(len(names)):
        order = torch.argsort(labels[:, k])
        picked = torch.cat([order[-per_side:], order[:per_side]])
        y = torch.cat([torch.ones(per_side), -torch.ones(per_side)])
        shuffle = torch.randperm(len(picked), generator=g)
        picked, y = picked[shuffle], y[shuffle]
        cut = round(train_share * len(picked))
        normal, bias = fit_linear_svm(w[picked[:cut]], y[:cut])
        scores.append(accuracy(w[picked[cut:]], y[cut:], normal, bias))
        vectors.append(normal / normal.norm())
    vectors_t = torch.stack(vectors)
    if unit_kind == "label_sd":  # exact labels: the mean true edit per unit of label
        centred, lab = w.double() - w.double().mean(0), labels.double() - labels.double().mean(0)
        regression = (centred.T @ lab / lab.square().sum(0)).T.float()  # [K, w_dim]
        vectors_t = regression / regression.norm(dim=1, keepdim=True).clamp_min(1e-12)
    conditional = _projected_out(vectors_t)
    unit = torch.tensor([_unit(w, labels[:, k], vectors_t[k], unit_kind) for k in range(len(names))])
    conditional_unit = torch.tensor([_unit(w, labels[:, k], conditional[k], unit_kind) for k in range(len(names))])
    return Directions(tuple(names), vectors_t, conditional, unit, conditional_unit, torch.tensor(scores), n,
                      unit_kind)


def apply_edit(ws: torch.Tensor, offset: torch.Tensor, strength: float, layers: tuple[int, int] | None = None
               ) -> torch.Tensor:
    """ws [N, num_ws, w_dim] moved by ``strength`` x ``offset`` [w_dim] on the layers [start, stop) (all)."""
    start, stop = layers or (0, ws.shape[1])
    edited = ws.clone()
    edited[:, start:stop] += strength * offset.to(ws)
    return edited
