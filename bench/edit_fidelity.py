"""Where an attribute edit loses fidelity, and what non-linear edits would recover (docs/benchmark.md, 3b).

Reads the pivots and true edits of an edit-suite folder (``invert3d bench --suite edit --out E``; a folder cut
short works for the subjects whose pivot finished) and scores, per subject, attribute and strength, the novel
views against the true edit (mean PSNR) for:
- ``shipped``: the shipped regression direction's mean edit on the tuned generator (``invert3d edit --mean-edit``);
- ``frozen``: the same direction on the generator as shipped, at the coarse latent (no tuning, no residual), so
  the direction's own loss shows apart from what tuning fails to carry;
- ``own_z``: the subject's own edit, w + mapping(ẑ + s e_k) − mapping(ẑ), with ẑ the mapping network's
  preimage of the pivot (``inversion.preimage.mapping_preimage``; z is known only up to its norm, which the mapping
  normalizes);
- ``affine``: Δw = A (w − w̄) + b, fitted by least squares to the exact W changes of ``SAMPLES`` latents;
- ``own_zfit``: the subject's own edit with ẑ fitted to the photo through the mapping network
  (``editing.subject.fit_subject_latent``: the projector's schedule on the frozen generator, from the preimage
  above), on the tuned generator;
- ``frozen_zfit``: mapping(ẑ + s e_k) on the frozen generator, no tuning: how well a z pivot edits on its own,
  scored against its own fidelity;
- ``scaled_zfit``: the shipped direction, its step scaled by the subject's expected response
  (Φ(ẑ_k + s) − Φ(ẑ_k)) / (s E[φ]), ẑ the fitted z above: a procedural parameter is low + (high − low) Φ(z_k),
  so a subject near a tail moves less than the mean edit the direction is (E[φ] = 1 / (2 √π) per unit, Stein's
  lemma): what ``invert3d edit`` does; ``scaled_ztrue`` the same with the subject's true z_k (its oracle);
- ``scaled_mapping``: the shipped direction, its length read off the mapping network instead: the W change of
  the fitted ẑ's edit, mapping(ẑ + s e_k) − mapping(ẑ), projected on the direction;
- ``planes_zfit``: the edit as a change of the triplanes: the tuned result's planes plus the frozen generator's
  change P(mapping(ẑ + s e_k)) − P(mapping(ẑ)), ẑ fitted as above, the latent moved as ``scaled_zfit`` for the
  super-resolution; ``planes_ztrue`` the same with the subject's true z (the exact change of its planes).
Beside them the unedited result against the true edit and each pivot's fidelity (against its own truth).

    python bench/edit_fidelity.py E [--method hfgi3d] [--out FILE.json]
"""

from __future__ import annotations

import statistics

import torch
from pivots import novel_psnr, parse_pivots, pivot_parser
from report import emit
from safetensors.torch import load_file

from invert3d.benchmark.edits import ATTRIBUTES, FIDELITY_MARGIN, STRENGTHS
from invert3d.benchmark.run import case_subject
from invert3d.cameras import CameraRig
from invert3d.checkpoints import load_generator
from invert3d.editing.directions import Directions, apply_edit
from invert3d.editing.edit import EMBEDDED_DIRECTIONS
from invert3d.editing.subject import fit_subject_latent, response_scale
from invert3d.inversion.preimage import mapped_w, mapping_preimage
from invert3d.media import load_photo
from invert3d.pipeline.layout import ResultFolder
from invert3d.runtime import tune_runtime
from invert3d.scene import Scene
from invert3d.synthetic.params import PARAMETER_NAMES, sample_latents

SAMPLES = 20_000


