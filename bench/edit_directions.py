"""How faithful are attribute edits on the embedded model? The true edit of attribute k on a held-out subject z
is the model's render of z + d e_k (its z is the synthetic subject); a direction's edit moves w = mapping(z)
by d units of its step. Score: the share of the true change the edit reproduces, 1 - |edit - true|^2 /
|original - true|^2 over 3 views (1: exact, 0: no better than leaving the latent alone). Rows: the regression
direction (the mean true edit, what ``invert3d directions`` ships for exact labels) and InterFaceGAN's SVM
normal, each learnt from N samples; also the regression directions' agreement with those of the largest N.

    python bench/edit_directions.py [--samples 5000,20000,100000] [--subjects 6] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from invert3d.cameras import CameraRig
from invert3d.checkpoints import load_generator
from invert3d.editing import learn_directions
from invert3d.editing.samples import synthetic_samples
from invert3d.runtime import tune_runtime
from invert3d.scene import Scene
from invert3d.synthetic.params import PARAMETER_NAMES, sample_latents

from report import emit

# The attributes scored: the head's shape and hair, which the model renders large, and face details it renders
# small (nose, eyes, brows, lips), where an edit moves few pixels.
SCORED = ("skull_width", "jaw_width", "hair_volume", "hair_length", "skin_tone", "hair_tone", "nose_length",
          "eye_size", "brow_darkness", "lip_redness")
STRENGTH = 2.0  # standard deviations of the label
HELD_OUT_SEED = 999


@torch.no_grad()
def captured(G, step_of, subjects: torch.Tensor, views: torch.Tensor, front: torch.Tensor) -> dict[str, float]:
    """Mean share of the true change reproduced, per attribute, by the W offsets ``step_of(name)`` [w_dim]."""
    def render(w1: torch.Tensor) -> torch.Tensor:
        return torch.cat([o["image"] for o in Scene(G, w1.expand(1, G.num_ws, -1)).renders(views)])

    shares = {}
    for name in SCORED:
        k, values = PARAMETER_NAMES.index(name), []
        for z in subjects:
            w = G.mapping(z[None], front)[:, :1]
            moved = z.clone()
            moved[k] += STRENGTH
            true, original = render(G.mapping(moved[None], front)[:, :1]), render(w)
            edit = render(w + STRENGTH * step_of(name).to(w))
            values.append(float(1 - (edit - true).square().sum() / (original - true).square().sum()))
        shares[name] = round(statistics.mean(values), 3)
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", default="5000,20000,100000")
    parser.add_argument("--subjects", type=int, default=6)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    tune_runtime()
    torch.set_grad_enabled(False)
    G = load_generator()
    rig = CameraRig.of(G.cfg.rendering)
    front, views = rig.pose(0.0, 0.0)[None], rig.grid([-0.4, 0.0, 0.4], [0.0])
    subjects = sample_latents(args.subjects, HELD_OUT_SEED)
    sizes = sorted(int(n) for n in args.samples.split(","))
    learnt = {}
    rows = []
    for n in sizes:
        started = time.monotonic()
        w, labels, names = synthetic_samples(G, n, seed=0)
        regression = learn_directions(w, labels, names)
        svm = learn_directions(w, labels, names, unit_kind="spread")
        seconds = round(time.monotonic() - started, 1)
        learnt[n] = regression
        for kind, d in (("regression", regression), ("svm", svm)):
            # both scored in the exact label's unit: the SVM normal scaled by the true edit's component along it
            step_of = (lambda name, d=d: d.step(name)) if kind == "regression" else \
                (lambda name, d=d, reg=regression: d.vectors[d.names.index(name)]
                 * float(reg.step(name) @ d.vectors[d.names.index(name)]))
            shares = captured(G, step_of, subjects, views, front)
            rows.append({"direction": kind, "samples": n, "seconds_to_learn": seconds,
                         "held_out_accuracy_mean": round(float(d.accuracy.mean()), 4), "captured": shares,
                         "captured_mean_large": round(statistics.mean(shares[a] for a in SCORED[:6]), 3)})
            print(f"{kind:10s} N={n:6d}: captured {rows[-1]['captured_mean_large']:.3f} (head/hair attributes), "
                  f"accuracy {rows[-1]['held_out_accuracy_mean']:.3f}, {seconds} s", flush=True)
    reference = learnt[sizes[-1]]
    agreement = {n: round(float(torch.nn.functional.cosine_similarity(d.vectors, reference.vectors, dim=1).mean()), 4)
                 for n, d in learnt.items()}
    emit({"bench": "edit_directions", "strength_sd": STRENGTH, "subjects": args.subjects, "views": 3, "rows": rows,
          "regression_cos_to_largest_n": agreement}, args.out)


if __name__ == "__main__":
    main()
