"""Generator behaviour beyond the parity fixtures: gradients, batching, sampling modes, ops vs references."""

import pytest
import torch
import torch.nn.functional as F

from invert3d.generator import GeneratorConfig, RenderingConfig, TriPlaneGenerator, preset
from invert3d.generator.ops import binomial_filter, upsample2d
from invert3d.generator.rendering import PLANE_AXES, _WeightedGather, triplane_features
from invert3d.cameras import pose_label


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    cfg = GeneratorConfig(z_dim=64, w_dim=64, img_resolution=64, channel_base=512, channel_max=32,
                          triplane_resolution=32, neural_rendering_resolution=32,
                          superresolution="SuperresolutionHybrid2X", sr_channels=(32, 16),
                          rendering=RenderingConfig(depth_resolution=8, depth_resolution_importance=8))
    return TriPlaneGenerator(cfg).eval()


def _grid_sample_reference(planes, points, box_warp, axes):
    """EG3D's lookup: grid_sample per plane (zero padding, align_corners False), mean over planes."""
    n, p, c, h, w = planes.shape
    coords = (2 / box_warp) * points
    grids = torch.stack([coords[..., list(a)] for a in axes], 1).reshape(n * p, 1, -1, 2)
    out = F.grid_sample(planes.reshape(n * p, c, h, w), grids, mode="bilinear", padding_mode="zeros",
                        align_corners=False)
    return out.reshape(n, p, c, -1).mean(1).permute(0, 2, 1)


@pytest.mark.parametrize("axes, third, chunk", [("eg3d", (2, 0), 8192), ("orthogonal", (1, 2), 8192),
                                                ("orthogonal", (1, 2), 96)])
def test_triplane_lookup_matches_grid_sample_including_outside_points(axes, third, chunk, monkeypatch):
    """Values and gradients; chunk 96 splits the backward's scatter into chunks with a remainder."""
    monkeypatch.setattr(_WeightedGather, "CHUNK", chunk)
    assert PLANE_AXES[axes][2] == third  # EG3D's third plane reads (z, x); the orthogonal one (y, z)
    torch.manual_seed(1)
    planes = torch.randn(2, 3, 8, 16, 16, requires_grad=True)
    points = (torch.rand(2, 500, 3) - 0.5) * 1.3  # some points leave the box
    ours = triplane_features(planes, points, 1.0, axes)
    ref = _grid_sample_reference(planes, points, 1.0, PLANE_AXES[axes])
    torch.testing.assert_close(ours, ref, atol=5e-6, rtol=0)
    g = torch.randn_like(ours)
    grad_ours, = torch.autograd.grad(ours, planes, g)
    grad_ref, = torch.autograd.grad(ref, planes, g)
    torch.testing.assert_close(grad_ours, grad_ref, atol=1e-5, rtol=0)


def test_upsample_matches_zero_insertion_and_filtering():
    x = torch.randn(1, 2, 5, 5)
    f = binomial_filter()
    z = torch.zeros(1, 2, 10, 10)
    z[:, :, ::2, ::2] = x
    ref = F.conv2d(F.pad(z, (2, 1, 2, 1)), (f * 4)[None, None].expand(2, 1, 4, 4), groups=2)
    torch.testing.assert_close(upsample2d(x, f), ref, atol=1e-6, rtol=0)


def test_batch_equals_single_samples(tiny):
    torch.manual_seed(2)
    z = torch.randn(2, 64)
    c = pose_label([0.0, 0.3], [0.0, -0.1])
    with torch.no_grad():
        ws = tiny.mapping(z, c, truncation_psi=0.7)
        both = tiny.synthesis(ws, c, deterministic=True)
        one = tiny.synthesis(ws[1:], c[1:], deterministic=True)
    for key in ("image", "image_raw", "image_depth"):
        torch.testing.assert_close(both[key][1:], one[key], atol=1e-5, rtol=0)


def test_deterministic_mode_is_repeatable_and_random_mode_is_not(tiny):
    ws = tiny.mapping(torch.randn(1, 64), pose_label(0, 0)[None])
    c = pose_label(0.2, 0.0)[None]
    with torch.no_grad():
        a = tiny.synthesis(ws, c, deterministic=True)["image_raw"]
        b = tiny.synthesis(ws, c, deterministic=True)["image_raw"]
        r1 = tiny.synthesis(ws, c)["image_raw"]
        r2 = tiny.synthesis(ws, c)["image_raw"]
    assert torch.equal(a, b)
    assert not torch.equal(r1, r2)
    assert (r1 - a).abs().mean() < 0.1  # jitter moves samples, not the picture