def affine_edits(G, front: torch.Tensor) -> tuple[dict[tuple[str, float], torch.Tensor], dict, torch.Tensor]:
    """Per (attribute, strength): A [w_dim + 1, w_dim] of Δw = [w − w̄, 1] A, and its in-sample R²; w̄."""
    z = sample_latents(SAMPLES, 0)
    w = mapped_w(G, z, front)
    mean = w.mean(0)
    x = torch.cat([w - mean, torch.ones(len(w), 1)], 1).double()
    gram = x.T @ x + torch.eye(x.shape[1], dtype=torch.double)  # a unit ridge
    fits, r2 = {}, {}
    for name in ATTRIBUTES:
        for s in STRENGTHS:
            moved = z.clone()
            moved[:, PARAMETER_NAMES.index(name)] += s
            dw = (mapped_w(G, moved, front) - w).double()
            a = torch.linalg.solve(gram, x.T @ dw)
            r2[f"{name}{s:+g}"] = round(float(1 - (x @ a - dw).square().sum() / (dw - dw.mean(0)).square().sum()), 3)
            fits[(name, s)] = a.float()
    return fits, r2, mean


class _PlaneEdit(Scene):
    """A scene whose triplanes are the generator's at ``planes_ws`` plus ``delta``."""

    def __init__(self, G, ws, intrinsics, planes_ws: torch.Tensor, delta: torch.Tensor):
        super().__init__(G, ws, intrinsics)
        self.planes_ws, self.delta = planes_ws.to(self.device), delta.to(self.device)

    def planes(self) -> torch.Tensor:
        return self.G.planes(self.planes_ws) + self.delta


def plane_change(G, z: torch.Tensor, k: int, s: float, front: torch.Tensor) -> torch.Tensor:
    """P(mapping(z + s e_k)) − P(mapping(z)) [1, 3, C, H, W] of generator ``G``."""
    moved = z.clone()
    moved[k] += s
    ws = mapped_w(G, torch.stack([z, moved]), front)[:, None].expand(-1, G.num_ws, -1)
    planes = G.planes(ws)
    return planes[1:] - planes[:1]


