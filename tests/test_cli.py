"""The command line as a user meets it: outputs on disk, exit codes, one-line errors."""

import json
import subprocess
import sys

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "invert3d", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def test_sample_writes_pngs_grid_and_videos(tmp_path):
    out = tmp_path / "samples"
    r = run("sample", "--random-init", "small", "--seeds", "0-1", "--frames", "6", "--grid-views", "3",
            "--out", out)
    assert r.returncode == 0, r.stderr
    for seed in (0, 1):
        img = np.asarray(Image.open(out / f"seed{seed:04d}.png"))
        assert img.shape == (128, 128, 3)
        reader = imageio_ffmpeg.read_frames(str(out / f"seed{seed:04d}.mp4"))
        meta = next(reader)
        assert meta["size"] == (128, 128)
        assert sum(1 for _ in reader) == 6
    assert np.asarray(Image.open(out / "grid.png")).shape == (2 * 128, 3 * 128, 3)
    settings = json.loads((out / "sample.json").read_text())
    assert settings["seeds"] == [0, 1] and settings["generator"]["img_resolution"] == 128
    # Different seeds give different subjects even from an untrained generator.
    a = np.asarray(Image.open(out / "seed0000.png"), dtype=float)
    b = np.asarray(Image.open(out / "seed0001.png"), dtype=float)
    assert np.abs(a - b).mean() > 1


def test_sample_from_nvidia_pickle_matches_conversion(tmp_path, eg3d_dir):
    converted = tmp_path / "converted"
    r = run("convert", eg3d_dir / "eg3d_small_nvidia_format.pkl", converted)
    assert r.returncode == 0, r.stderr
    assert (converted / "weights.safetensors").is_file() and (converted / "config.json").is_file()
    for name, ckpt in (("pkl", eg3d_dir / "eg3d_small_nvidia_format.pkl"), ("dir", converted)):
        r = run("sample", "--checkpoint", ckpt, "--seeds", "3", "--frames", "2", "--grid-views", "2",
                "--out", tmp_path / name)
        assert r.returncode == 0, r.stderr
    a = np.asarray(Image.open(tmp_path / "pkl" / "seed0003.png"))
    b = np.asarray(Image.open(tmp_path / "dir" / "seed0003.png"))
    assert np.array_equal(a, b)


@pytest.mark.parametrize("args, message", [
    (["sample", "--checkpoint", "/nonexistent/ffhq512-128.pkl", "--out", "o"], "checkpoint not found"),
    (["sample", "--checkpoint", "notes.pkl", "--out", "o"], "not a readable EG3D pickle"),
    (["sample", "--random-init", "small", "--seeds", "3-1", "--out", "o"], "bad seed range"),
    (["convert", "notes.pkl", "o"], "not a readable EG3D pickle"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    (tmp_path / "notes.pkl").write_text("not a checkpoint")
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()

