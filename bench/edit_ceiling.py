"""How close any latent edit of a tuned result can come to the true edit: upper bounds (docs/benchmark.md, 3b).

Issue 16 asks every edit's fidelity to stay within 1.5 dB of the unedited result's. For each plain edit of an
edit-suite folder's pivots (``invert3d bench --suite edit --out E``; the pivots' subject latents are reused where
the suite's edits fitted them, else fitted once and kept), the novel views' mean PSNR against the true edit for:
- ``edit``: the step ``invert3d edit`` takes (the direction's mean edit scaled by the subject's response);
- ``local``: the direction made local to the subject: the mapping's own edit, mapping(z + s e_k) − mapping(z),
  averaged over ``LOCAL_SAMPLES`` latents z around the fitted subject latent (its other coordinates jittered by
  ``LOCAL_SIGMA`` sd), rescaled to the shipped step's length along it (so only the direction's shape changes);
- ``best_length``: the shipped step times the factor c that scores best *in hindsight of the truth* (on
  ``LENGTHS``, every c's score kept in the row as ``length_psnr``): the bound for any edit along this direction;
- ``oracle``: for the edits that miss the margin, a W+ offset fitted to the true edit's novel views of even
  index (``ORACLE_STEPS`` Adam steps of the squared error on ``ORACLE_VIEWS`` of them at random each, from the
  shipped step) and scored on the views of odd index, which it never saw, beside the edit and the pivot's
  fidelity on those same views: whether the tuned generator has a latent edit that reaches the margin at all;
  with the offset's length along the shipped step and across it, per W+ layer (``--no-oracle``: skipped).

Another suite's pivots (``--suite default``, ``--seeds``) give held-out subjects; their true edits are made in
the folder once. Each row also keeps the edited coordinate of the fitted and of the true subject latent.

    python bench/edit_ceiling.py E [--method hfgi3d] [--suite edit] [--seeds 1,2] [--no-oracle] [--out FILE.json]
"""

from __future__ import annotations

import statistics
from functools import partial

import torch
from pivots import parse_pivots, pivot_parser
from report import emit

from invert3d.benchmark.edits import ATTRIBUTES, FIDELITY_MARGIN, STRENGTHS
from invert3d.benchmark.run import case_subject
from invert3d.checkpoints import load_generator
from invert3d.editing.directions import Directions
from invert3d.editing.edit import EMBEDDED_DIRECTIONS, edit_offset
from invert3d.editing.subject import subject_latent
from invert3d.media import load_photo
from invert3d.pipeline.evaluate import ViewScore, _cameras, mean_scores, score_subject
from invert3d.pipeline.layout import ResultFolder
from invert3d.runtime import tune_runtime
from invert3d.scene import Scene
from invert3d.synthetic.params import PARAMETER_NAMES, sample_latents

LOCAL_SAMPLES, LOCAL_SIGMA = 2000, 1.0
LENGTHS = [i / 8 for i in range(17)]  # 0 to 2
ORACLE_STEPS, ORACLE_VIEWS, ORACLE_LR = 150, 3, 0.02


def moved_views(scene: Scene, truth: tuple, delta: torch.Tensor | float = 0.0) -> list[ViewScore]:
    """The novel views' scores of ``scene`` with its latent moved by ``delta`` (W [w_dim] or W+), against
    ``truth``."""
    return score_subject(Scene(scene.G, scene.ws + delta, scene.intrinsics), *truth).novel


def edited_psnr(scene: Scene, truth: tuple, delta: torch.Tensor) -> float:
    """Mean PSNR over ``moved_views``."""
    return mean_scores(moved_views(scene, truth, delta))["psnr"]


def heldout_psnr(views: list[ViewScore]) -> float:
    """Mean PSNR over the novel views of odd index (those the oracle is not fitted to)."""
    return statistics.mean(view.psnr for view in views[1::2])


def local_step(G0, z: torch.Tensor, k: int, s: float, camera: torch.Tensor, step: torch.Tensor,
               generator: torch.Generator) -> torch.Tensor:
    """The mapping's mean edit of coordinate k by s around z [z_dim], with the shipped ``step``'s length along it."""
    around = z + LOCAL_SIGMA * torch.randn(LOCAL_SAMPLES, z.numel(), generator=generator)
    around[:, k] = z[k]
    moved = around.clone()
    moved[:, k] += s
    cameras = camera.expand(LOCAL_SAMPLES, -1)
    change = (G0.mapping(moved, cameras) - G0.mapping(around, cameras))[:, 0].mean(0)
    unit = step / step.norm()
    return change * (step.norm() / (change @ unit))


def length_scores(score, step: torch.Tensor, known: dict[float, float]) -> dict[float, float]:
    """PSNR of every multiple c of ``step`` on ``LENGTHS``, by c; ``known``: scores already measured, by c."""
    return {c: known[c] if c in known else score(step * c) for c in LENGTHS}