def main() -> None:
    args, cases = parse_pivots(pivot_parser(__doc__))
    tune_runtime()
    torch.set_grad_enabled(False)
    G0 = load_generator().eval()
    front = CameraRig.of(G0.cfg.rendering).pose(0.0, 0.0)[None]
    directions = Directions.load(EMBEDDED_DIRECTIONS)
    affine, r2, w_mean = affine_edits(G0, front)
    w_spread = round(float(mapped_w(G0, sample_latents(2000, 1), front).var(0).mean()), 4)
    rows, subjects = [], {}
    for case in cases:
        pivot = ResultFolder(args.suite_dir / "runs" / case.name / args.method)
        subject, geometry = case_subject(case, args.suite_dir, G0.img_resolution)
        tuned = pivot.open()
        frozen = Scene(G0, load_file(str(pivot.stages / "coarse.safetensors"))["ws"], tuned.intrinsics)
        w_pivot = tuned.ws[0].mean(0)
        z_hat, residual = mapping_preimage(G0, w_pivot, front)
        w_hat = mapped_w(G0, z_hat[None], front)[0]
        z_fit = fit_subject_latent(G0, load_photo(pivot.input, G0.img_resolution), pivot.input_camera()[None],
                                   w_pivot.expand(1, G0.num_ws, -1))
        w_fit = mapped_w(G0, z_fit[None], front)[0]
        fidelity = {"tuned": novel_psnr(tuned, subject, geometry), "frozen": novel_psnr(frozen, subject, geometry),
                    "frozen_zfit": novel_psnr(Scene(G0, w_fit.expand(1, G0.num_ws, -1), tuned.intrinsics),
                                              subject, geometry)}
        z_true = sample_latents(1, case.seed)[0]
        subjects[case.name] = {"fidelity": {k: round(v, 3) for k, v in fidelity.items()},
                               "preimage_residual": round(residual, 4), "w_spread": w_spread,
                               "z_fit_correlation": round(float(torch.corrcoef(torch.stack([z_fit, z_true]))[0, 1]), 3)}
        for name in ATTRIBUTES:
            k = PARAMETER_NAMES.index(name)
            for s in STRENGTHS:
                true_dir, true_geometry = case_subject(case.shifted(name, s), args.suite_dir, G0.img_resolution)
                moved = z_hat.clone()
                moved[k] += s
                fit_moved = z_fit.clone()
                fit_moved[k] += s
                w_fit_moved = mapped_w(G0, fit_moved[None], front)[0]
                offsets = {"own_z": mapped_w(G0, moved[None], front)[0] - w_hat,
                           "affine": torch.cat([w_pivot - w_mean, torch.ones(1)]) @ affine[(name, s)],
                           "own_zfit": w_fit_moved - w_fit}
                step = directions.step(name) * s
                scaled = {kind: apply_edit(tuned.ws, step * response_scale(float(z[k]), s), 1.0)
                          for kind, z in (("zfit", z_fit), ("ztrue", z_true))}
                scaled["mapping"] = apply_edit(tuned.ws, step * float(offsets["own_zfit"] @ step / (step @ step)), 1.0)
                psnr = {"unedited": novel_psnr(tuned, true_dir, true_geometry),
                        "shipped": novel_psnr(Scene(tuned.G, apply_edit(tuned.ws, step, 1.0), tuned.intrinsics),
                                              true_dir, true_geometry),
                        "frozen": novel_psnr(Scene(G0, apply_edit(frozen.ws, step, 1.0), frozen.intrinsics),
                                             true_dir, true_geometry),
                        **{kind: novel_psnr(Scene(tuned.G, apply_edit(tuned.ws, offset, 1.0), tuned.intrinsics),
                                            true_dir, true_geometry) for kind, offset in offsets.items()},
                        "frozen_zfit": novel_psnr(Scene(G0, w_fit_moved.expand(1, G0.num_ws, -1), tuned.intrinsics),
                                                  true_dir, true_geometry),
                        **{f"scaled_{kind}": novel_psnr(Scene(tuned.G, ws, tuned.intrinsics), true_dir, true_geometry)
                           for kind, ws in scaled.items()},
                        **{f"planes_{kind}": novel_psnr(_PlaneEdit(tuned.G, scaled[kind], tuned.intrinsics, tuned.ws,
                                                                   plane_change(G0, z, k, s, front)),
                                                        true_dir, true_geometry)
                           for kind, z in (("zfit", z_fit), ("ztrue", z_true))}}
                rows.append({"subject": case.name, "attribute": name, "strength": s, "z_true": round(float(z_true[k]), 3),
                             "z_hat": round(float(z_hat[k]), 3), "z_fit": round(float(z_fit[k]), 3),
                             **{k2: round(v, 3) for k2, v in psnr.items()}})
                print(f"{case.name} {name} {s:+g}: " + ", ".join(f"{k2} {v:.2f}" for k2, v in psnr.items()),
                      flush=True)
    summary = {}
    for kind in ("shipped", "frozen", "own_z", "affine", "own_zfit", "frozen_zfit", "scaled_zfit", "scaled_ztrue",
                 "scaled_mapping", "planes_zfit", "planes_ztrue"):
        pivot_kind = kind if kind.startswith("frozen") else "tuned"
        gaps = [subjects[r["subject"]]["fidelity"][pivot_kind] - r[kind] for r in rows]
        summary[kind] = {"mean_psnr": round(statistics.mean(r[kind] for r in rows), 3),
                         "mean_gap_db": round(statistics.mean(gaps), 3),
                         "within_margin": sum(g <= FIDELITY_MARGIN for g in gaps),
                         "gain_at_least_1db": sum(r[kind] - r["unedited"] >= 1 for r in rows), "edits": len(rows)}
    emit({"bench": "edit_fidelity", "method": args.method, "subjects": subjects, "affine_r2": r2,
          "summary": summary, "rows": rows}, args.out)


if __name__ == "__main__":
    main()
