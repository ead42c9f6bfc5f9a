"""Pseudo-view estimation pieces on known geometry: visibility, warping, masks, blending, fill, cameras."""

import math

import pytest
import torch

from invert3d.cameras import CameraRig, pose_label, split_label, validate_label
from invert3d.config import PseudoViewConfig
from invert3d.generator import TriPlaneGenerator, preset
from invert3d.geometry import extract_mesh, rasterize
from invert3d.pseudo_views import (PseudoViews, combine, difference_mask, erode, photo_vertex_colours,
                                   pseudo_cameras, soften, warp_photo)
from invert3d.pseudo_views.blend import blend_gaussian, blend_poisson, fill_bilinear
from invert3d.pseudo_views.visible import VisiblePart

RADIUS = 0.3
SIZE = 64


@pytest.fixture(scope="module")
def sphere():
    return extract_mesh(lambda p: p.norm(dim=-1) - RADIUS, 64)


def _gradient_photo() -> torch.Tensor:
    y, x = torch.meshgrid(torch.linspace(-1, 1, SIZE), torch.linspace(-1, 1, SIZE), indexing="ij")
    return torch.stack([x, y, x * y])[None]


def test_warp_to_the_input_camera_reproduces_the_photo(sphere):
    cam = pose_label(0.0, 0.0, pivot=(0, 0, 0))
    photo = _gradient_photo()
    vis = warp_photo(sphere, photo, cam, cam[None], tolerance=0.01)
    c, k = split_label(cam)
    covered = rasterize(torch.from_numpy(sphere.vertices), torch.from_numpy(sphere.faces), c, k, SIZE).face >= 0
    mask = vis.mask[0, 0] > 0
    assert (mask == covered).float().mean() > 0.99  # everything the sphere covers is seen from its own camera
    inner = erode(mask[None, None].float(), 2)[0, 0] > 0
    assert (vis.image[0][:, inner] - photo[0][:, inner]).abs().max() < 0.05
    assert (vis.image[0][:, ~mask] == 0).all()
    assert (vis.covered[0, 0] > 0).eq(covered).float().mean() > 0.99  # the silhouette at the pseudo camera
    assert torch.allclose(vis.background, photo[0][:, ~covered].median(dim=1).values, atol=0.05)


def test_warp_to_a_side_camera_hides_the_back(sphere):
    front = pose_label(0.0, 0.0, pivot=(0, 0, 0))
    side = pose_label(math.pi / 2, 0.0, pivot=(0, 0, 0))
    vis = warp_photo(sphere, _gradient_photo(), front, side[None], tolerance=0.01)
    c, k = split_label(side)
    covered = (rasterize(torch.from_numpy(sphere.vertices), torch.from_numpy(sphere.faces), c, k, SIZE).face >= 0)
    seen = vis.mask[0, 0] > 0
    assert seen[~covered].sum() == 0
    # From 90 degrees, about half of the sphere's silhouette is the hemisphere the front camera saw.
    assert 0.3 < seen.sum() / covered.sum() < 0.7
    # The seen half is the one towards the front camera (+z): on the side view's image that is one side.
    cols = torch.nonzero(seen)[:, 1].float().mean()
    all_cols = torch.nonzero(covered)[:, 1].float().mean()
    assert abs(float(cols - all_cols)) > 3


def test_vertex_visibility_is_the_front_hemisphere(sphere):
    cam = pose_label(0.0, 0.0, pivot=(0, 0, 0))
    colours, seen = photo_vertex_colours(sphere, _gradient_photo(), cam, tolerance=0.01)
    z = torch.from_numpy(sphere.vertices)[:, 2]
    origin_z = float(split_label(cam)[0][2, 3])
    assert origin_z > 0
    assert seen[z > 0.15].float().mean() > 0.99
    assert seen[z > 0.05].float().mean() > 0.9  # near the silhouette a pixel's depth spread exceeds the tolerance
    assert seen[z < -0.05].float().mean() < 0.02
    assert (colours[~seen] == 0).all() and colours[seen].abs().sum() > 0


def test_erode_and_soften():
    m = torch.zeros(1, 1, 40, 40)
    m[..., 5:35, 5:35] = 1
    e = erode(m, 1)
    assert e.sum() == 28 * 28 and e[..., 6:34, 6:34].all()
    s = soften(m, 1, 5)
    assert s.min() >= 0 and s.max() <= 1
    assert (s[e == 0] == 0).all()  # the photo's texture is only used where it was warped
    assert s[0, 0, 20, 20] > 0.99  # deep inside: the photo
    row = s[0, 0, 20, 5:21]
    assert (row[1:] >= row[:-1] - 1e-6).all()  # a monotone ramp from the boundary inwards


def test_difference_mask_flags_out_of_distribution_pixels():
    photo = torch.zeros(1, 3, 16, 16)
    render = photo.clone()
    render[..., 4:8, 4:8] = 1.0  # RGB distance sqrt(3) / 2 = 0.87 in [0, 1] units
    render[..., 10:12, 10:12] = 0.2  # distance 0.17
    d = difference_mask(photo, render, theta=0.25)
    assert d.shape == (1, 1, 16, 16)
    assert (d[..., 4:8, 4:8] == 0).all() and (d[..., 10:12, 10:12] == 1).all() and d.sum() == 256 - 16


