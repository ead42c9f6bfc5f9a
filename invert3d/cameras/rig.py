"""A camera rig: look-at cameras on a sphere around a pivot through one lens (a generator's default cameras)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from invert3d.cameras.label import grid_labels, orbit_labels, pose_label
from invert3d.cameras.pose import FFHQ_PIVOT, FFHQ_RADIUS, fov_to_intrinsics

Angles = float | Sequence[float] | torch.Tensor


@dataclass(frozen=True, eq=False)
class CameraRig:
    radius: float = FFHQ_RADIUS  # world units from the origin
    pivot: tuple[float, float, float] = FFHQ_PIVOT  # where every camera looks
    intrinsics: torch.Tensor | None = None  # [3, 3] normalized; None: EG3D's 18.837 deg

    @classmethod
    def of(cls, rendering, intrinsics: torch.Tensor | None = None) -> CameraRig:
        """The rig of a generator's ``RenderingConfig`` (its average camera radius and pivot)."""
        return cls(rendering.avg_camera_radius, tuple(rendering.avg_camera_pivot), intrinsics)

    @property
    def lens(self) -> torch.Tensor:
        return fov_to_intrinsics() if self.intrinsics is None else self.intrinsics

    def pose(self, yaw: Angles, pitch: Angles) -> torch.Tensor:
        """Labels [25] (scalar angles) or [N, 25]; angles in rad, 0 = frontal."""
        return pose_label(yaw, pitch, self.radius, self.pivot, self.lens)

    def grid(self, yaws: Sequence[float] | torch.Tensor, pitches: Sequence[float] | torch.Tensor) -> torch.Tensor:
        """Labels [P * Y, 25] of a pitch x yaw grid (rows = pitch, columns = yaw)."""
        return grid_labels(yaws, pitches, self.radius, self.pivot, self.lens)

    def orbit(self, frames: int) -> torch.Tensor:
        """Labels [frames, 25] along EG3D's video orbit."""
        return orbit_labels(frames, self.radius, self.pivot, intrinsics=self.lens)
