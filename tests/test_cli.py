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
    # Into a log (not a terminal) each bar is one line when it ends, not hundreds of updates.
    assert "\r" not in r.stderr and r.stderr.count("seeds: 2/2 seeds") == 1, r.stderr


def test_sample_shapes_and_views_without_videos(tmp_path):
    out = tmp_path / "shapes"
    r = run("sample", "--seeds", "5", "--no-video", "--grid-views", "2", "--shapes", "--shape-res", "48",
            "--shape-format", "obj", "--image-mode", "depth", "-q", "--out", out)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["grid.png", "sample.json", "seed0005.obj", "seed0005.png"]
    lines = (out / "seed0005.obj").read_text().splitlines()
    vertices = [line.split() for line in lines if line.startswith("v ")]
    assert len(vertices) > 500 and all(len(v) == 7 for v in vertices)  # positions and colours
    colours = np.array([[float(c) for c in v[4:]] for v in vertices])
    assert colours.std(axis=0).max() > 0.05 and any(line.startswith("f ") for line in lines)
    depth = np.asarray(Image.open(out / "seed0005.png"))
    assert (depth[..., 0] == depth[..., 2]).all() and depth.max() > 200 and depth.min() == 0


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



def test_help_is_light_listed_and_versioned():
    r = subprocess.run([sys.executable, "-c", "import sys, invert3d.cli; print('torch' in sys.modules)"],
                       capture_output=True, text=True)
    assert r.stdout.strip() == "False", r.stderr  # --help never waits for torch
    r = run("-h")
    assert r.returncode == 0 and all(c in r.stdout for c in ("invert", "render", "metrics", "fetch-weights"))
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("invert3d 0.")
    r = run("invert", "-h")
    assert r.returncode == 0 and "<bool>" not in r.stdout and "--method <hfgi3d|pti>" in r.stdout
    assert "--preset <paper|fast>" in r.stdout and "cuda[:N]" in r.stdout and "--force" in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 100


@pytest.mark.parametrize("command", ["synth", "render", "convert", "invert", "sample"])
def test_out_under_a_file_is_one_line_and_writes_nothing(tmp_path, command):
    (tmp_path / "notes.txt").write_text("a file")
    out = tmp_path / "notes.txt" / "out"
    (tmp_path / "photo.png").write_bytes(b"")
    args = {"synth": ["synth", "--out", out], "render": ["render", tmp_path, "--yaw", "0", "--out", out],
            "convert": ["convert", tmp_path / "notes.txt", out],
            "invert": ["invert", tmp_path / "notes.txt", "--out", out],
            "sample": ["sample", "--random-init", "small", "--seeds", "0", "--out", out]}[command]
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "photo.png"]


def test_device_names_and_the_out_rule(tmp_path):
    r = run("sample", "--random-init", "small", "--device", "gpu", "--out", tmp_path / "s")
    assert r.returncode == 2 and "unknown device 'gpu'" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run("sample", "--random-init", "small", "--device", "cuda:1", "--out", tmp_path / "s")
    assert r.returncode == 2 and "--device cuda:1" in r.stderr and "Traceback" not in r.stderr
    # synth into a folder that holds something else: refused, left as it was; --force replaces it.
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    r = run("synth", "--resolution", "32", "--out", other)
    assert r.returncode == 2 and "not empty" in r.stderr and (other / "keep.txt").read_text() == "mine"
    r = run("synth", "--resolution", "32", "--force", "--out", other)
    assert r.returncode == 0 and not (other / "keep.txt").exists() and (other / "input.png").is_file()
    r = run("synth", "--decal-image", tmp_path / "missing_logo.png", "--out", tmp_path / "d")
    assert r.returncode == 2 and "no such file" in r.stderr and not (tmp_path / "d").exists()
    # --force never deletes the working folder (or a folder holding it) or an input.
    r = run("synth", "--resolution", "32", "--force", "--out", ".", cwd=other)
    assert r.returncode == 2 and "would delete" in r.stderr and (other / "input.png").is_file()
    r = run("synth", "--yaw", "nan", "--out", tmp_path / "n")
    assert r.returncode == 2 and "finite" in r.stderr and not (tmp_path / "n").exists()


def test_metrics_pairs_sizes_and_messages(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(a).save(tmp_path / "a.png")
    Image.fromarray(np.clip(a.astype(int) + 8, 0, 255).astype(np.uint8)).save(tmp_path / "b.png")
    Image.fromarray(a).resize((128, 96)).save(tmp_path / "big.png")
    r = run("metrics", tmp_path / "a.png", tmp_path / "b.png")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert set(report) == {"pairs", "mean"} and len(report["pairs"]) == 1  # one shape for a pair or for folders
    assert 25 < report["mean"]["psnr"] < 35 and report["pairs"][0]["image"] == "a.png"  # non-square is fine
    r = run("metrics", tmp_path / "a.png", tmp_path / "big.png")
    assert r.returncode == 2 and "compare images of one size" in r.stderr
    r = run("metrics", tmp_path / "a.png", tmp_path / "none.png")
    assert r.returncode == 2 and "not found" in r.stderr and "none.png" in r.stderr


def test_fetch_weights_explains_an_unreachable_index(tmp_path):
    import os

    env = {**os.environ, "INVERT3D_CACHE": str(tmp_path / "cache"), "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
           "PIP_RETRIES": "0", "PIP_TIMEOUT": "2", "PIP_FIND_LINKS": "", "PIP_NO_INDEX": ""}
    r = subprocess.run([sys.executable, "-m", "invert3d", "fetch-weights"], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "fetching the LPIPS weights once" in r.stderr and "~69 MB" in r.stderr
    assert "cannot fetch the LPIPS weights" in r.stderr and not (tmp_path / "cache" / "lpips_vgg.safetensors").exists()