def _laplacian(x: torch.Tensor) -> torch.Tensor:
    k = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)
    return torch.nn.functional.conv2d(x[:, :1], k)


def test_gaussian_blend_and_poisson_blend():
    yy, xx = torch.meshgrid(torch.arange(48.0), torch.arange(48.0), indexing="ij")
    v = (0.5 + 0.4 * torch.sin(0.8 * xx) * torch.sin(0.8 * yy)).expand(1, 3, 48, 48).clone()  # detailed texture
    o = torch.full((1, 3, 48, 48), -0.5)
    m = torch.zeros(1, 1, 48, 48)
    m[..., 10:38, 10:38] = 1
    assert torch.equal(blend_gaussian(v, o, m)[..., 20, 20], v[..., 20, 20])
    assert torch.equal(blend_gaussian(v, o, m)[..., 2, 2], o[..., 2, 2])
    p = blend_poisson(v, o, m)
    outside = m[0, 0] == 0
    assert (p[0][:, outside] - o[0][:, outside]).abs().max() < 1 / 127  # untouched outside (uint8 rounding)
    inner = erode(m, 3)[0, 0, 1:-1, 1:-1] > 0
    lap_p, lap_v = _laplacian(p)[0, 0][inner], _laplacian(v)[0, 0][inner]
    assert (lap_p - lap_v).abs().mean() < 0.2 * lap_v.abs().mean()  # inside: the visible texture's detail ...
    inside = erode(m, 3)[0, 0] > 0
    assert (p[0][:, inside] - v[0][:, inside]).mean() < -0.3  # ... re-levelled toward O, with no seam


def test_bilinear_fill_keeps_known_pixels_and_interpolates():
    x = torch.linspace(-1, 1, 32)
    image = x.view(1, 1, 1, -1).expand(1, 3, 32, 32).clone()
    mask = torch.ones(1, 1, 32, 32)
    mask[..., 12:20, 12:20] = 0
    filled = fill_bilinear(image * mask, mask)
    assert torch.equal(filled[mask.expand_as(filled) > 0], image[mask.expand_as(image) > 0])
    assert (filled - image).abs()[..., 12:20, 12:20].max() < 0.25  # the hole gets plausible ramp values


def test_combine_ablations(tmp_path):
    cams = pose_label([0.1, -0.1], [0.0, 0.0])
    covered = torch.zeros(2, 1, 32, 32)
    covered[..., 4:28, 4:28] = 1  # the mesh silhouette; the visible part is inside it
    vis = VisiblePart(torch.full((2, 3, 32, 32), 0.8), torch.zeros(2, 1, 32, 32), covered, torch.ones(3))
    vis.mask[..., 8:24, 8:24] = 1
    vis.image *= vis.mask
    occ = torch.full((2, 3, 32, 32), -0.8)
    cfg = PseudoViewConfig(blend="gaussian", gaussian_radius=20.0)
    pv = combine(cams, vis, occ, cfg)
    assert pv.target[0, :, 16, 16].allclose(torch.tensor(0.8)) and pv.target[0, :, 0, 0].allclose(torch.tensor(-0.8))
    assert pv.weight.max() > 0.999 and (pv.weight[vis.mask == 0] == 0).all()
    no_vis = combine(cams, vis, occ, cfg, no_visible=True)
    assert torch.equal(no_vis.target, occ)
    no_vis.save(tmp_path / "no_visible.safetensors")  # target and occluded are equal but stored apart
    assert torch.equal(PseudoViews.load(tmp_path / "no_visible.safetensors").target, occ)
    no_occ = combine(cams, vis, occ, cfg, no_occluded=True)
    # Inside the silhouette the hole is filled from the visible colour (not the generator's); outside it the
    # photo's background colour.
    assert no_occ.occluded[..., 4:28, 4:28].min() > 0.7 and torch.equal(no_occ.occluded[..., 0, 0], torch.ones(2, 3))
    assert no_occ.target[..., 4:28, 4:28].min() > 0.7


def test_pseudo_cameras_grid():
    G = TriPlaneGenerator(preset("small"))
    cam = pose_label(0.2, 0.1)
    cfg = PseudoViewConfig(yaw_range=0.6, pitch_range=0.3, yaw_steps=10, pitch_steps=3)
    labels = pseudo_cameras(CameraRig.of(G.cfg.rendering, split_label(cam)[1]), cfg)
    assert labels.shape == (30, 25)
    for label in labels:
        validate_label(label)
    origins = labels[:, :16].reshape(-1, 4, 4)[:, :3, 3]
    # EG3D's look-at cameras sit on the radius sphere around the world origin, looking at the pivot.
    assert torch.allclose(origins.norm(dim=-1), torch.tensor(G.cfg.rendering.avg_camera_radius), atol=1e-4)
    yaw = torch.atan2(origins[:, 0], origins[:, 2])
    assert yaw.min() < -0.55 and yaw.max() > 0.55
    assert torch.equal(labels[:, 16:], cam[16:].expand(30, -1))