def test_gradients_reach_latents_and_weights(tiny):
    ws = tiny.mapping(torch.randn(1, 64), pose_label(0, 0)[None]).detach().requires_grad_(True)
    out = tiny.synthesis(ws, pose_label(0.1, 0.0)[None], deterministic=True)
    loss = out["image"].square().mean() + out["image_raw"].square().mean()
    loss.backward()
    assert ws.grad is not None and torch.isfinite(ws.grad).all() and ws.grad.abs().sum() > 0
    for name in ("decoder.net.0.weight", "backbone.synthesis.b4.const", "superresolution.block1.conv1.weight"):
        grad = dict(tiny.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name
    tiny.zero_grad()


def test_detached_superresolution_gives_the_same_images_and_keeps_its_weights_out(tiny):
    ws = tiny.mapping(torch.randn(1, 64), pose_label(0, 0)[None]).detach().requires_grad_(True)
    cams = torch.stack([pose_label(0.0, 0.0), pose_label(0.4, 0.1)])
    planes = tiny.planes(ws)
    both = tiny.render_planes(planes, ws, cams, deterministic=True)
    split = tiny.render_planes(planes, ws, cams, deterministic=True, detach_superresolution_from=1)
    torch.testing.assert_close(split["image"], both["image"], rtol=1e-5, atol=1e-5)
    sr_weight = tiny.superresolution.block1.conv1.weight
    split["image"][1:].square().mean().backward()  # a loss on the detached view only
    assert sr_weight.grad is None or sr_weight.grad.abs().sum() == 0
    assert ws.grad.abs().sum() > 0 and tiny.decoder.net[0].weight.grad.abs().sum() > 0
    tiny.zero_grad()
    ws.grad = None
    split = tiny.render_planes(tiny.planes(ws), ws, cams, deterministic=True, detach_superresolution_from=1)
    split["image"][:1].square().mean().backward()  # the live view still trains the network
    assert sr_weight.grad.abs().sum() > 0
    tiny.zero_grad()


def test_plane_offset_is_added_to_every_latents_planes(tiny, tmp_path):
    import copy

    from invert3d.checkpoints import load_generator, save_generator

    G = copy.deepcopy(tiny)
    ws = G.mapping(torch.randn(2, 64), pose_label([0, 0], [0, 0]))
    before = G.planes(ws)
    G.add_plane_offset()  # a zero offset: nothing changes, and it is a parameter the tuning can move
    assert G.cfg.plane_offset and "plane_offset" in dict(G.named_parameters())
    torch.testing.assert_close(G.planes(ws), before, atol=0, rtol=0)
    with torch.no_grad():
        G.plane_offset.normal_()
    torch.testing.assert_close(G.planes(ws) - before, G.plane_offset.expand(2, -1, -1, -1, -1))
    # It travels with the generator: saved and loaded with its config.
    loaded = load_generator(save_generator(G, tmp_path / "g"))
    assert loaded.cfg.plane_offset and torch.equal(loaded.plane_offset, G.plane_offset)
    assert "plane_offset" not in tiny.state_dict()


def test_presets_build_with_their_shapes():
    assert preset("shapenet128").sr_up_blocks == 1 and preset("ffhq512").sr_up_blocks == 2
    with pytest.raises(ValueError, match="unknown generator preset"):
        preset("celeba")
    with pytest.raises(ValueError, match="cannot go from"):
        GeneratorConfig(img_resolution=1024)


def test_config_json_round_trip():
    cfg = preset("afhq512")
    assert GeneratorConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown setting bogus"):
        GeneratorConfig.from_dict({**cfg.to_dict(), "bogus": 1})


@pytest.mark.parametrize("clamp", [None, 1.5, 100.0])
def test_leaky_relu_clamp_matches_reference_values_and_gradients(clamp):
    from invert3d.generator.ops import leaky_relu_clamp

    torch.manual_seed(3)
    x = (torch.randn(2, 4, 8, 8) * 2).requires_grad_(True)
    ref = F.leaky_relu(x, 0.2)
    ref = ref if clamp is None else ref.clamp(-clamp, clamp)
    ours = leaky_relu_clamp(x.clone(), clamp)
    torch.testing.assert_close(ours, ref)
    g = torch.randn_like(ref)
    torch.testing.assert_close(torch.autograd.grad(ours, x, g)[0], torch.autograd.grad(ref, x, g)[0])


def test_empty_rays_give_eg3d_depth_and_finite_gradients():
    from invert3d.generator.rendering import composite_depth, interval_weights

    depths = torch.linspace(2.25, 3.3, 8).reshape(1, 1, 8, 1).repeat(1, 2, 1, 1)
    densities = torch.full((1, 2, 8, 1), -200.0)
    densities[0, 1] = 5.0  # one empty ray, one opaque ray
    densities.requires_grad_(True)
    depth = composite_depth(interval_weights(densities, depths), depths)
    assert depth[0, 0, 0] == depths.max()  # EG3D: 0/0 -> inf -> clamped to the far end
    assert depths.min() <= depth[0, 1, 0] < depths.max()
    depth.sum().backward()
    assert torch.isfinite(densities.grad).all()
