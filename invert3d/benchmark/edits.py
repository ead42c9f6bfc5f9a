"""The edit suite (``invert3d bench --suite edit``): edits of inverted results against the true edit.

A generator of the synthetic world takes the subject's latent as its z, so the true result of an attribute edit
is the same subject with that latent coordinate moved (``Case.shifted``), traced at the truth's cameras. Each
tattooed subject of the suite is inverted once per method (the pivots); each edit moves its latent by a strength
(sd of the attribute) along the plain and the conditional direction (learnt for the generator as ``invert3d
directions`` learns them: for the embedded model, its shipped directions), each scaled by the subject's own
response as ``invert3d edit`` does it (``editing/subject.py``), and along the plain one by its mean edit
(``--mean-edit``), rendered by its tuned generator. Scores, over
the truth's novel views: PSNR / LPIPS of the edited result against the true edit, of the unedited result against
the true edit (the baseline an edit must beat), of the unedited result against the unedited truth (fidelity), and
PSNR inside the tattoo of the true edit (does it survive); the change achieved and the other attributes' change,
read off the latent by a least-squares readout of every label from w (``SAMPLES`` latents), in sd; seconds of
``invert3d edit`` itself (plain directions: an edited result folder written, views, orbit and mesh).

Texture edits: the plain subject's inversion, given the tattooed photo as its painted copy (``invert3d edit
--texture``), scored against the tattooed truth within ``NEAR_YAW`` of frontal, beside the plain result and a fresh
inversion of the tattooed photo (the hfgi3d pivot above), whose seconds it is set against (the texture edit's
without its stage 1, which is the plain result's).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from invert3d.benchmark.methods import method_config
from invert3d.benchmark.run import case_subject
from invert3d.benchmark.suites import SUITES, Case
from invert3d.cameras import load_label
from invert3d.config import InversionConfig
from invert3d.editing.directions import apply_edit, learn_directions
from invert3d.editing.edit import edit_offset, edit_result
from invert3d.editing.samples import is_synthetic_world_model, synthetic_samples
from invert3d.editing.texture import edit_texture
from invert3d.errors import Invert3dError
from invert3d.files import atomic_file
from invert3d.media import image_grid, load_photo, save_png
from invert3d.pipeline.evaluate import SubjectScores, mean_scores, score_subject
from invert3d.pipeline.invert import invert_photo, run_config
from invert3d.pipeline.layout import ResultFolder
from invert3d.scene import Scene
from invert3d.synthetic.params import PARAMETER_NAMES

ATTRIBUTES = ("skin_tone", "hair_tone", "skull_width", "hair_volume")  # rendered large by the embedded model
STRENGTHS = (-1.5, 1.5)  # sd of the attribute
FIDELITY_MARGIN = 1.5  # dB: issue 16's target, an edit's fidelity within this of its pivot's
NEAR_YAW = 0.3  # rad: the views a texture edit's paint must be legible in
STRIP_VIEWS = 5  # novel views per row of a strip (the truth's first pitch row)
# The plain direction moved as far as the subject's own latent says (``invert3d edit``'s default), the conditional
# one likewise, and the plain direction's mean edit (``--mean-edit``)
VARIANTS = ("plain", "conditional", "mean")
SAMPLES = 20_000  # latents the directions are learnt from (as the shipped ones are), and the readout's


def _readout(G) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares readout of every label from w: (weights [w_dim + 1, K], label sd [K])."""
    w, labels, _ = synthetic_samples(G, SAMPLES, seed=1)
    x = torch.cat([w, torch.ones(len(w), 1)], dim=1).double()
    return torch.linalg.lstsq(x, labels.double()).solution.float(), labels.std(0)


def _invert(G, case: Case, method: str, out: Path, checkpoint: dict[str, str], settings=()) -> ResultFolder:
    """The case's inversion by ``method`` with ``settings`` (KEY=VALUE; reused when finished)."""
    subject, _ = case_subject(case, out, G.img_resolution)
    return invert_subject(G, subject, method_config("edit", method, settings),
                          out / "runs" / case.name / method.replace("/", "_"), checkpoint)


