"""The inversion job end to end on the embedded model with tiny budgets: files, resume, refusals, CLI."""

import json
import subprocess
import sys
from dataclasses import replace

import imageio_ffmpeg
import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from invert3d.cameras import load_label
from invert3d.checkpoints import checkpoint_identity, load_generator
from invert3d.config import preset
from invert3d.errors import Invert3dError
from invert3d.media import load_photo
from invert3d.pipeline.invert import invert_photo, run_config
from invert3d.synthetic.subject import make_subject, write_subject


def tiny(method="hfgi3d", **kw):
    cfg = preset("fast", method, **kw)
    return replace(cfg, coarse=replace(cfg.coarse, steps=4, w_avg_samples=500),
                   geometry=replace(cfg.geometry, resolution=64),
                   pseudo=replace(cfg.pseudo, yaw_steps=3, pitch_steps=2,
                                  occluded=replace(cfg.pseudo.occluded, steps=3, w_avg_samples=500)),
                   tuning=replace(cfg.tuning, steps=4), log_every=2, orbit_frames=6)


@pytest.fixture(scope="module")
def subject(tmp_path_factory):
    out = tmp_path_factory.mktemp("subject") / "s"
    write_subject(make_subject(3, "tattoo"), out, 0.25, 0.0, 128, mesh_resolution=48)
    return out


def _invert(subject, out, cfg):
    G = load_generator()
    image = subject / "input.png"
    camera = load_label(subject / "input_camera.json")
    return invert_photo(G, load_photo(image, 128), camera, cfg, out,
                        run_config(cfg, image, camera, checkpoint_identity(), G), quiet=True)


def test_hfgi3d_result_folder_and_resume(subject, tmp_path):
    out = tmp_path / "r"
    cfg = tiny()
    summary = _invert(subject, out, cfg)
    for name in ("input.png", "reconstruction.png", "pseudo_views.png", "novel_views.png", "orbit.mp4", "mesh.ply",
                 "coarse_mesh.ply", "latent.safetensors", "config.json", "log.jsonl", "summary.json"):
        assert (out / name).is_file(), name
    assert np.asarray(Image.open(out / "novel_views.png")).shape == (3 * 128, 5 * 128, 3)
    assert set(summary["seconds"]) >= {"coarse", "geometry", "visible", "occluded", "pseudo_views", "tuning"}
    assert 5 < summary["input_view"]["psnr"] < 60 and 0 <= summary["input_view"]["lpips_alex"] < 1
    assert json.loads((out / "config.json").read_text())["inversion"] == cfg.to_dict()
    stages = [json.loads(line)["stage"] for line in (out / "log.jsonl").read_text().splitlines()]
    assert stages[0] == "coarse" and "occluded" in stages and stages[-1] == "tuning"
    # mesh.ply wears the result's own colours: rasterized at the input camera it looks like the reconstruction,
    # closer than the decoder's first colour features (what it wore before).
    from invert3d.cameras import split_label
    from invert3d.geometry import read_ply, render_vertex_colors
    from invert3d.metrics import psnr
    from invert3d.pipeline.layout import ResultFolder
    from invert3d.pipeline.outputs import decoder_colours

    mesh, camera = read_ply(out / "mesh.ply"), ResultFolder(out).input_camera()
    recon = load_photo(out / "reconstruction.png", 128)

    def raster_psnr(colours):
        image, covered = render_vertex_colors(torch.from_numpy(mesh.vertices), torch.from_numpy(mesh.faces),
                                              torch.from_numpy(colours).float() / 127.5 - 1, *split_label(camera), 128)
        return float(psnr(image[None] * covered, recon * covered)[0])

    assert raster_psnr(mesh.colors) > max(18.0, raster_psnr(decoder_colours(ResultFolder(out).open(), mesh.vertices)))
    assert json.loads((out / "summary.json").read_text())["format"] == 2
    ws = load_file(str(out / "latent.safetensors"))["ws"]
    tuned = load_generator(out / "generator")
    assert ws.shape == (1, tuned.num_ws, tuned.w_dim)
    assert any(not torch.equal(a, b) for a, b in zip(tuned.parameters(), load_generator().parameters()))

    # A finished folder is left alone.
    mtime = (out / "summary.json").stat().st_mtime_ns
    assert _invert(subject, out, cfg) == summary and (out / "summary.json").stat().st_mtime_ns == mtime
    # Interrupted during tuning: only tuning and outputs run again, and the result is the same (seeded).
    (out / "summary.json").unlink()
    progress = json.loads((out / "stages" / "progress.json").read_text())
    del progress["seconds"]["tuning"]
    (out / "stages" / "progress.json").write_text(json.dumps(progress))
    coarse_mtime = (out / "stages" / "coarse.safetensors").stat().st_mtime_ns
    _invert(subject, out, cfg)
    assert (out / "stages" / "coarse.safetensors").stat().st_mtime_ns == coarse_mtime
    assert torch.allclose(load_file(str(out / "latent.safetensors"))["ws"], ws, atol=1e-5)
    # Other settings into the same folder are refused.
    with pytest.raises(Invert3dError, match="other settings"):
        _invert(subject, out, replace(cfg, seed=1))
    # A folder written before a settings field existed (its default reproduces the old behaviour) is this run.
    config = json.loads((out / "config.json").read_text())
    del config["inversion"]["tuning"]["pseudo_weight"]
    (out / "config.json").write_text(json.dumps(config))
    mtime = (out / "summary.json").stat().st_mtime_ns
    _invert(subject, out, cfg)
    assert (out / "summary.json").stat().st_mtime_ns == mtime


