"""Cameras in EG3D's conventions: look-at poses, intrinsics, orbits, the 25-float camera label, pixel rays, rigs."""

from invert3d.cameras.label import (grid_labels, load_label, load_labels, make_label, orbit_labels, pose_label, save_labels,
                                    split_label, validate_label)
from invert3d.cameras.pose import (FFHQ_FOV_DEG, FFHQ_PIVOT, FFHQ_RADIUS, fov_to_intrinsics, intrinsics_to_fov,
                                   look_at_pose, orbit_angles)
from invert3d.cameras.rays import camera_rays
from invert3d.cameras.rig import CameraRig

__all__ = [
    "CameraRig", "FFHQ_FOV_DEG", "FFHQ_PIVOT", "FFHQ_RADIUS", "camera_rays", "fov_to_intrinsics", "grid_labels", "intrinsics_to_fov", "load_label",
    "load_labels", "look_at_pose", "make_label", "orbit_angles", "orbit_labels", "pose_label", "save_labels", "split_label",
    "validate_label",
]
