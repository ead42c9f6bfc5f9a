"""The ground-truth benchmark: methods run on suites of decorated synthetic subjects, scored at the input view
and at novel views against the true renders."""

from invert3d.benchmark.run import METHOD_NAMES, run_suite
from invert3d.benchmark.suites import SUITES

__all__ = ["METHOD_NAMES", "SUITES", "run_suite"]
