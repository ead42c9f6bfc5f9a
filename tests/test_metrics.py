"""Image, geometry and consistency metrics against known values and reference implementations."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from invert3d.cameras import pose_label
from invert3d.geometry import extract_mesh, read_ply, write_ply
from invert3d.metrics import chamfer_distance, mask_iou, ms_ssim, psnr, render_vs_truth, reprojection_error, ssim
from invert3d.synthetic.head import HeadField
from invert3d.synthetic.params import sample_latents, subject_from_latent
from invert3d.synthetic.render import render_subject


def _smooth(seed, size=96):
    g = torch.Generator().manual_seed(seed)
    x = torch.nn.functional.interpolate(torch.rand(1, 3, size // 8, size // 8, generator=g), size=size,
                                        mode="bilinear", align_corners=False)
    return x * 2 - 1


def test_psnr_known_value():
    a = torch.zeros(2, 3, 8, 8)
    assert torch.allclose(psnr(a, a + 0.2), torch.tensor([20.0, 20.0]), atol=1e-4)


def test_ssim_matches_scikit_image():
    from skimage.metrics import structural_similarity

    a, b = _smooth(0), _smooth(1) * 0.5 + _smooth(0) * 0.5
    ref = structural_similarity(((a[0] + 1) / 2).permute(1, 2, 0).numpy(), ((b[0] + 1) / 2).permute(1, 2, 0).numpy(),
                                gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0,
                                channel_axis=2)
    assert float(ssim(a, b)[0]) == pytest.approx(ref, abs=1e-4)
    assert float(ssim(a, a)[0]) == pytest.approx(1.0, abs=1e-6)


def test_ms_ssim_orders_by_noise():
    a = _smooth(2, 192)
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(a.shape, generator=g)
    scores = [float(ms_ssim(a, a + s * noise)[0]) for s in (0.0, 0.05, 0.2)]
    assert scores[0] == pytest.approx(1.0, abs=1e-5) and scores[0] > scores[1] > scores[2]
    assert 0 < float(ms_ssim(a[..., :64, :64], a[..., :64, :64] + 0.1 * noise[..., :64, :64])[0]) < 1  # few scales


def test_mask_iou_and_chamfer():
    a = torch.zeros(1, 1, 10, 10)
    b = torch.zeros(1, 1, 10, 10)
    a[..., :4, :5] = 1
    b[..., 2:6, :5] = 1
    assert float(mask_iou(a, b)[0]) == pytest.approx(10 / 30)
    s1 = extract_mesh(lambda p: p.norm(dim=-1) - 0.3, 64)
    s2 = extract_mesh(lambda p: p.norm(dim=-1) - 0.35, 64)
    assert chamfer_distance(s1, s1) < 0.005
    assert chamfer_distance(s1, s2) == pytest.approx(0.05, abs=0.006)


def test_ply_round_trip(tmp_path):
    mesh = extract_mesh(lambda p: p.norm(dim=-1) - 0.3, 32)
    mesh.colors = np.random.default_rng(0).integers(0, 256, (len(mesh.vertices), 3), dtype=np.uint8)
    back = read_ply(write_ply(tmp_path / "m.ply", mesh))
    assert np.array_equal(back.vertices, mesh.vertices) and np.array_equal(back.faces, mesh.faces)
    assert np.array_equal(back.colors, mesh.colors)
    mesh.colors = None
    assert read_ply(write_ply(tmp_path / "m.ply", mesh)).colors is None
    (tmp_path / "bad.ply").write_text("solid cube")
    with pytest.raises(ValueError, match="not a PLY"):
        read_ply(tmp_path / "bad.ply")


def test_render_vs_truth_pools_the_truth_to_the_render():
    truth = render_subject(HeadField(subject_from_latent(sample_latents(1, 5)[0])), pose_label(0.2, 0.0), 64)
    half_mask = F.avg_pool2d(truth.mask[None], 2)[0]
    half_depth = F.avg_pool2d((truth.depth * truth.mask)[None], 2)[0] / half_mask.clamp_min(1e-6)
    iou, err = render_vs_truth(half_mask, half_depth, truth.mask, truth.depth, 2.7)
    assert iou == 1.0 and err < 1e-6  # the truth, pooled, against itself
    iou, err = render_vs_truth(half_mask, half_depth + 0.027, truth.mask, truth.depth, 2.7)
    assert err == pytest.approx(0.01, rel=1e-3)  # 1 % of the camera distance
    shifted = torch.roll(half_mask, 4, dims=-1)
    assert render_vs_truth(shifted, half_depth, truth.mask, truth.depth, 2.7)[0] < 0.9


def test_reprojection_error_separates_consistent_from_inconsistent_views():
    z = sample_latents(2, 11)
    la, lb = pose_label(0.0, 0.0), pose_label(0.25, 0.05)
    ra = render_subject(HeadField(subject_from_latent(z[0])), la, 96)
    rb = render_subject(HeadField(subject_from_latent(z[0])), lb, 96)
    other = render_subject(HeadField(subject_from_latent(z[1])), lb, 96)
    err, frac = reprojection_error(ra.rgb * 2 - 1, ra.depth, la, rb.rgb * 2 - 1, rb.depth, lb, mask_a=ra.mask)
    assert frac > 0.2 and err < 0.04
    bad, _ = reprojection_error(ra.rgb * 2 - 1, ra.depth, la, other.rgb * 2 - 1, rb.depth, lb, mask_a=ra.mask)
    assert bad > 2 * err


def test_metrics_cli(tmp_path):
    a = ((_smooth(3)[0].permute(1, 2, 0).numpy() + 1) * 127.5).astype(np.uint8)
    Image.fromarray(a).save(tmp_path / "a.png")
    Image.fromarray(255 - a).save(tmp_path / "b.png")
    r = subprocess.run([sys.executable, "-m", "invert3d", "metrics", str(tmp_path / "a.png"), str(tmp_path / "a.png")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    same = json.loads(r.stdout)["pairs"][0]
    assert same["ssim"] == pytest.approx(1.0) and same["lpips_alex"] == pytest.approx(0.0, abs=1e-4)
    r = subprocess.run([sys.executable, "-m", "invert3d", "metrics", str(tmp_path / "a.png"), str(tmp_path / "b.png")],
                       capture_output=True, text=True, timeout=300)
    assert json.loads(r.stdout)["mean"]["psnr"] < 15
    r = subprocess.run([sys.executable, "-m", "invert3d", "metrics", str(tmp_path / "a.png"), str(tmp_path)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "give two image files, or two folders" in r.stderr
    (tmp_path / "c.png").write_text("not an image")
    r = subprocess.run([sys.executable, "-m", "invert3d", "metrics", str(tmp_path / "a.png"), str(tmp_path / "c.png")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "not a readable image" in r.stderr and "Traceback" not in r.stderr


def test_identity_distance_separates_people(photos_dir):
    from invert3d.metrics import identity

    photos = photos_dir
    try:
        model = identity.identity_model()
    except identity.IdentityUnavailable as exc:
        pytest.skip(str(exc))
    a = np.asarray(Image.open(photos / "00001.png").convert("RGB"))
    b = np.asarray(Image.open(photos / "00002.png").convert("RGB"))
    blurred = np.asarray(Image.fromarray(a).resize((128, 128)).resize(a.shape[1::-1]))
    assert model.distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert model.distance(a, blurred) < 0.3 < identity.SAME_PERSON < model.distance(a, b)
    assert model.distance(a, np.full_like(a, 128)) is None  # no face: no score
