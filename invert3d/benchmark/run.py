"""Running methods on a suite and scoring them against the synthetic ground truth (resumable: finished
inversions are reused)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from invert3d.benchmark.curves import CURVE_FILE, QualityCurve, read_curve
from invert3d.benchmark.methods import method_config
from invert3d.benchmark.plots import sweep_plot, tradeoff_plot
from invert3d.benchmark.suites import SUITES, Case
from invert3d.cameras import load_label
from invert3d.config import InversionConfig
from invert3d.errors import Invert3dError
from invert3d.files import atomic_file
from invert3d.geometry import read_ply
from invert3d.media import image_grid, load_photo, save_png
from invert3d.metrics import chamfer_distance
from invert3d.pipeline.evaluate import SCORE_KEYS, TruthGeometry, ViewScore, mean_scores, score_subject, truth_geometry
from invert3d.pipeline.invert import invert_photo, prepare_folder, run_config
from invert3d.pipeline.layout import ResultFolder
from invert3d.pipeline.stages import seed_stages, stage1_inputs
from invert3d.synthetic.decals import text_image
from invert3d.synthetic.kinds import PROCEDURAL_KINDS
from invert3d.synthetic.subject import make_subject, write_subject


def case_subject(case: Case, root: Path, resolution: int) -> tuple[Path, TruthGeometry]:
    """The case's subject folder (made once) and its true silhouettes and depths (traced once, kept there)."""
    path = root / "subjects" / case.name
    if not (path / "subject.json").exists():
        write_subject(_make(case), path, case.yaw, case.pitch, resolution)
    cached = path / "truth_geometry.npz"
    if not _has_decal_region(cached):
        subject = _make(case)
        geometry = truth_geometry(subject.field, path, resolution, subject.decals)
        with atomic_file(cached) as tmp, open(tmp, "wb") as f:
            no_decal = np.zeros(0, bool)  # a plain subject's
            np.savez(f, mask=geometry.mask.numpy(), depth=geometry.depth.numpy(),
                     decal=no_decal if geometry.decal is None else geometry.decal.numpy())
    with np.load(cached) as data:
        decal = torch.from_numpy(data["decal"]) if data["decal"].size else None
        return path, TruthGeometry(torch.from_numpy(data["mask"]), torch.from_numpy(data["depth"]), decal)


def _make(case: Case):
    decal = case.decal if case.decal in PROCEDURAL_KINDS or case.decal is None else text_image(case.decal)
    return make_subject(case.seed, decal, shift=dict(case.shift))


def _has_decal_region(cached: Path) -> bool:
    """Whether a subject's cached truth geometry exists and has its decal region (older caches lack it)."""
    if not cached.is_file():
        return False
    with np.load(cached) as data:
        return "decal" in data


def _record(subject: str, method: str, score: ViewScore, **extra) -> dict:
    """One results.json record; a score that could not be measured (NaN: no pixel to compare) is null."""
    values = {k: (None if np.isnan(v) else round(v, 5)) for k in SCORE_KEYS
              if (v := getattr(score, k)) is not None}
    return {"subject": subject, "method": method, "view": extra.pop("view", score.name), **values, **extra}