def oracle_offset(scene: Scene, start: torch.Tensor, subject_dir, generator: torch.Generator) -> torch.Tensor:
    """A W+ offset [num_ws, w_dim], from ``start`` [w_dim], fitted to the truth's novel views of even index in
    ``subject_dir``."""
    G = scene.G
    views = [(load_photo(subject_dir / path, G.img_resolution), label)
             for path, label in _cameras(subject_dir)[1:]][::2]
    offset = start.expand(G.num_ws, -1).clone().requires_grad_(True)
    optimizer = torch.optim.Adam([offset], lr=ORACLE_LR)
    with torch.enable_grad():
        for _ in range(ORACLE_STEPS):
            ws = scene.ws + offset
            planes = G.planes(ws)
            picked = torch.randperm(len(views), generator=generator)[:ORACLE_VIEWS].tolist()
            loss = sum((G.render_planes(planes, ws, views[i][1][None], deterministic=True)["image"]
                        - views[i][0]).square().mean() for i in picked)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return offset.detach()


def layer_profile(offset: torch.Tensor, step: torch.Tensor) -> dict[str, list[float]]:
    """Per W+ layer of ``offset`` [num_ws, w_dim]: its length along ``step`` [w_dim] in units of the step, and the
    length of the rest, in the same units."""
    along = offset @ step / step.square().sum()
    rest = (offset - along[:, None] * step).norm(dim=1) / step.norm()
    return {"oracle_along_step": [round(float(v), 3) for v in along],
            "oracle_across_step": [round(float(v), 3) for v in rest]}


def main() -> None:
    parser = pivot_parser(__doc__)
    parser.add_argument("--no-oracle", action="store_true", help="skip the fitted W+ offsets (the slow part)")
    args, cases = parse_pivots(parser)
    tune_runtime()
    torch.set_grad_enabled(False)
    G0 = load_generator().eval()
    directions = Directions.load(EMBEDDED_DIRECTIONS)
    generator = torch.Generator().manual_seed(0)
    rows, fidelity, heldout_fidelity = [], {}, {}
    for case in cases:
        pivot = ResultFolder(args.suite_dir / "runs" / case.name / args.method)
        scene = pivot.open()
        scene.G.requires_grad_(False)
        camera = pivot.input_camera()[None]
        z = subject_latent(pivot).reshape(-1)
        true_z = sample_latents(1, case.seed)[0]  # the subject's, as make_subject draws it
        own_views = moved_views(scene, case_subject(case, args.suite_dir, G0.img_resolution))
        fidelity[case.name] = mean_scores(own_views)["psnr"]
        heldout_fidelity[case.name] = heldout_psnr(own_views)
        for name in ATTRIBUTES:
            k = PARAMETER_NAMES.index(name)
            offset = edit_offset(pivot, directions, name)[0]
            for s in STRENGTHS:
                truth = case_subject(case.shifted(name, s), args.suite_dir, G0.img_resolution)
                score = partial(edited_psnr, scene, truth)
                step = offset(s)
                edit_views = moved_views(scene, truth, step)
                edit_psnr = mean_scores(edit_views)["psnr"]
                lengths = length_scores(score, step, {1.0: edit_psnr})
                c = max(lengths, key=lengths.get)
                psnr = {"edit": edit_psnr, "local": score(local_step(G0, z, k, s, camera, step, generator)),
                        "best_length": lengths[c]}
                heldout = {}
                if not args.no_oracle and fidelity[case.name] - psnr["edit"] > FIDELITY_MARGIN:
                    oracle = oracle_offset(scene, step, truth[0], generator)
                    heldout = {"heldout_fidelity": heldout_fidelity[case.name],
                               "heldout_edit": heldout_psnr(edit_views),
                               "heldout_oracle": heldout_psnr(moved_views(scene, truth, oracle))}
                    psnr["oracle"] = heldout["heldout_oracle"]
                rows.append({"subject": case.name, "attribute": name, "strength": s, "best_c": c,
                             **{kind: round(v, 3) for kind, v in {**psnr, **heldout}.items()},
                             **(layer_profile(oracle, step) if heldout else {}),
                             "subject_latent": round(float(z[k]), 3), "true_latent": round(float(true_z[k]), 3),
                             "length_psnr": {f"{x:g}": round(v, 3) for x, v in lengths.items()}})
                print(f"{case.name} {name} {s:+g}: fidelity {fidelity[case.name]:.2f}, "
                      + ", ".join(f"{kind} {v:.2f}" for kind, v in psnr.items()) + f" (c {c:g})", flush=True)
    summary = {}
    for kind in ("edit", "local", "best_length", "oracle"):
        scored = [r for r in rows if kind in r]
        if not scored:
            continue
        reference = (lambda r: r["heldout_fidelity"]) if kind == "oracle" else (lambda r: fidelity[r["subject"]])
        summary[kind] = {"edits": len(scored), "mean_psnr": round(statistics.mean(r[kind] for r in scored), 3),
                         "within_margin": sum(reference(r) - r[kind] <= FIDELITY_MARGIN for r in scored)}
    emit({"bench": "edit_ceiling", "method": args.method, "fidelity": {k: round(v, 3) for k, v in fidelity.items()},
          "summary": summary, "rows": rows}, args.out)


if __name__ == "__main__":
    main()
