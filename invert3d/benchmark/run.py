"""Running methods on a suite and scoring them against the synthetic ground truth (resumable: finished
inversions are reused)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from invert3d.benchmark.curves import CURVE_FILE, QualityCurve, read_curve
from invert3d.benchmark.methods import method_config
from invert3d.benchmark.plots import sweep_plot, tradeoff_plot
from invert3d.benchmark.suites import SUITES, Case
from invert3d.cameras import load_label
from invert3d.files import atomic_file
from invert3d.media import image_grid, load_photo, save_png
from invert3d.pipeline.evaluate import mean_scores, score_views
from invert3d.pipeline.invert import invert_photo, run_config
from invert3d.pipeline.result import open_result
from invert3d.synthetic.decals import KINDS, text_image
from invert3d.synthetic.subject import make_subject, write_subject


def _subject(case: Case, root: Path, resolution: int) -> Path:
    path = root / "subjects" / case.name
    if not (path / "subject.json").exists():
        decal = case.decal if case.decal in KINDS else text_image(case.decal)
        write_subject(make_subject(case.seed, decal), path, case.yaw, case.pitch, resolution)
    return path


def run_suite(G_factory, suite: str, methods: list[str], out: Path, checkpoint: str, echo=print,
              curve_every: int | None = None) -> dict:
    """Invert every case of ``suite`` with every method; write results.json, table.md and contact sheets.

    With ``curve_every``, runs made now also score their final optimization every that many steps (curve.jsonl in
    the run folder); every run's curve is gathered into results.json and plotted in tradeoff.png.
    """
    records, sheets, curves = [], {}, {}
    G = G_factory()
    for case in SUITES[suite]:
        subject = _subject(case, out, G.img_resolution)
        camera = load_label(subject / "input_camera.json")
        photo = load_photo(subject / "input.png", G.img_resolution)
        renders = {}
        for method in methods:
            cfg = method_config(suite, method)
            run_dir = out / "runs" / case.name / method.replace("/", "_")
            G = G_factory()
            curve = (QualityCurve(run_dir / CURVE_FILE, photo, camera, subject / "truth", curve_every)
                     if curve_every else None)
            summary = invert_photo(G, photo, camera, cfg, run_dir, run_config(cfg, subject / "input.png", camera,
                                                                               checkpoint, G), quiet=True,
                                   snapshot=curve)
            if (run_dir / CURVE_FILE).is_file():
                curves.setdefault(case.name, {})[method] = read_curve(run_dir / CURVE_FILE)
            scores = score_views(open_result(run_dir), subject / "truth")
            renders[method] = scores
            iv = summary["input_view"]
            records.append({"subject": case.name, "method": method, "view": "input", "psnr": iv["psnr"],
                            "ssim": iv["ssim"], "lpips_alex": iv["lpips_alex"],
                            "seconds": summary["seconds_total"]})
            records += [{"subject": case.name, "method": method, "view": s.name, "psnr": round(s.psnr, 3),
                         "ssim": round(s.ssim, 4), "lpips_alex": round(s.lpips_alex, 4)} for s in scores]
            m = mean_scores(scores)
            echo(f"{case.name} {method}: input PSNR {iv['psnr']:.2f} LPIPS {iv['lpips_alex']:.3f} | novel "
                 f"PSNR {m['psnr']:.2f} LPIPS {m['lpips_alex']:.3f}")
        first = next(iter(renders.values()))
        rows = [s.truth for s in first] + [s.image for m in methods for s in renders[m]]
        sheets[case.name] = image_grid(rows, len(first))
        save_png(out / "sheets" / f"{case.name}.png", sheets[case.name])
    means = _means(records, methods)
    report = {"suite": suite, "methods": methods, "records": records, "means": means, "curves": curves}
    with atomic_file(out / "results.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1))
    with atomic_file(out / "table.md") as tmp:
        tmp.write_text(markdown_table(means, suite))
    if curves:
        tradeoff_plot(curves, out / "tradeoff.png")
    sweep_plot(means, out / "sweeps.png")
    return report


def _means(records: list[dict], methods: list[str]) -> dict[str, dict[str, float]]:
    means = {}
    for method in methods:
        mine = [r for r in records if r["method"] == method]
        inp = [r for r in mine if r["view"] == "input"]
        nov = [r for r in mine if r["view"] != "input"]
        means[method] = {f"{where}_{k}": round(float(np.mean([r[k] for r in rows])), 4)
                         for where, rows in (("input", inp), ("novel", nov)) for k in ("psnr", "ssim", "lpips_alex")}
        means[method]["seconds"] = round(float(np.mean([r["seconds"] for r in inp])), 1)
    return means


def markdown_table(means: dict[str, dict[str, float]], suite: str) -> str:
    lines = [f"Suite `{suite}`: input view and novel views (vs. ground truth), means over subjects.", "",
             "| Method | Input PSNR↑ | Input SSIM↑ | Input LPIPS↓ | Novel PSNR↑ | Novel SSIM↑ | Novel LPIPS↓ | s/run |",
             "|---|---|---|---|---|---|---|---|"]
    for method, m in means.items():
        lines.append(f"| {method} | {m['input_psnr']:.2f} | {m['input_ssim']:.3f} | {m['input_lpips_alex']:.3f} | "
                     f"{m['novel_psnr']:.2f} | {m['novel_ssim']:.3f} | {m['novel_lpips_alex']:.3f} | "
                     f"{m['seconds']:.0f} |")
    return "\n".join(lines) + "\n"
