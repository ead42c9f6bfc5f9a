"""invert3d invert PHOTOS/ --ray: a local Ray cluster gives the sequential run's results, a bad photo fails alone,
and a task whose worker is killed is run again and resumes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")
pytestmark = pytest.mark.end_to_end  # Ray clusters start in a fresh process each: minutes

TINY = ["--preset", "fast", "--set", "coarse.steps=6", "--set", "pseudo.occluded.steps=3", "--set", "tuning.steps=6",
        "--set", "orbit_frames=4", "--set", "mesh_resolution=32"]
DATA_FILES = ("latent.safetensors", "generator/weights.safetensors", "reconstruction.png", "novel_views.png",
              "mesh.ply")


def invert(*args, env=None, **kwargs):
    return subprocess.run([sys.executable, "-m", "invert3d", "invert", *map(str, args)], capture_output=True,
                          text=True, timeout=900, env={**os.environ, **(env or {})}, **kwargs)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Two small synthetic subjects, each with its camera label beside it."""
    root = tmp_path_factory.mktemp("cluster")
    folder = root / "photos"
    folder.mkdir()
    for seed in (1, 2):
        subject = root / f"s{seed}"
        r = subprocess.run([sys.executable, "-m", "invert3d", "synth", "--seed", str(seed), "--out", str(subject)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        shutil.copyfile(subject / "input.png", folder / f"p{seed}.png")
        shutil.copyfile(subject / "input_camera.json", folder / f"p{seed}_camera.json")
    sequential = root / "sequential"  # each photo alone on one thread, as a Ray task runs it; side by side
    runs = [subprocess.Popen([sys.executable, "-m", "invert3d", "invert", str(folder / f"p{seed}.png"), "--out",
                              str(sequential / f"p{seed}"), *TINY], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}) for seed in (1, 2)]
    for run in runs:
        _, err = run.communicate(timeout=900)
        assert run.returncode == 0, err
    return folder, sequential


def test_ray_gives_the_sequential_results_and_a_bad_photo_fails_alone(photos, tmp_path):
    folder, sequential = photos
    mixed = tmp_path / "mixed"
    shutil.copytree(folder, mixed)
    (mixed / "bad.png").write_text("not an image")
    out = tmp_path / "ray"
    r = invert(mixed, "--out", out, "--ray", *TINY)
    assert r.returncode == 1 and "2 of 3 photos inverted" in r.stdout and "bad.png: " in r.stdout
    assert "Traceback" not in r.stderr and not (out / "bad").exists()
    for stem in ("p1", "p2"):
        for name in DATA_FILES:  # the same bytes as the sequential run at the same thread count
            assert (out / stem / name).read_bytes() == (sequential / stem / name).read_bytes(), (stem, name)
    again = invert(folder, "--out", out, "--ray", *TINY)  # finished folders are skipped
    assert again.returncode == 0 and again.stdout.count("already done") == 2


def _task_workers() -> list[int]:
    """PIDs of the Ray workers running an inversion task now."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"ray::_invert_one" in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def test_a_killed_worker_is_retried_and_its_photo_resumes(photos, tmp_path):
    folder, sequential = photos
    two = tmp_path / "two"  # two photos, one per worker
    two.mkdir()
    for name in ("p1.png", "p1_camera.json", "p2.png", "p2_camera.json"):
        shutil.copyfile(folder / name, two / name)
    out = tmp_path / "ray"
    run = subprocess.Popen([sys.executable, "-m", "invert3d", "invert", str(two), "--out", str(out), "--ray",
                            *TINY], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    killed = None
    while killed is None and time.monotonic() < deadline and run.poll() is None:
        started = [p for p in ("p1", "p2") if (out / p / "stages" / "coarse.safetensors").is_file()]
        workers = _task_workers()
        if started and workers:  # a task is past its first stage: kill its worker
            os.kill(workers[0], signal.SIGKILL)
            killed = workers[0]
        time.sleep(0.2)
    stdout, stderr = run.communicate(timeout=900)
    assert killed is not None, "no worker was caught mid-task"
    assert run.returncode == 0, stdout + stderr
    for stem in ("p1", "p2"):
        for name in DATA_FILES:
            assert (out / stem / name).read_bytes() == (sequential / stem / name).read_bytes(), (stem, name)


def test_bench_inverts_on_ray_then_scores(tmp_path):
    out = tmp_path / "bench"
    r = subprocess.run([sys.executable, "-m", "invert3d", "bench", "--suite", "smoke", "--methods", "hfgi3d",
                        *TINY[2:], "--ray", "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    assert "input.png: " in r.stdout and "/runs/" in r.stdout  # the inversion's line from its Ray task
    report = json.loads((out / "results.json").read_text())
    assert report["means"]["hfgi3d"]["novel_psnr"] > 10 and len(report["records"]) >= 9
    (case,) = (out / "runs").iterdir()
    assert (case / "hfgi3d" / "summary.json").is_file()
