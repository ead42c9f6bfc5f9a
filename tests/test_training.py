"""Training on the synthetic world: losses fall, runs resume where they stopped, the data does not depend on
who makes it, and the result loads."""

import dataclasses
import json

import pytest
import torch

from invert3d.checkpoints import load_generator
from invert3d.errors import Invert3dError
from invert3d.training import TrainConfig, train
from invert3d.training.data import DataSpec, DataStream, make_step, render_view
from invert3d.pseudo_views.masks import dilate

TINY = TrainConfig(minutes=10, max_steps=3, batch=1, pool_size=4, warmup_views=2, points=64, log_every=1,
                   checkpoint_every_s=1e9)


def test_train_resume_and_load(tmp_path):
    out = tmp_path / "run"
    model = train(TINY, out)
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3]
    assert all(torch.isfinite(torch.tensor(r["total"])) for r in log)
    first = load_generator(model)
    # Extending the budget resumes from the saved state instead of starting over.
    train(dataclasses.replace(TINY, max_steps=5), out)
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5]
    second = load_generator(out / "model")
    changed = [k for k, v in first.state_dict().items() if not torch.equal(v, second.state_dict()[k])]
    assert changed  # two more optimizer steps moved the weights
    assert json.loads((out / "model" / "config.json").read_text())["trained_steps"] == 5


def test_resuming_with_other_settings_is_refused(tmp_path):
    train(TINY, tmp_path / "run")
    with pytest.raises(Invert3dError, match="different settings"):
        train(dataclasses.replace(TINY, lr=1e-4), tmp_path / "run")


@pytest.mark.end_to_end
def test_a_short_run_reduces_the_loss(tmp_path):
    cfg = dataclasses.replace(TINY, max_steps=25, batch=2, pool_size=6, warmup_views=6, lr=3e-3)
    train(cfg, tmp_path / "run")
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    first = sum(r["image"] + r["mask"] for r in log[:5]) / 5
    last = sum(r["image"] + r["mask"] for r in log[-5:]) / 5
    assert last < 0.8 * first


def test_step_data_is_a_function_of_seed_and_step_whoever_makes_it():
    spec = DataSpec(seed=3, resolution=32, yaw_range=0.7, pitch_range=0.35, refresh_per_step=1,
                    subjects_per_step=2, points=32)
    inline = DataStream(spec)
    workers = DataStream(spec, workers=1)
    try:
        a, b = next(inline.steps(7)), next(workers.steps(7))
        assert torch.equal(a.views[0].rgb, b.views[0].rgb) and torch.equal(a.points.points, b.points.points)
        assert torch.equal(a.points.occupancy, make_step(spec, 7).points.occupancy)
        assert not torch.equal(a.points.z, make_step(spec, 8).points.z)
        assert torch.equal(next(inline.warmup_views(1, 1)).rgb, next(workers.warmup_views(1, 1)).rgb)
    finally:
        workers.close()
    coverage = a.views[0].coverage
    assert coverage.dtype == torch.uint8 and ((coverage > 0) & (coverage < 255)).any()  # antialiased edges


def test_detail_masks_mark_both_eyes_and_the_lips():
    """A frontal view's detail pixels (eyes, lips, brows) lie on the head, are a small part of it, and fall on
    both sides of the face (two eyes) and in its lower half (the lips)."""
    view = render_view(torch.zeros(37), 0.0, 0.0, 64)
    details, head = view.details[0], view.coverage[0] > 127
    rows, cols = torch.nonzero(details, as_tuple=True)
    assert details.dtype == torch.bool and not (details & ~head).any()
    assert 0 < details.sum() < 0.1 * head.sum()
    assert (cols < 31).sum() > 3 and (cols > 32).sum() > 3
    head_rows = torch.nonzero(head.any(dim=1)).squeeze(1)
    assert (rows > (head_rows.min() + head_rows.max()) / 2).sum() > 3
    assert not render_view(torch.zeros(37), 0.0, 0.0, 64, details=False).details.any()  # w_details 0: not traced


def test_the_detail_term_reaches_a_margin_around_the_features():
    """details_margin grows the masks by a square of that many pixels each side, so that colour spilt onto the
    skin beside a feature is inside the term; 0 keeps the masks; the margin is a bounded setting."""
    masks = torch.zeros(2, 1, 9, 9)
    masks[0, 0, 4, 4] = 1
    masks[1, 0, 0, 8] = 1  # at the border: the square is cut, nothing wraps
    grown = dilate(masks, 2)
    assert torch.equal(grown[0, 0], torch.nn.functional.pad(torch.ones(5, 5), (2, 2, 2, 2)))
    assert grown[1].sum() == 9 and grown[1, 0, :3, 6:].all()
    assert dilate(masks, 0) is masks
    with pytest.raises(ValueError, match="details_margin"):
        TrainConfig(details_margin=-1)


def test_a_state_from_an_older_trainer_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    torch.save({"step": 3}, out / "train_state.pt")
    with pytest.raises(Invert3dError, match="older version"):
        train(TINY, out)


def test_init_starts_from_a_saved_generator_with_a_fresh_schedule(tmp_path):
    model = train(TINY, tmp_path / "a")
    start = load_generator(model)
    # One step at a vanishing learning rate: the new run's weights are still the ones it started from.
    cfg = dataclasses.replace(TINY, init=str(model), max_steps=1, lr=1e-12)
    again = load_generator(train(cfg, tmp_path / "b"))
    params = dict(again.named_parameters())
    for k, v in start.named_parameters():  # (w_avg, a buffer, tracks the mapped latents whatever the lr)
        torch.testing.assert_close(params[k], v, atol=1e-6, rtol=0)
    log = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert log[0]["lr"] == pytest.approx(1e-12, rel=1e-3)  # the schedule starts anew
    # The architecture must be the saved generator's.
    other = dataclasses.replace(cfg, generator=dataclasses.replace(cfg.generator, triplane_channels=16))
    with pytest.raises(Exception, match="do not fit"):
        train(other, tmp_path / "c")


def test_train_cli_settings_and_init_errors(tmp_path):
    import subprocess
    import sys

    def run(*args):
        return subprocess.run([sys.executable, "-m", "invert3d", "train", *map(str, args)], capture_output=True,
                              text=True, timeout=300)

    for args, message in ((["--set", "lr=0"], "lr must be > 0"),
                          (["--set", "generator.rendering.plane_axes=xyz"], "unknown plane axes"),
                          (["--init", tmp_path / "none"], "--init: checkpoint not found")):
        r = run("--out", tmp_path / "run", *args)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "run").exists()
