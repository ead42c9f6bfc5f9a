"""The ground-truth benchmark end to end on its smoke suite."""

import json
import subprocess
import sys

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from invert3d.benchmark import SUITES, method_config
from invert3d.benchmark.plots import _sweep_points, sweep_plot


@pytest.mark.end_to_end
def test_smoke_suite_scores_methods_against_truth(tmp_path):
    out = tmp_path / "bench"
    cmd = [sys.executable, "-m", "invert3d", "bench", "--suite", "smoke", "--methods", "pti,hfgi3d", "--curve-every",
           "20", "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr
    report = json.loads((out / "results.json").read_text())
    views = {rec["view"] for rec in report["records"]}
    assert "input" in views and len(views) >= 9  # the input view and at least 8 novel views
    assert {rec["method"] for rec in report["records"]} == {"pti", "hfgi3d"}
    for method in ("pti", "hfgi3d"):
        m = report["means"][method]
        assert 10 < m["input_psnr"] < 60 and 10 < m["novel_psnr"] < 60 and 0 < m["novel_lpips_alex"] < 1
        assert 0 < m["input_ms_ssim"] <= 1 and 0 < m["novel_reprojection"] < 0.2
        # Geometry against the truth: a head of the right shape, not merely right-looking pixels.
        assert m["novel_mask_iou"] > 0.8 and m["novel_depth_err"] < 0.05 and 0 < m["chamfer"] < 0.05
        # The decal region: scored in the views that show it, and harder than the head as a whole.
        assert 5 < m["novel_decal_psnr"] < m["novel_psnr"] and 0 < m["novel_decal_lpips"] < 1
    # Quality curves of the final optimization (40 steps in the smoke suite): the start, every 20 steps.
    for method in ("pti", "hfgi3d"):
        curve = report["curves"]["s003_yaw+0.25_pitch+0.00"][method]
        assert [r["step"] for r in curve] == [0, 20, 40]
        assert curve[-1]["input_psnr"] > curve[0]["input_psnr"]  # tuning fits the photo
        final = [r for r in report["records"] if r["method"] == method and r["view"] == "input"][0]
        assert abs(curve[-1]["input_psnr"] - final["psnr"]) < 0.1  # the same model as the result (uint8 vs float)
    assert Image.open(out / "tradeoff.png").size[0] > 500
    table = (out / "table.md").read_text()
    assert "| pti |" in table and "| hfgi3d |" in table and "Chamfer" in table and "Decal PSNR" in table
    assert (out / "subjects" / "s003_yaw+0.25_pitch+0.00" / "truth_geometry.npz").is_file()
    # hfgi3d started from PTI's pivot (the same stage-1 inputs), and its time still counts that stage.
    runs = out / "runs" / "s003_yaw+0.25_pitch+0.00"
    pivot = [(runs / m / "stages" / "coarse.safetensors").read_bytes() for m in ("pti", "hfgi3d")]
    assert pivot[0] == pivot[1]
    seconds = [json.loads((runs / m / "summary.json").read_text())["seconds"]["coarse"] for m in ("pti", "hfgi3d")]
    assert seconds[0] == seconds[1] > 0
    sheet = np.asarray(Image.open(next((out / "sheets").glob("*.png"))))
    assert sheet.shape[0] == 3 * 128  # truth, pti, hfgi3d rows
    # Resuming reuses the finished runs: a second call (one method, to keep the test short) only re-scores.
    mtime = (out / "runs" / "s003_yaw+0.25_pitch+0.00" / "pti").stat().st_mtime_ns
    again = [*cmd[:7], "pti", *cmd[8:]]
    r = subprocess.run(again, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and (out / "runs" / "s003_yaw+0.25_pitch+0.00" / "pti").stat().st_mtime_ns == mtime
    r = subprocess.run([*cmd[:-5], "e4e", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "unknown method" in r.stderr
    for settings, message in ((["--set", "tuning.lr=-1"], "tuning.lr must be > 0"),
                              (["--set", "method=pti"], "takes its methods from --methods")):
        r = subprocess.run([*cmd, *settings], capture_output=True, text=True, timeout=300)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_method_names_map_to_settings():
    # The sweep suite's subjects and budgets are the default suite's, so its plain-hfgi3d runs can be shared.
    assert set(SUITES["sweep"]) < set(SUITES["default"])
    assert set(SUITES["sweep"]) | set(SUITES["held-out"]) == set(SUITES["default"])
    assert not set(SUITES["sweep"]) & set(SUITES["held-out"])
    assert method_config("sweep", "hfgi3d") == method_config("default", "hfgi3d")
    assert method_config("default", "hfgi3d/theta=0.4").pseudo.theta == 0.4
    views = method_config("default", "hfgi3d/views=5x1").pseudo
    assert (views.yaw_steps, views.pitch_steps) == (5, 1)
    spread = method_config("default", "hfgi3d/spread=0.3x0.1").pseudo
    assert (spread.yaw_range, spread.pitch_range) == (0.3, 0.1)
    assert method_config("default", "hfgi3d/no-visible").no_visible
    assert method_config("default", "hfgi3d/pseudo-weight=0.5").tuning.pseudo_weight == 0.5
    assert method_config("default", "hfgi3d/blended-loss").tuning.pseudo_loss == "blended"
    assert method_config("default", "pti").method == "pti"
    # Any setting, on either method, several joined by '/'; a benchmark-wide setting comes first.
    both = method_config("default", "pti/loss.lpips=0.1/tuning.planes_lr=0.01")
    assert (both.method, both.loss.lpips, both.tuning.planes_lr) == ("pti", 0.1, 0.01)
    assert method_config("default", "hfgi3d/loss.lpips=0.2", ["loss.lpips=0.1", "loss.l2=2"]).loss == \
        replace(method_config("default", "hfgi3d").loss, lpips=0.2, l2=2.0)
    bad_names = ("hfgi3d/theta=", "hfgi3d/views=0x3", "hfgi3d/views=100x100", "hfgi3d/spread=3x0.2",
                 "hfgi3d/pseudo-weight=20", "e4e", "hfgi3d/tuning.lr=-1", "hfgi3d/tuning.bogus=1", "hfgi3d/gaussan",
                 "pti/no-visible", "hfgi3d/views=3", "hfgi3d/theta=high", "hfgi3d/spread=0.3x")
    for bad in bad_names:
        with pytest.raises(ValueError):
            method_config("default", bad)


def test_runs_share_stage1_only_when_its_inputs_match():
    from invert3d.pipeline.stages import stage1_inputs

    hfgi3d = stage1_inputs(method_config("default", "hfgi3d"))
    assert stage1_inputs(method_config("default", "pti")) == hfgi3d
    assert stage1_inputs(method_config("default", "hfgi3d/tuning.steps=10/pseudo-weight=1")) == hfgi3d
    for other in ("hfgi3d/coarse.steps=100", "pti/loss.lpips=0.1", "hfgi3d/seed=1", "hfgi3d/coarse.space=w+"):
        assert stage1_inputs(method_config("default", other)) != hfgi3d, other


def test_sweep_plot_groups_settings_around_the_default(tmp_path):
    methods = ["pti", "hfgi3d", "hfgi3d/theta=0.4", "hfgi3d/theta=0.1", "hfgi3d/gaussian", "hfgi3d/no-visible",
               "hfgi3d/pseudo-weight=1", "hfgi3d/pseudo-weight=0.1"]
    assert _sweep_points(methods) == {"theta": ["hfgi3d/theta=0.1", "hfgi3d", "hfgi3d/theta=0.4"],
                                      "pseudo.blend": ["hfgi3d", "hfgi3d/gaussian"],
                                      "pseudo-weight": ["hfgi3d/pseudo-weight=0.1", "hfgi3d", "hfgi3d/pseudo-weight=1"]}
    means = {m: {"input_psnr": 22.0 + k, "novel_psnr": 21.0 + k} for k, m in enumerate(methods)}
    assert sweep_plot(means, tmp_path / "sweeps.png")
    assert Image.open(tmp_path / "sweeps.png").size[0] > 2 * Image.open(tmp_path / "sweeps.png").size[1]
    assert not sweep_plot({"pti": means["pti"], "hfgi3d": means["hfgi3d"]}, tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()


@pytest.mark.end_to_end
def test_edit_suite_end_to_end_on_a_tiny_budget(tmp_path, monkeypatch):
    """One subject, one attribute, one strength, a few steps: every output of the edit suite, and edits that
    move what they are asked to move and nothing else."""
    from invert3d.benchmark import edits
    from invert3d.benchmark.suites import Case
    from invert3d.checkpoints import checkpoint_identity, load_generator
    from invert3d.editing import subject
    from invert3d.inversion import preimage

    monkeypatch.setitem(SUITES, "edit", (Case(1, "tattoo", 0.25),))
    monkeypatch.setattr(edits, "ATTRIBUTES", ("skin_tone",))
    monkeypatch.setattr(edits, "STRENGTHS", (2.0,))
    monkeypatch.setattr(edits, "SAMPLES", 4000)
    monkeypatch.setattr(subject, "FIT", replace(subject.FIT, steps=4))  # the subject's latent, roughly
    monkeypatch.setattr(preimage, "RESTARTS", 2)
    tiny = ["coarse.steps=8", "pseudo.occluded.steps=4", "tuning.steps=8", "orbit_frames=4", "mesh_resolution=32",
            "pseudo.yaw_steps=3", "pseudo.pitch_steps=1"]
    out = tmp_path / "edit"
    report = edits.run_edit_suite(load_generator, ["hfgi3d"], out, checkpoint_identity(), echo=lambda _: None,
                                  settings=tiny)
    assert [(r["directions"], r["strength"]) for r in report["rows"]] == [("plain", 2.0), ("conditional", 2.0),
                                                                          ("mean", 2.0)]
    plain, _, mean = report["rows"]
    assert 1.9 < mean["achieved_sd"] < 2.1 and mean["leak_max_sd"] < 0.2  # the readout of the mean edit's step
    assert mean["gain_db"] > 0  # darker skin is closer to the darker truth than the unedited result
    assert plain["subject_aware"] and not mean["subject_aware"]  # the subject's response scales the plain step
    # The tattoo inside the edits, beside the unedited result's own (against its own truth), for the table.
    assert 5 < plain["edit_decal_psnr"] and 0 < plain["edit_decal_lpips"] < 1
    assert 5 < plain["fidelity_decal_psnr"] and 0 < plain["fidelity_decal_lpips"] < 1
    scale = subject.response_scale(plain["subject_latent"], 2.0)
    assert plain["achieved_sd"] == pytest.approx(mean["achieved_sd"] * scale, abs=0.01)
    assert 0 < plain["seconds_per_edit"] < 300 and "seconds_per_edit" not in report["rows"][1]
    assert (out / "edits" / "s001_yaw+0.25_pitch+0.00" / "skin_tone+2" / "novel_views.png").is_file()
    assert Image.open(out / "strips" / "skin_tone.png").size[0] == 5 * 128
    (texture,) = report["texture_edits"]
    assert texture["texture_edit"]["views_near"] > 0 and texture["texture_edit_seconds"] > 0
    table = (out / "table.md").read_text()
    own = report["summary"]["hfgi3d/plain"]["mean_fidelity_decal_psnr"]
    assert f"({own:.2f} / " in table
    assert "| hfgi3d/plain | 1 |" in table and "| hfgi3d/conditional | 1 |" in table and "| hfgi3d/mean | 1 |" in table
    assert "Texture edits" in table
    assert json.loads((out / "results.json").read_text())["summary"]["hfgi3d/plain"]["edits"] == 1


def test_edit_suite_refuses_a_generator_without_exact_labels(eg3d_dir, tmp_path):
    out = tmp_path / "o"
    r = subprocess.run([sys.executable, "-m", "invert3d", "bench", "--suite", "edit", "--checkpoint",
                        str(eg3d_dir / "eg3d_small_nvidia_format.pkl"), "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "synthetic world" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
