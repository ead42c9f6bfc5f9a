"""The ground-truth benchmark end to end on its smoke suite."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from invert3d.benchmark import method_config
from invert3d.benchmark.plots import _sweep_points, sweep_plot


def test_smoke_suite_scores_methods_against_truth(tmp_path):
    out = tmp_path / "bench"
    cmd = [sys.executable, "-m", "invert3d", "bench", "--suite", "smoke", "--methods", "pti,hfgi3d", "--curve-every",
           "30", "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr
    report = json.loads((out / "results.json").read_text())
    views = {rec["view"] for rec in report["records"]}
    assert "input" in views and len(views) >= 9  # the input view and at least 8 novel views
    assert {rec["method"] for rec in report["records"]} == {"pti", "hfgi3d"}
    for method in ("pti", "hfgi3d"):
        m = report["means"][method]
        assert 10 < m["input_psnr"] < 60 and 10 < m["novel_psnr"] < 60 and 0 < m["novel_lpips_alex"] < 1
    # Quality curves of the final optimization (60 steps in the smoke suite): the start, every 30 steps.
    for method in ("pti", "hfgi3d"):
        curve = report["curves"]["s003_yaw+0.25_pitch+0.00"][method]
        assert [r["step"] for r in curve] == [0, 30, 60]
        assert curve[-1]["input_psnr"] > curve[0]["input_psnr"]  # tuning fits the photo
        final = [r for r in report["records"] if r["method"] == method and r["view"] == "input"][0]
        assert abs(curve[-1]["input_psnr"] - final["psnr"]) < 0.1  # the same model as the result (uint8 vs float)
    assert Image.open(out / "tradeoff.png").size[0] > 500
    table = (out / "table.md").read_text()
    assert "| pti |" in table and "| hfgi3d |" in table
    sheet = np.asarray(Image.open(next((out / "sheets").glob("*.png"))))
    assert sheet.shape[0] == 3 * 128  # truth, pti, hfgi3d rows
    # Resuming reuses the finished runs: the second call only re-scores.
    mtime = (out / "runs").stat().st_mtime_ns
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and (out / "runs").stat().st_mtime_ns == mtime
    r = subprocess.run([*cmd[:-5], "e4e", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "unknown method" in r.stderr


def test_method_names_map_to_settings():
    assert method_config("default", "hfgi3d/theta=0.4").pseudo.theta == 0.4
    views = method_config("default", "hfgi3d/views=5x1").pseudo
    assert (views.yaw_steps, views.pitch_steps) == (5, 1)
    spread = method_config("default", "hfgi3d/spread=0.3x0.1").pseudo
    assert (spread.yaw_range, spread.pitch_range) == (0.3, 0.1)
    assert method_config("default", "hfgi3d/no-visible").no_visible
    assert method_config("default", "pti").method == "pti"
    bad_names = ("pti/theta=0.3", "hfgi3d/theta=", "hfgi3d/views=0x3", "hfgi3d/views=100x100", "hfgi3d/spread=3x0.2",
                 "e4e")
    for bad in bad_names:
        with pytest.raises(ValueError):
            method_config("default", bad)


def test_sweep_plot_groups_settings_around_the_default(tmp_path):
    methods = ["pti", "hfgi3d", "hfgi3d/theta=0.4", "hfgi3d/theta=0.1", "hfgi3d/gaussian", "hfgi3d/no-visible"]
    assert _sweep_points(methods) == {"theta": ["hfgi3d/theta=0.1", "hfgi3d", "hfgi3d/theta=0.4"],
                                      "blend": ["hfgi3d", "hfgi3d/gaussian"]}
    means = {m: {"input_psnr": 22.0 + k, "novel_psnr": 21.0 + k} for k, m in enumerate(methods)}
    assert sweep_plot(means, tmp_path / "sweeps.png")
    assert Image.open(tmp_path / "sweeps.png").size[0] > 2 * Image.open(tmp_path / "sweeps.png").size[1]
    assert not sweep_plot({"pti": means["pti"], "hfgi3d": means["hfgi3d"]}, tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()
