"""Probe (docs/benchmark.md 2m): run the ``invert3d`` CLI with the inversion's optimization stages rendering
a fraction of the generator's ray samples (coarse and importance alike); the pseudo views, the outputs and the
scores keep all of them.

    RAY_FRACTION=0.6667 python bench/ray_samples_probe.py bench --suite sweep --methods hfgi3d --out R
    RAY_FRACTION=0.6667 RAY_TUNING=1 python bench/ray_samples_probe.py bench --suite default --methods hfgi3d --out R

Without ``RAY_TUNING=1`` only the projections (stage 1 and the occluded part's fit) are cut.
"""

import contextlib
import dataclasses
import os
import sys

from invert3d.pipeline import stages
from invert3d.cli import main

FRACTION = float(os.environ["RAY_FRACTION"])


@contextlib.contextmanager
def fewer_samples(G):
    """G's renderer with ``FRACTION`` of its samples per ray inside the block."""
    full = G.renderer.cfg
    G.renderer.cfg = dataclasses.replace(full, depth_resolution=round(full.depth_resolution * FRACTION),
                                         depth_resolution_importance=round(full.depth_resolution_importance * FRACTION))
    try:
        yield
    finally:
        G.renderer.cfg = full


def with_fewer_samples(stage):
    """A pipeline stage function (generator first) that runs with ``fewer_samples``."""
    def wrapped(G, *args, **kwargs):
        with fewer_samples(G):
            return stage(G, *args, **kwargs)
    return wrapped


if __name__ == "__main__":
    stages.project = with_fewer_samples(stages.project)
    if os.environ.get("RAY_TUNING") == "1":
        stages.tune = with_fewer_samples(stages.tune)
    sys.argv = ["invert3d", *sys.argv[1:]]
    main()