def run_suite(G_factory, suite: str, methods: list[str], out: Path, checkpoint: dict[str, str], echo=print,
              curve_every: int | None = None, settings: list[str] | tuple[str, ...] = (),
              ray: dict | None = None) -> dict:
    """Invert every case of ``suite`` with every method (``settings``, KEY=VALUE, applied to all of them) with
    fresh generators from ``G_factory`` (``checkpoint``: their ``checkpoint_identity``); write results.json,
    table.md and contact sheets.

    With ``curve_every``, runs made now also score their final optimization every that many steps (curve.jsonl in
    the run folder); every run's curve is gathered into results.json and plotted in tradeoff.png. With ``ray``
    (``cluster.run_on_ray``'s keyword arguments: checkpoint, address, device, cpus_per_task), the inversions
    run first, one Ray task each, and are then scored here.
    """
    records, sheets, curves = [], {}, {}
    G = G_factory()
    if ray is not None:
        _invert_on_ray(suite, methods, out, G.img_resolution, settings, ray, echo)
    for case in SUITES[suite]:
        subject, geometry = case_subject(case, out, G.img_resolution)
        camera = load_label(subject / "input_camera.json")
        photo = load_photo(subject / "input.png", G.img_resolution)
        true_mesh = read_ply(subject / "mesh.ply")
        renders, finished = {}, []
        for method in methods:
            cfg = method_config(suite, method, settings)
            run_dir = out / "runs" / case.name / method.replace("/", "_")
            G = G_factory()
            curve = (QualityCurve(run_dir / CURVE_FILE, photo, camera, subject / "truth", curve_every)
                     if curve_every else None)
            config, run = run_config(cfg, subject / "input.png", camera, checkpoint, G), ResultFolder(run_dir)
            _share_stage1(run, config, cfg, finished)
            summary = invert_photo(G, photo, camera, cfg, run_dir, config, quiet=True, snapshot=curve)
            finished.append((cfg, run))
            if (run_dir / CURVE_FILE).is_file():
                curves.setdefault(case.name, {})[method] = read_curve(run_dir / CURVE_FILE)
            scores = score_subject(run.open(), subject, geometry)
            renders[method] = scores.novel
            chamfer = chamfer_distance(read_ply(run.mesh), true_mesh)
            records.append(_record(case.name, method, scores.input, view="input", chamfer=round(chamfer, 6),
                                   seconds=summary["seconds_total"]))
            records += [_record(case.name, method, s) for s in scores.novel]
            iv, m = scores.input, mean_scores(scores.novel)
            echo(f"{case.name} {method}: input PSNR {iv.psnr:.2f} LPIPS {iv.lpips_alex:.3f} | novel "
                 f"PSNR {m['psnr']:.2f} LPIPS {m['lpips_alex']:.3f} | Chamfer {chamfer * 1000:.1f}e-3")
        first = next(iter(renders.values()))
        rows = [s.truth for s in first] + [s.image for m in methods for s in renders[m]]
        sheets[case.name] = image_grid(rows, len(first))
        save_png(out / "sheets" / f"{case.name}.png", sheets[case.name])
    means = _means(records, methods)
    report = {"suite": suite, "methods": methods, "settings": list(settings), "records": records, "means": means,
              "curves": curves}
    with atomic_file(out / "results.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1))
    with atomic_file(out / "table.md") as tmp:
        tmp.write_text(markdown_table(means, suite))
    if curves:
        tradeoff_plot(curves, out / "tradeoff.png")
    sweep_plot(means, out / "sweeps.png")
    return report


def _share_stage1(folder: ResultFolder, config: dict, cfg: InversionConfig,
                  finished: list[tuple[InversionConfig, ResultFolder]]) -> None:
    """Start a fresh run folder from the stage-1 latent of a finished run of the same case whose stage 1 had the
    same inputs (PTI's pivot is hfgi3d's coarse latent): the same bytes, computed once. The copied stage keeps
    its seconds, so the run's time is still that of a run alone."""
    donor = next((run for other, run in finished if stage1_inputs(other) == stage1_inputs(cfg)), None)
    if donor is not None and not prepare_folder(folder, config):
        seed_stages(donor, folder, ("coarse",))


def _invert_on_ray(suite: str, methods: list[str], out: Path, resolution: int, settings, ray: dict, echo) -> None:
    """Every inversion of the suite as a Ray task (one ``run_on_ray`` per method), into the folders the
    sequential loop then finds finished."""
    from invert3d.pipeline.cluster import run_on_ray

    photos = [case_subject(case, out, resolution)[0].resolve() / "input.png" for case in SUITES[suite]]
    for method in methods:
        outs = [(out / "runs" / case.name / method.replace("/", "_")).resolve() for case in SUITES[suite]]
        results = run_on_ray(photos, outs, method_config(suite, method, settings), echo=echo, **ray)
        failed = [r["error"] for r in results if "error" in r]
        if failed:
            raise Invert3dError(f"{method}: {len(failed)} inversions failed on Ray: {failed[0]}")


def _means(records: list[dict], methods: list[str]) -> dict[str, dict[str, float]]:
    """Per method: the mean of every score over the input views ('input_*') and over the novel views
    ('novel_*'), and of the per-run Chamfer distance and seconds."""
    means = {}
    for method in methods:
        mine = [r for r in records if r["method"] == method]
        inp = [r for r in mine if r["view"] == "input"]
        nov = [r for r in mine if r["view"] != "input"]
        means[method] = {f"{where}_{k}": round(float(np.mean(values)), 5)
                         for where, rows in (("input", inp), ("novel", nov)) for k in SCORE_KEYS
                         if (values := [r[k] for r in rows if r.get(k) is not None])}
        means[method]["chamfer"] = round(float(np.mean([r["chamfer"] for r in inp])), 6)
        means[method]["seconds"] = round(float(np.mean([r["seconds"] for r in inp])), 1)
    return means


TABLE_COLUMNS = (  # (means key, header, format): the paper's Table 1 (input view, 3D consistency), then the truth
    ("input_psnr", "Input PSNR↑", "{:.2f}"), ("input_ms_ssim", "Input MS-SSIM↑", "{:.3f}"),
    ("input_lpips_alex", "Input LPIPS↓", "{:.3f}"), ("novel_reprojection", "Reproj. err↓", "{:.4f}"),
    ("novel_psnr", "Novel PSNR↑", "{:.2f}"), ("novel_ssim", "Novel SSIM↑", "{:.3f}"),
    ("novel_lpips_alex", "Novel LPIPS↓", "{:.3f}"), ("novel_decal_psnr", "Decal PSNR↑", "{:.2f}"),
    ("novel_decal_lpips", "Decal LPIPS↓", "{:.3f}"), ("novel_depth_err", "Depth err↓ (%)", "{:.2%}"),
    ("novel_mask_iou", "Mask IoU↑", "{:.3f}"), ("chamfer", "Chamfer↓ (1e-3)", "{:.2f}"), ("seconds", "s/run", "{:.0f}"))


def markdown_table(means: dict[str, dict[str, float]], suite: str) -> str:
    """The paper's Table 1 layout (input-view fidelity; 3D consistency as the novel views' reprojection error
    into the input view), plus the novel views and the geometry against the truth."""
    lines = [f"Suite `{suite}`, means over subjects: the input view; the novel views against the truth (reprojection "
             "error: each novel view warped into the input view, colours 0..1; depth error: median, % of the camera "
             "distance; decal: PSNR over the pixels where the truth shows the decal and LPIPS of its bounding box, "
             "in the novel views that show it); Chamfer distance of the result's mesh to the true mesh (world "
             "units).", "",
             "| Method | " + " | ".join(header for _, header, _ in TABLE_COLUMNS) + " |",
             "|---" * (len(TABLE_COLUMNS) + 1) + "|"]
    for method, m in means.items():
        cells = ["–" if m.get(key) is None else fmt.format(m[key] * (1000 if key == "chamfer" else 1))
                 for key, _, fmt in TABLE_COLUMNS]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
