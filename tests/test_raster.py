"""The z-buffer rasterizer against analytic ray-sphere intersections, and vertex visibility."""

import torch

from invert3d.cameras import pose_label, split_label
from invert3d.cameras.rays import camera_rays
from invert3d.geometry import extract_mesh
from invert3d.geometry.raster import rasterize, render_vertex_colors, vertex_visibility

RADIUS = 0.3


def _sphere():
    mesh = extract_mesh(lambda p: p.norm(dim=-1) - RADIUS, 64)
    return torch.from_numpy(mesh.vertices), torch.from_numpy(mesh.faces)


def _analytic(label, resolution):
    cam2world, k = split_label(label[None])
    origins, dirs = camera_rays(cam2world, k, resolution)
    o, d = origins[0], dirs[0]
    b = (o * d).sum(-1)
    disc = b.square() - (o.square().sum(-1) - RADIUS ** 2)
    hit = disc > 0
    t = -b - disc.clamp_min(0).sqrt()
    forward = cam2world[0, :3, 2]
    return hit.view(resolution, resolution), (t * (d @ forward)).view(resolution, resolution), o + t[:, None] * d


def test_depth_and_coverage_match_the_analytic_sphere():
    v, f = _sphere()
    label = pose_label(0.4, -0.2)
    cam2world, k = split_label(label)
    frags = rasterize(v, f, cam2world, k, 64)
    hit, depth, _ = _analytic(label, 64)
    covered = frags.face >= 0
    assert (covered != hit).float().mean() < 0.02  # silhouette pixels only
    both = covered & hit
    assert (frags.depth[both] - depth[both]).abs().max() < 0.01
    assert torch.isinf(frags.depth[~covered]).all()
    assert torch.allclose(frags.bary[covered].sum(-1), torch.ones(int(covered.sum())), atol=1e-5)


def test_interpolated_vertex_values_follow_the_surface():
    v, f = _sphere()
    label = pose_label(-0.3, 0.1)
    cam2world, k = split_label(label)
    image, mask = render_vertex_colors(v, f, v.clone(), cam2world, k, 48)
    hit, _, points = _analytic(label, 48)
    both = (mask[0] > 0) & hit
    err = (image.permute(1, 2, 0)[both] - points.view(48, 48, 3)[both]).norm(dim=-1)
    assert err.median() < 0.005 and err.max() < 0.03


def test_vertex_visibility_is_the_camera_facing_half():
    v, f = _sphere()
    cam2world, k = split_label(pose_label(0.0, 0.0))
    visible = vertex_visibility(v, f, cam2world, k, 128)
    eye = cam2world[:3, 3]
    facing = ((eye - v) * v).sum(-1) / (eye - v).norm(dim=-1) / RADIUS  # cos between normal and view ray
    assert visible[facing > 0.2].float().mean() > 0.97
    assert not visible[facing < -0.1].any()