def invert_subject(G, subject: Path, cfg: InversionConfig, run_dir: Path, checkpoint: dict[str, str]) -> ResultFolder:
    """The photo of a subject folder (``input.png``, ``input_camera.json``) inverted into G (tuned in place) with
    ``cfg``, in ``run_dir`` (reused when finished)."""
    camera = load_label(subject / "input_camera.json")
    invert_photo(G, load_photo(subject / "input.png", G.img_resolution), camera, cfg, run_dir,
                 run_config(cfg, subject / "input.png", camera, checkpoint, G), quiet=True)
    return ResultFolder(run_dir)


def _near(scores: SubjectScores) -> list:
    return [s for s in scores.novel if s.decal_psnr is not None and abs(float(s.name.split("_")[0][3:])) <= NEAR_YAW]


def _texture_scores(scores: SubjectScores) -> dict:
    near = _near(scores)
    return {"novel_psnr": round(float(np.mean([s.psnr for s in scores.novel])), 3),
            "decal_psnr_near": round(float(np.mean([s.decal_psnr for s in near])), 3) if near else None,
            "decal_lpips_near": round(float(np.mean([s.decal_lpips for s in near])), 4) if near else None,
            "views_near": len(near)}


def _summary(rows: list[dict]) -> dict:
    gains = [r["gain_db"] for r in rows]
    return {"edits": len(rows), "mean_gain_db": round(float(np.mean(gains)), 3),
            "min_gain_db": round(min(gains), 3), "gain_at_least_1db": sum(g >= 1 for g in gains),
            "fidelity_within_1_5db": sum(r["fidelity_psnr"] - r["edit_psnr"] <= FIDELITY_MARGIN for r in rows),
            "max_leak_sd": max(r["leak_max_sd"] for r in rows),
            "mean_achieved_share": round(float(np.mean([r["achieved_sd"] / r["strength"] for r in rows])), 3),
            **{f"mean_{key}": round(float(np.mean(values)), 4)
               for key in ("edit_decal_psnr", "edit_decal_lpips", "fidelity_decal_psnr", "fidelity_decal_lpips")
               if (values := [r[key] for r in rows if r.get(key) is not None])},
            **({"mean_seconds_per_edit": round(float(np.mean(s)), 1)}
               if (s := [r["seconds_per_edit"] for r in rows if "seconds_per_edit" in r]) else {})}


