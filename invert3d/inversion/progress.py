"""Bookkeeping shared by the optimization stages: loss log, progress bar, and mid-stage checkpoints."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import torch
from invert3d import console
from invert3d.files import atomic_file


class StageLog:
    """Appends ``{"stage", "step", "seconds", <losses>}`` to ``log.jsonl`` every ``every`` steps (seconds since
    the stage started or resumed) and drives a progress bar."""

    def __init__(self, path: Path | None, stage: str, total: int, every: int = 10, quiet: bool = False):
        self.path, self.stage, self.total, self.every, self.quiet = path, stage, total, every, quiet
        self.bar = None
        self.started = time.monotonic()

    def begin(self, start: int) -> None:
        """Start (or resume after ``start`` steps): drop this stage's records past ``start``, show the bar."""
        if self.path is not None:
            _truncate_log(self.path, self.stage, start)
        self.bar = console.progress(total=self.total, initial=start, desc=self.stage, unit="step", quiet=self.quiet)
        self.started = time.monotonic()

    def step(self, step: int, values: dict[str, float]) -> None:
        """Record the state after ``step`` (1-based) steps."""
        self.bar.update(1)
        if step % self.every == 0:
            self.bar.set_postfix(loss=f"{values['loss']:.4f}")
            if self.path is not None:
                with open(self.path, "a") as f:
                    f.write(json.dumps({"stage": self.stage, "step": step,
                                        "seconds": round(time.monotonic() - self.started, 2),
                                        **{k: round(v, 6) for k, v in values.items()}}) + "\n")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _truncate_log(path: Path, stage: str, start: int) -> None:
    """Drop this stage's records past ``start`` (work lost in an interruption, redone on resume)."""
    if not path.exists():
        return
    lines = [line for line in path.read_text().splitlines() if line]
    keep = [line for line in lines if not (json.loads(line)["stage"] == stage and json.loads(line)["step"] > start)]
    if len(keep) != len(lines):
        path.write_text("".join(line + "\n" for line in keep))


class StageCheckpoint:
    """A stage's optimizer state on disk (``torch.save`` of tensors only), written every ``every_s`` seconds so a
    killed run resumes mid-stage; removed when the stage completes."""

    def __init__(self, path: Path | None, every_s: float = 60.0):
        self.path, self.every_s = path, every_s
        self.last = time.monotonic()

    def load(self) -> dict | None:
        if self.path is None or not self.path.exists():
            return None
        return torch.load(self.path, weights_only=True)

    def maybe_save(self, step: int, optimizer: torch.optim.Optimizer, rng: torch.Generator,
                   tensors: Callable[[], dict]) -> None:
        """Save the state after ``step`` steps if ``every_s`` has passed: optimizer, both RNGs, ``tensors()``."""
        if self.path is not None and time.monotonic() - self.last > self.every_s:
            state = {"step": step, "optimizer": optimizer.state_dict(), "rng": rng.get_state(),
                     "torch_rng": torch.get_rng_state(), **tensors()}
            with atomic_file(self.path) as tmp:
                torch.save(state, tmp)
            self.last = time.monotonic()

    def clear(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def resume(checkpoint: StageCheckpoint | None, optimizer: torch.optim.Optimizer, rng: torch.Generator
           ) -> tuple[int, dict]:
    """Restore the optimizer and both RNGs from a stage checkpoint: (steps already done, the saved state), or
    (0, {}) when there is none."""
    state = checkpoint.load() if checkpoint is not None else None
    if state is None:
        return 0, {}
    optimizer.load_state_dict(state["optimizer"])
    rng.set_state(state["rng"])
    torch.set_rng_state(state["torch_rng"])
    return int(state["step"]), state