def test_pti_and_density_reg_skip_pseudo_views(subject, tmp_path):
    s = _invert(subject, tmp_path / "pti", tiny("pti"))
    assert "visible" not in s["seconds"] and "geometry" not in s["seconds"]
    assert not (tmp_path / "pti" / "pseudo_views.png").exists()
    d = _invert(subject, tmp_path / "dreg", tiny(density_reg=True))
    assert "density_target" in d["seconds"] and "visible" not in d["seconds"]
    records = [json.loads(line) for line in (tmp_path / "dreg" / "log.jsonl").read_text().splitlines()]
    assert any("density" in r for r in records if r["stage"] == "tuning")


@pytest.mark.parametrize("start", ["coarse", "occluded"])
def test_tuning_starts_from_the_chosen_latent(subject, tmp_path, start):
    cfg = tiny()
    cfg = replace(cfg, tuning=replace(cfg.tuning, steps=0, start=start))  # no step: the result is the start
    _invert(subject, tmp_path / "r", cfg)
    stages = tmp_path / "r" / "stages"
    coarse, occluded = (load_file(str(stages / f"{name}.safetensors"))["ws"] for name in ("coarse", "occluded"))
    assert not torch.equal(coarse, occluded)
    tuned = load_file(str(tmp_path / "r" / "latent.safetensors"))["ws"]
    assert torch.equal(tuned, occluded if start == "occluded" else coarse)


