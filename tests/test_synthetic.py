"""The synthetic world: subjects are closed and framed like FFHQ faces, renders are consistent, decals are fixed
to the surface in 3D, meshes are watertight, and `invert3d synth` writes the promised layout."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from invert3d.cameras import load_label, pose_label, split_label
from invert3d.geometry import grid_points
from invert3d.synthetic import HeadField, render_subject, sample_latents, subject_from_latent
from invert3d.synthetic.decals import emblem_image, place_decal
from invert3d.synthetic.render import render_decal_region
from invert3d.synthetic.params import LATENT_DIM
from invert3d.synthetic.subject import make_subject, subject_mesh


@pytest.fixture(scope="module")
def field():
    return HeadField(subject_from_latent(sample_latents(1, 5)[0]))


def test_latents_determine_distinct_subjects():
    a, b = (subject_from_latent(z) for z in sample_latents(2, 0))
    assert a.values != b.values
    assert subject_from_latent(sample_latents(2, 0)[0]).values == a.values
    with pytest.raises(ValueError, match="latent values"):
        subject_from_latent(torch.zeros(LATENT_DIM + 1))


def test_subject_is_inside_the_box_and_framed_like_ffhq(field):
    pts = grid_points(48, 0.5)
    inside = field.sdf(pts) < 0
    assert inside.any()
    occupied = pts[inside]
    assert occupied.abs().max() <= 0.5
    top, bottom = occupied[:, 1].max().item(), occupied[:, 1].min().item()
    assert 0.25 < top < 0.45  # hair top
    assert bottom < -0.45  # the neck continues out of the frame
    r = render_subject(field, pose_label(0.0, 0.0), 64)
    coverage = r.mask.mean().item()
    assert 0.25 < coverage < 0.8


def test_render_depth_matches_the_surface(field):
    label = pose_label(0.3, -0.1)
    r = render_subject(field, label, 32, antialias=False)  # one ray per pixel: depth is exactly on the surface
    cam2world, k = split_label(label[None])
    from invert3d.cameras.rays import camera_rays

    origins, dirs = camera_rays(cam2world, k, 32)
    hit = r.mask.reshape(-1) > 0
    points = origins[0][hit] + r.depth.reshape(-1)[hit, None] * dirs[0][hit]
    assert field.sdf(points).abs().max() < 2e-3
    normals = r.normals.reshape(3, -1).T[hit]
    assert (normals.norm(dim=-1) - 1).abs().max() < 1e-4
    assert ((normals * dirs[0][hit]).sum(-1) < 0.05).float().mean() > 0.98  # normals face the camera


def test_antialiasing_integrates_the_pixel_where_one_sample_would_alias(field):
    label = pose_label(0.25, 0.1)
    single = render_subject(field, label, 48, antialias=False)
    smooth = render_subject(field, label, 48)
    dense = render_subject(field, label, 192, antialias=False)  # 16 samples per pixel, box-filtered
    reference = torch.nn.functional.avg_pool2d(dense.rgb[None], 4)[0]
    coverage = torch.nn.functional.avg_pool2d(dense.mask[None], 4)[0]
    assert ((smooth.mask > 0.1) & (smooth.mask < 0.9)).sum() > 20  # silhouette pixels are partly covered
    assert (smooth.mask - coverage).abs().mean() < 0.3 * (single.mask - coverage).abs().mean()
    assert (smooth.rgb - reference).square().mean() < 0.3 * (single.rgb - reference).square().mean()
    flat = (smooth.rgb == single.rgb).all(dim=0)  # pixels in smooth regions keep their single sample
    assert 0.3 < flat.float().mean() < 0.99


def test_decal_is_fixed_to_the_surface_in_3d(field):
    decal = place_decal(field, emblem_image(0), yaw=0.0, pitch=0.0, width=0.15, target=(0.0, 0.0, 0.1))
    for yaw in (-0.3, 0.0, 0.35):
        label = pose_label(yaw, 0.0)
        plain = render_subject(field, label, 64).rgb
        decorated = render_subject(field, label, 64, [decal]).rgb
        changed = (decorated - plain).abs().sum(0) > 0.05
        # The changed pixels surround the projection of the decal's 3D centre in every view.
        cam2world, k = split_label(label)
        cam = torch.linalg.inv(cam2world) @ torch.cat([decal.centre, torch.ones(1)])
        u = (k[0, 0] * cam[0] / cam[2] + k[0, 2]) * 64
        v = (k[1, 1] * cam[1] / cam[2] + k[1, 2]) * 64
        ys, xs = torch.nonzero(changed, as_tuple=True)
        assert len(xs) > 20
        assert abs(xs.float().mean() - u) < 4 and abs(ys.float().mean() - v) < 4
        # The decal's region holds every pixel it changed (the ring and star, and the skin between them).
        region = render_decal_region(field, label, 64, [decal])[0]
        inside = changed & region
        assert inside.sum() >= 0.9 * changed.sum() and region.sum() > 1.3 * changed.sum()  # edges: antialiased
    assert not render_decal_region(field, pose_label(0.0, 0.0), 64, []).any()


def test_mesh_is_watertight_and_coloured():
    mesh = subject_mesh(make_subject(2, "tattoo"), resolution=64)
    edges = np.sort(np.concatenate([mesh.faces[:, [0, 1]], mesh.faces[:, [1, 2]], mesh.faces[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    assert (counts == 2).all()
    assert mesh.colors.shape == mesh.vertices.shape and mesh.colors.std() > 5


def test_synth_command_layout(tmp_path):
    out = tmp_path / "subject"
    r = subprocess.run([sys.executable, "-m", "invert3d", "synth", "--seed", "4", "--decal-text", "HI", "--yaw", "0.3",
                        "--resolution", "64", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert np.asarray(Image.open(out / "input.png")).shape == (64, 64, 3)
    torch.testing.assert_close(load_label(out / "input_camera.json"), pose_label(0.3, 0.0))
    labels = json.loads((out / "truth" / "cameras.json").read_text())["labels"]
    assert len(labels) >= 8
    yaws = []
    for name, values in labels:
        assert (out / "truth" / name).is_file()
        origin = split_label(torch.tensor(values))[0][:3, 3]
        yaws.append(torch.atan2(origin[0], origin[2]).item())
    assert max(yaws) > 0.55 and min(yaws) < -0.55
    assert (out / "mesh.ply").read_bytes().startswith(b"ply\nformat binary_little_endian")
    meta = json.loads((out / "subject.json").read_text())
    assert meta["seed"] == 4 and meta["decal"]["kind"] == "image"


def test_synth_bad_input(tmp_path):
    r = subprocess.run([sys.executable, "-m", "invert3d", "synth", "--decal-kind", "glitter", "--out",
                        str(tmp_path / "x")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "'glitter' is not one of" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x").exists()
