"""Training on the synthetic world: losses fall, runs resume where they stopped, and the result loads."""

import dataclasses
import json

import pytest
import torch

from invert3d.checkpoints import load_generator
from invert3d.errors import Invert3dError
from invert3d.training import TrainConfig, train

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


def test_a_short_run_reduces_the_loss(tmp_path):
    cfg = dataclasses.replace(TINY, max_steps=25, batch=2, pool_size=6, warmup_views=6, lr=3e-3)
    train(cfg, tmp_path / "run")
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    first = sum(r["image"] + r["mask"] for r in log[:5]) / 5
    last = sum(r["image"] + r["mask"] for r in log[-5:]) / 5
    assert last < 0.8 * first