def run(*args):
    return subprocess.run([sys.executable, "-m", "invert3d", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def test_cli_refuses_bad_input_without_writing(tmp_path, subject):
    out = tmp_path / "never"
    r = run("invert", tmp_path / "missing.png", "--out", out)
    assert r.returncode == 2 and "image not found" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    r = run("invert", bad, "--out", out)
    assert r.returncode == 2 and "not a readable image" in r.stderr
    r = run("invert", subject / "input.png", "--camera", subject / "mesh.ply", "--out", out)
    assert r.returncode == 2 and "camera" in r.stderr
    r = run("invert", subject / "input.png", "--method", "e4e", "--out", out)
    assert r.returncode == 2 and "'e4e' is not one of" in r.stderr
    r = run("demo", "--decal-kind", "sticker", "--out", out)
    assert r.returncode == 2 and "'sticker' is not one of" in r.stderr
    r = run("demo", "--preset", "slow", "--out", out)
    assert r.returncode == 2 and "'slow' is not one of" in r.stderr and "Traceback" not in r.stderr
    for args, message in ((["--set", "tuning.lr=-1"], "tuning.lr must be > 0"),
                          (["--set", "tuning.speed=2"], "unknown setting tuning.speed"),
                          (["--set", "loss.lpips=much"], "loss.lpips must be a float"),
                          (["--config", tmp_path / "missing.json"], "cannot read settings file")):
        r = run("invert", subject / "input.png", *args, "--out", out)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_render_cli_writes_one_png_per_camera(subject, tmp_path):
    result = tmp_path / "r"
    cfg = tiny("pti")
    _invert(subject, result, replace(cfg, tuning=replace(cfg.tuning, planes_lr=0.05)))
    # The triplane residual of the tuning travels with the result's generator into every render.
    tuned = load_generator(result / "generator")
    assert tuned.cfg.plane_offset and tuned.plane_offset.abs().max() > 0
    views = tmp_path / "views"
    r = run("render", result, "--cameras", subject / "truth" / "cameras.json", "--out", views)
    assert r.returncode == 0, r.stderr
    names = [e[0] for e in json.loads((subject / "truth" / "cameras.json").read_text())["labels"]]
    assert sorted(p.name for p in views.iterdir()) == sorted(names)
    assert np.asarray(Image.open(views / names[0])).shape == (128, 128, 3)
    r = run("render", result, "--yaw", "0.3", "--orbit", "--out", views)
    assert r.returncode == 2 and "exactly one" in r.stderr
    r = run("render", tmp_path, "--orbit", "--out", views)
    assert r.returncode == 2 and "not a finished invert3d result" in r.stderr
    # One rule for --out: a folder holding other files is refused (nothing is mixed in), --force replaces it.
    r = run("render", result, "--yaw", "0.2", "--out", views)
    assert r.returncode == 2 and "not empty" in r.stderr and len(list(views.iterdir())) == len(names)
    r = run("render", result, "--grid", "3x2", "--image-mode", "depth", "--resolution", "64", "--force", "--out", views)
    assert r.returncode == 0, r.stderr
    assert [p.name for p in views.iterdir()] == ["grid.png"]
    grid = np.asarray(Image.open(views / "grid.png")).astype(int)
    assert grid.shape == (2 * 64, 3 * 64, 3) and grid[..., 0].std() > 10 and (grid[..., 0] == grid[..., 1]).all()
    # The raw neural render at another rendering resolution; a wider lens shows a smaller head.
    r = run("render", result, "--yaw", "0", "--image-mode", "raw", "--nrr", "32", "--out", tmp_path / "raw")
    assert r.returncode == 0 and np.asarray(Image.open(tmp_path / "raw" / "yaw+0.00_pitch+0.00.png")).shape == (32, 32, 3)
    coverage = {}
    for fov in ("12", "30"):
        r = run("render", result, "--yaw", "0", "--image-mode", "depth", "--fov-deg", fov, "--out", tmp_path / fov)
        assert r.returncode == 0, r.stderr
        coverage[fov] = (np.asarray(Image.open(tmp_path / fov / "yaw+0.00_pitch+0.00.png")) > 0).mean()
    assert coverage["30"] < 0.6 * coverage["12"]
    # An orbit at its own swing, frame count and frame rate, with fewer samples per ray.
    r = run("render", result, "--orbit", "--frames", "3", "--fps", "10", "--orbit-range", "0.2x0.1", "--sample-mult",
            "0.5", "--out", tmp_path / "orbit")
    assert r.returncode == 0, r.stderr
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "orbit" / "orbit.mp4"))
    meta = next(reader)
    assert meta["fps"] == 10 and sum(1 for _ in reader) == 3
    # Angles: past the trained views a warning, past what the generator can show a refusal.
    r = run("render", result, "--yaw", "0.9", "--out", tmp_path / "wide")
    assert r.returncode == 0 and "past the views the generator was trained on" in r.stderr
    r = run("render", result, "--yaw", "2.5", "--out", tmp_path / "far")
    assert r.returncode == 2 and "past what the generator can show" in r.stderr and not (tmp_path / "far").exists()


def test_folder_input_pairs_sibling_cameras_and_skips_finished(tmp_path, subject):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a", "b"):
        (photos / f"{name}.png").write_bytes((subject / "input.png").read_bytes())
    (photos / "a.json").write_text((subject / "input_camera.json").read_text())
    out = tmp_path / "out"
    # Settings from a file (here a bare part of the inversion settings), then --set, then the step options.
    (tmp_path / "settings.json").write_text(json.dumps({"tuning": {"lr": 1e-3, "steps": 50}, "orbit_frames": 4}))
    args = ["invert", photos, "--method", "pti", "--preset", "fast", "--coarse-steps", "2", "--tuning-steps", "2",
            "--config", tmp_path / "settings.json", "--set", "loss.lpips=0.5", "--set", "tuning.lr=2e-3",
            "--set", "coarse.w_avg_samples=500", "--no-align", "--out", out, "--quiet"]
    r = run(*args)
    assert r.returncode == 0, r.stderr
    assert "b.png: no --camera given" in r.stderr and "a.png: no --camera" not in r.stderr
    saved = json.loads((out / "a" / "config.json").read_text())
    assert saved["input"]["camera"] == pytest.approx(json.loads((subject / "input_camera.json").read_text()), abs=1e-6)
    settings = saved["inversion"]
    assert (settings["tuning"]["lr"], settings["tuning"]["steps"], settings["loss"]["lpips"]) == (2e-3, 2, 0.5)
    assert settings["orbit_frames"] == 4 and settings["coarse"]["steps"] == 2
    assert (out / "b" / "summary.json").is_file()
    r = run(*args)
    assert r.returncode == 0 and r.stdout.count("already done") == 2


