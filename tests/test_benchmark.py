"""The ground-truth benchmark end to end on its smoke suite."""

import json
import subprocess
import sys

import numpy as np
from PIL import Image


def test_smoke_suite_scores_methods_against_truth(tmp_path):
    out = tmp_path / "bench"
    cmd = [sys.executable, "-m", "invert3d", "bench", "--suite", "smoke", "--methods", "pti,hfgi3d", "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr
    report = json.loads((out / "results.json").read_text())
    views = {rec["view"] for rec in report["records"]}
    assert "input" in views and len(views) >= 9  # the input view and at least 8 novel views
    assert {rec["method"] for rec in report["records"]} == {"pti", "hfgi3d"}
    for method in ("pti", "hfgi3d"):
        m = report["means"][method]
        assert 10 < m["input_psnr"] < 60 and 10 < m["novel_psnr"] < 60 and 0 < m["novel_lpips_alex"] < 1
    table = (out / "table.md").read_text()
    assert "| pti |" in table and "| hfgi3d |" in table
    sheet = np.asarray(Image.open(next((out / "sheets").glob("*.png"))))
    assert sheet.shape[0] == 3 * 128  # truth, pti, hfgi3d rows
    # Resuming reuses the finished runs: the second call only re-scores.
    mtime = (out / "runs").stat().st_mtime_ns
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and (out / "runs").stat().st_mtime_ns == mtime
    r = subprocess.run([*cmd[:-3], "e4e", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "unknown method" in r.stderr
