"""EG3D camera conventions and camera-file validation."""

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from invert3d.cameras import (fov_to_intrinsics, intrinsics_to_fov, load_label, look_at_pose, orbit_labels,
                              pose_label, split_label, validate_label)
from invert3d.errors import CameraError


def test_look_at_matches_official_poses(eg3d_dir):
    io = load_file(eg3d_dir / "eg3d_small_io.safetensors")
    for yaw, pitch in [(0.0, 0.0), (0.4, -0.2), (-0.35, 0.25), (0.0, 0.25)]:
        ref = io[f"cam2world_yaw{yaw:+.2f}_pitch{pitch:+.2f}"]
        torch.testing.assert_close(look_at_pose(yaw, pitch), ref, atol=1e-6, rtol=0)
    torch.testing.assert_close(fov_to_intrinsics(18.837), io["intrinsics"], atol=1e-6, rtol=0)
    torch.testing.assert_close(pose_label([0.0, 0.4], [0.0, -0.2]), io["c"], atol=1e-6, rtol=0)


def test_pose_geometry():
    pose = look_at_pose(0.3, -0.1)
    rot, origin = pose[:3, :3], pose[:3, 3]
    torch.testing.assert_close(rot.T @ rot, torch.eye(3), atol=1e-6, rtol=0)
    assert torch.det(rot) > 0
    assert abs(origin.norm().item() - 2.7) < 1e-5  # on the sphere around the world origin
    forward = rot[:, 2]
    to_pivot = torch.tensor([0.0, 0.0, 0.2]) - origin
    torch.testing.assert_close(forward, to_pivot / to_pivot.norm(), atol=1e-6, rtol=0)
    assert origin[0] > 0  # positive yaw moves the camera toward +x
    assert abs(intrinsics_to_fov(fov_to_intrinsics(30.0)) - 30.0) < 1e-4


def test_orbit_spans_the_eg3d_ranges():
    labels = orbit_labels(120)
    assert labels.shape == (120, 25)
    origins = split_label(labels)[0][:, :3, 3]
    yaw = torch.atan2(origins[:, 0], origins[:, 2])
    assert math.isclose(yaw.max().item(), 0.35, abs_tol=1e-3) and math.isclose(yaw.min().item(), -0.35, abs_tol=1e-3)


def test_label_files(tmp_path, photos_dir):
    label = pose_label(0.2, 0.1)
    (tmp_path / "a.json").write_text(json.dumps(label.tolist()))
    torch.testing.assert_close(load_label(tmp_path / "a.json"), label)
    ds = {"labels": [["img00001.png", label.tolist()], ["img00002.png", pose_label(-0.2, 0.0).tolist()]]}
    (tmp_path / "dataset.json").write_text(json.dumps(ds))
    torch.testing.assert_close(load_label(tmp_path / "dataset.json", "img00001.png"), label)
    with pytest.raises(CameraError, match="say which image"):
        load_label(tmp_path / "dataset.json")
    with pytest.raises(CameraError, match="no entry"):
        load_label(tmp_path / "dataset.json", "other.png")
    np.save(tmp_path / "b.npy", label.numpy()[None])
    torch.testing.assert_close(load_label(tmp_path / "b.npy"), label)
    photo = load_label(photos_dir / "00001.npy")
    assert abs(photo[16].item() - 4.2647) < 1e-3


@pytest.mark.parametrize("values, message", [
    (list(range(24)), "25 numbers"),
    ([float("nan")] + pose_label(0, 0).tolist()[1:], "NaN"),
    (torch.cat([(look_at_pose(0, 0) @ torch.diag(torch.tensor([2.0, 1, 1, 1]))).reshape(-1),
                fov_to_intrinsics().reshape(-1)]).tolist(), "orthonormal"),
    (torch.cat([(look_at_pose(0, 0) @ torch.diag(torch.tensor([-1.0, 1, 1, 1]))).reshape(-1),
                fov_to_intrinsics().reshape(-1)]).tolist(), "orthonormal"),
    (pose_label(0, 0).tolist()[:16] + [512.0 * 4.26, 0, 256, 0, 512.0 * 4.26, 256, 0, 0, 1], "unnormalized"),
    ("not numbers", "25 numbers"),
])
def test_malformed_labels_are_rejected(values, message):
    with pytest.raises(CameraError, match=message):
        validate_label(values)


def test_unreadable_camera_files(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CameraError, match="cannot read"):
        load_label(tmp_path / "bad.json")
    (tmp_path / "cam.txt").write_text("1 2 3")
    with pytest.raises(CameraError, match=".json or .npy"):
        load_label(tmp_path / "cam.txt")
    with pytest.raises(CameraError, match="not found"):
        load_label(tmp_path / "missing.json")