def test_raw_photo_is_aligned_inverted_and_pasted_back(tmp_path):
    import skimage.data

    photo = np.full((600, 900, 3), 70, np.uint8)
    photo[40:552, 300:812] = skimage.data.astronaut()
    Image.fromarray(photo).save(tmp_path / "raw.jpg", quality=95)
    kept = np.asarray(Image.open(tmp_path / "raw.jpg"))
    out = tmp_path / "r"
    r = run("invert", tmp_path / "raw.jpg", "--method", "pti", "--preset", "fast", "--coarse-steps", "2",
            "--tuning-steps", "2", "--set", "coarse.w_avg_samples=500", "--set", "orbit_frames=4", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "aligned here" in r.stderr and "composite.png" in r.stdout
    for name in ("aligned.png", "aligned.json", "alignment.json", "photo.jpg", "composite.png", "summary.json"):
        assert (out / name).is_file(), name
    assert (out / "photo.jpg").read_bytes() == (tmp_path / "raw.jpg").read_bytes()
    assert Image.open(out / "aligned.png").size == (512, 512)
    assert json.loads((out / "config.json").read_text())["input"]["camera"] == pytest.approx(
        load_label(out / "aligned.json").tolist(), abs=1e-6)
    comp = np.asarray(Image.open(out / "composite.png"))
    assert comp.shape == kept.shape
    changed = np.abs(comp.astype(int) - kept).max(axis=2) > 0
    ys, xs = np.nonzero(changed)
    assert changed.mean() > 0.02  # the head was pasted in ...
    assert xs.min() > 250 and ys.max() < 600 and not changed[:, :250].any()  # ... where the face is, only
    views = tmp_path / "views"
    r = run("render", out, "--yaw", "0.3", "--composite", "--out", views)
    assert r.returncode == 0, r.stderr
    assert np.asarray(Image.open(views / "yaw+0.30_pitch+0.00_composite.png")).shape == kept.shape
    assert np.asarray(Image.open(views / "yaw+0.30_pitch+0.00.png")).shape == (128, 128, 3)
    r = run("render", out, "--orbit", "--composite", "--out", tmp_path / "v2")
    assert r.returncode == 2 and "--composite works with --yaw/--pitch or --cameras" in r.stderr


FAST_PTI = ["--method", "pti", "--preset", "fast", "--coarse-steps", "2", "--tuning-steps", "2",
            "--set", "coarse.w_avg_samples=500", "--set", "orbit_frames=2", "--quiet"]


def test_changed_weights_are_another_run(tmp_path, subject):
    from invert3d.checkpoints import save_generator

    checkpoint = tmp_path / "model"
    G = load_generator()
    save_generator(G, checkpoint)
    args = ["invert", subject / "input.png", "--camera", subject / "input_camera.json", "--checkpoint", checkpoint,
            *FAST_PTI, "--out", tmp_path / "r"]
    assert run(*args).returncode == 0
    with torch.no_grad():
        G.decoder.net[0].weight.mul_(1.01)  # same architecture, other weights
    save_generator(G, checkpoint)
    r = run(*args)
    assert r.returncode == 2 and "other generator weights" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_synth_camera_beside_its_photo_is_picked_up(tmp_path, subject):
    r = run("invert", subject / "input.png", *FAST_PTI, "--out", tmp_path / "r")
    assert r.returncode == 0 and "aligned here" not in r.stderr and "frontal" not in r.stderr, r.stderr
    saved = json.loads((tmp_path / "r" / "config.json").read_text())["input"]["camera"]
    assert saved == pytest.approx(json.loads((subject / "input_camera.json").read_text()), abs=1e-6)


def test_render_uses_the_photos_intrinsics(tmp_path, subject):
    from invert3d.cameras import pose_label
    from invert3d.metrics import psnr

    k = torch.tensor([[5.0, 0.0, 0.5], [0.0, 5.0, 0.5], [0.0, 0.0, 1.0]])  # a longer lens than EG3D's 4.26
    photo = tmp_path / "photo.png"
    photo.write_bytes((subject / "input.png").read_bytes())
    (tmp_path / "photo.json").write_text(json.dumps(pose_label(0.0, 0.0, intrinsics=k).tolist()))
    result = tmp_path / "r"
    assert run("invert", photo, *FAST_PTI, "--out", result).returncode == 0
    r = run("render", result, "--yaw", "0", "--pitch", "0", "--out", tmp_path / "v")
    assert r.returncode == 0, r.stderr
    rendered = load_photo(tmp_path / "v" / "yaw+0.00_pitch+0.00.png", 128)
    assert float(psnr(rendered, load_photo(result / "reconstruction.png", 128))[0]) > 45