def run_edit_suite(G_factory, methods: list[str], out: Path, checkpoint: dict[str, str], echo=print,
                   settings: list[str] | tuple[str, ...] = ()) -> dict:
    """Run the edit suite (module docstring) with pivots inverted by ``methods`` (``settings``, KEY=VALUE, applied
    to all of them); write results.json, table.md,
    strips/<attribute>.png (per subject and strength: the true edit's views over the edited result's),
    strips/texture_<subject>.png (the tattooed truth; the plain result, its texture edit, a fresh inversion) and
    edits/ (the plain-direction edits of the first method, as ``invert3d edit`` writes them)."""
    G = G_factory()
    if not is_synthetic_world_model(G):
        raise Invert3dError("the edit suite needs a generator of the synthetic world: only there is the true "
                            "edit known")
    directions = learn_directions(*synthetic_samples(G, SAMPLES, seed=0))
    readout, label_sd = _readout(G)
    rows, strips, texture_rows = [], {name: [] for name in ATTRIBUTES}, []
    for case in SUITES["edit"]:
        subject, geometry = case_subject(case, out, G.img_resolution)
        truths = {(name, s): case_subject(case.shifted(name, s), out, G.img_resolution)
                  for name in ATTRIBUTES for s in STRENGTHS}
        for method in methods:
            pivot = _invert(G_factory(), case, method, out, checkpoint, settings)
            scene = pivot.open()
            own = mean_scores(score_subject(scene, subject, geometry).novel)
            fidelity = own["psnr"]
            for (name, strength), (true_dir, true_geometry) in truths.items():
                k = PARAMETER_NAMES.index(name)
                baseline = mean_scores(score_subject(scene, true_dir, true_geometry).novel)
                for variant in VARIANTS:
                    conditional, mean_edit = variant == "conditional", variant == "mean"
                    offset, how = edit_offset(pivot, directions, name, conditional, mean_edit)
                    step = offset(strength)
                    row = {"subject": case.name, "method": method, "directions": variant, "attribute": name,
                           "strength": strength, **how}
                    if variant == "plain" and method == methods[0]:
                        started = time.monotonic()
                        edit_result(pivot.root, out / "edits" / case.name / f"{name}{strength:+g}", name, [strength],
                                    directions)
                        row["seconds_per_edit"] = round(time.monotonic() - started, 1)
                    edited = score_subject(Scene(scene.G, apply_edit(scene.ws, step, 1.0), scene.intrinsics),
                                           true_dir, true_geometry)
                    m = mean_scores(edited.novel)
                    moved = (step @ readout[:-1]) / label_sd  # [K] labels moved, in sd
                    others = torch.cat([moved[:k], moved[k + 1:]]).abs()
                    row.update({"edit_psnr": m["psnr"], "unedited_psnr": baseline["psnr"],
                                "gain_db": round(m["psnr"] - baseline["psnr"], 3), "edit_lpips": m["lpips_alex"],
                                "unedited_lpips": baseline["lpips_alex"], "edit_decal_psnr": m.get("decal_psnr"),
                                "edit_decal_lpips": m.get("decal_lpips"), "fidelity_psnr": fidelity,
                                "fidelity_decal_psnr": own.get("decal_psnr"),
                                "fidelity_decal_lpips": own.get("decal_lpips"),
                                "achieved_sd": round(float(moved[k]), 3),
                                "leak_max_sd": round(float(others.max()), 3),
                                "leak_worst": [n for n in PARAMETER_NAMES if n != name][int(others.argmax())]})
                    rows.append(row)
                    echo(f"{case.name} {method} {row['directions']} {name} {strength:+g}: edit {m['psnr']:.2f} dB vs "
                         f"unedited {baseline['psnr']:.2f} (gain {row['gain_db']:+.2f}), achieved "
                         f"{moved[k]:+.2f} sd, leak <= {others.max():.2f} sd")
                    if variant == "plain" and method == methods[0]:
                        strips[name].append([s.truth for s in edited.novel[:STRIP_VIEWS]]
                                            + [s.image for s in edited.novel[:STRIP_VIEWS]])
        if "hfgi3d" in methods:
            texture_rows.append(_texture_edit(G_factory, case, out, checkpoint, echo, settings))
    for name, pairs in strips.items():
        save_png(out / "strips" / f"{name}.png", image_grid([im for pair in pairs for im in pair], STRIP_VIEWS))
    variants = sorted({(r["method"], r["directions"]) for r in rows},
                      key=lambda v: (methods.index(v[0]), VARIANTS.index(v[1])))
    summary = {f"{m}/{d}": _summary([r for r in rows if (r["method"], r["directions"]) == (m, d)])
               for m, d in variants}
    report = {"suite": "edit", "methods": methods, "attributes": list(ATTRIBUTES), "strengths": list(STRENGTHS),
              "summary": summary, "rows": rows, "texture_edits": texture_rows}
    with atomic_file(out / "results.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1))
    with atomic_file(out / "table.md") as tmp:
        tmp.write_text(edit_table(summary, texture_rows))
    return report


def _texture_edit(G_factory, case: Case, out: Path, checkpoint: dict[str, str], echo, settings) -> dict:
    """The texture edit of the case's plain subject, painted with its tattoo (see the module docstring)."""
    G = G_factory()
    painted_dir, truth = case_subject(case, out, G.img_resolution)
    plain_case = Case(case.seed, None, case.yaw, case.pitch)
    plain = _invert(G, plain_case, "hfgi3d", out, checkpoint, settings)
    edited = ResultFolder(out / "runs" / case.name / "texture_edit")
    summary = edit_texture(plain.root, painted_dir / "input.png", edited.root, quiet=True)
    fresh = ResultFolder(out / "runs" / case.name / "hfgi3d")
    own_seconds = summary["seconds_total"] - summary["seconds"]["coarse"]  # stage 1 is the plain result's
    row = {"subject": case.name, "decal": case.decal, "texture_edit_seconds": round(own_seconds, 1),
           "fresh_inversion_seconds": fresh.read_summary()["seconds_total"]}
    views = []
    for name, folder in (("unedited", plain), ("texture_edit", edited), ("fresh_inversion", fresh)):
        scores = score_subject(folder.open(), painted_dir, truth)
        row[name] = _texture_scores(scores)
        views += [s.image for s in scores.novel[:STRIP_VIEWS]]
    truth_views = [s.truth for s in scores.novel[:STRIP_VIEWS]]
    save_png(out / "strips" / f"texture_{case.name}.png", image_grid(truth_views + views, STRIP_VIEWS))
    echo(f"{case.name} texture edit: tattoo PSNR within {NEAR_YAW} rad {row['texture_edit']['decal_psnr_near']} dB "
         f"(unedited {row['unedited']['decal_psnr_near']}, fresh inversion {row['fresh_inversion']['decal_psnr_near']})"
         f"; {row['texture_edit_seconds']} s vs {row['fresh_inversion_seconds']} s")
    return row


def _tattoo_cell(s: dict) -> str:
    """'edit PSNR / LPIPS (the pivot's own)' inside the decal, '–' where no view showed it."""
    if "mean_edit_decal_psnr" not in s:
        return "–"
    cell = f"{s['mean_edit_decal_psnr']:.2f} / {s.get('mean_edit_decal_lpips', float('nan')):.3f}"
    if "mean_fidelity_decal_psnr" in s:
        cell += f" ({s['mean_fidelity_decal_psnr']:.2f} / {s.get('mean_fidelity_decal_lpips', float('nan')):.3f})"
    return cell


def edit_table(summary: dict[str, dict], texture_rows: list[dict]) -> str:
    """The edit suite's summary as markdown: one row per pivot method and directions; then the texture edits."""
    lines = ["Suite `edit`: novel views of each edited result against the true edit (the subject with the "
             "attribute's latent coordinate moved), over subjects x attributes x strengths.", "",
             "| Pivot / directions | Edits | Gain over unedited (dB, mean / min) | Gain ≥ 1 dB | Within 1.5 dB of "
             "fidelity | Achieved / asked | Leak max (sd) | Tattoo PSNR / LPIPS (unedited vs its own truth) | s/edit |",
             "|---" * 9 + "|"]
    for variant, s in summary.items():
        seconds = f"{s['mean_seconds_per_edit']:.1f}" if "mean_seconds_per_edit" in s else "–"
        lines.append(f"| {variant} | {s['edits']} | {s['mean_gain_db']:+.2f} / {s['min_gain_db']:+.2f} | "
                     f"{s['gain_at_least_1db']} | {s['fidelity_within_1_5db']} | {s['mean_achieved_share']:.2f} | "
                     f"{s['max_leak_sd']:.3f} | {_tattoo_cell(s)} | {seconds} |")
    if texture_rows:
        lines += ["", f"Texture edits (tattoo painted on the plain subject's photo), scored against the tattooed "
                  f"truth; tattoo PSNR over the novel views within {NEAR_YAW} rad of yaw.", "",
                  "| Subject | Tattoo PSNR: unedited / texture edit / fresh inversion | Novel PSNR: same | "
                  "s: texture edit / fresh |", "|---|---|---|---|"]
        for r in texture_rows:
            cells = [" / ".join(f"{r[k][key]:.2f}" if r[k][key] is not None else "–"
                                for k in ("unedited", "texture_edit", "fresh_inversion"))
                     for key in ("decal_psnr_near", "novel_psnr")]
            lines.append(f"| {r['subject']} | {cells[0]} | {cells[1]} | {r['texture_edit_seconds']:.0f} / "
                         f"{r['fresh_inversion_seconds']:.0f} |")
    return "\n".join(lines) + "\n"
