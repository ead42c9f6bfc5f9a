"""Training the embedded generator on the synthetic world (distillation)."""

from invert3d.training.trainer import TrainConfig, train

__all__ = ["TrainConfig", "train"]
