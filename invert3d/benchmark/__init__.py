"""The ground-truth benchmark: methods run on suites of decorated synthetic subjects, scored at the input view
and at novel views against the true renders."""

from invert3d.lazy import lazy_exports

__all__ = ["METHOD_HELP", "SUITES", "method_config", "run_suite"]
__getattr__ = lazy_exports(__name__, {"METHOD_HELP": "invert3d.benchmark.methods",
                                      "method_config": "invert3d.benchmark.methods",
                                      "run_suite": "invert3d.benchmark.run", "SUITES": "invert3d.benchmark.suites"})
