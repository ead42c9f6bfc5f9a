"""The ground-truth benchmark: methods run on suites of decorated synthetic subjects, scored at the input view
and at novel views against the true renders."""

from invert3d.benchmark.methods import METHOD_HELP, method_config
from invert3d.benchmark.run import run_suite
from invert3d.benchmark.suites import SUITES

__all__ = ["METHOD_HELP", "SUITES", "method_config", "run_suite"]
