"""Optimization stages on a small untrained generator: projection, masked projection, tuning, resume."""

from dataclasses import replace

import pytest
import torch

from invert3d import config as config_module
from invert3d.cameras import pose_label
from invert3d.config import InversionConfig, LossConfig, ProjectionConfig, TuningConfig
from invert3d.generator import TriPlaneGenerator, preset
from invert3d.inversion.losses import ReconstructionLoss
from invert3d.inversion.progress import StageCheckpoint
from invert3d.inversion.projection import lr_schedule, project
from invert3d.inversion.tuning import PseudoTargets, param_groups, rebuild_steps, tune, visible_weights
from invert3d.pseudo_views import PseudoViews

L2 = LossConfig(l2=1.0, lpips=0.0)  # LPIPS is tested on its own; plain L2 keeps these fast


@pytest.fixture(scope="module")
def generator():
    torch.manual_seed(0)
    return TriPlaneGenerator(preset("small")).eval().requires_grad_(False)


@pytest.fixture(scope="module")
def target(generator):
    cam = pose_label(0.2, 0.05)
    with torch.no_grad():
        ws = generator.mapping(torch.randn(1, generator.z_dim, generator=torch.Generator().manual_seed(5)), cam[None])
        image = generator.synthesis(ws, cam[None], deterministic=True)["image"]
    return image, cam


def _loss(G, ws, image, cam):
    with torch.no_grad():
        return float((G.synthesis(ws, cam[None], deterministic=True)["image"] - image).square().mean())


def test_projection_fits_the_target(generator, target):
    image, cam = target
    cfg = ProjectionConfig(steps=25, lr=0.05, w_avg_samples=500)
    torch.manual_seed(0)
    ws = project(generator, image, cam, cfg, ReconstructionLoss(L2))
    assert ws.shape == (1, generator.num_ws, generator.w_dim)
    assert torch.equal(ws[:, 0], ws[:, -1])  # W space: one w shared by every layer
    start = project(generator, image, cam, replace(cfg, steps=1, lr=1e-12), ReconstructionLoss(L2))
    assert _loss(generator, ws, image, cam) < 0.7 * _loss(generator, start, image, cam)


def test_projection_in_z_stays_on_the_mapping_and_fits(generator, target, monkeypatch):
    image, cam = target
    cfg = ProjectionConfig(steps=25, lr=0.3, space="z", w_avg_samples=500)
    w_start = project(generator, image, cam, replace(cfg, space="w", steps=1, lr=1e-12), ReconstructionLoss(L2))
    mapped = []
    mapping = generator.mapping

    def recorded(z, c, **kw):
        mapped.append((z, mapping(z, c, **kw)))
        return mapped[-1][1]

    monkeypatch.setattr(generator, "mapping", recorded)
    ws = project(generator, image, cam, cfg, ReconstructionLoss(L2), start=w_start)
    z, last = mapped[-1]
    assert z.shape == (1, generator.z_dim) and torch.equal(ws, last)  # the result is the mapping of the fitted z
    assert ws.shape == (1, generator.num_ws, generator.w_dim)
    assert _loss(generator, ws, image, cam) < 0.7 * _loss(generator, w_start, image, cam)


def test_masked_projection_ignores_masked_pixels(generator, target):
    image, cam = target
    mask = torch.ones(1, 1, *image.shape[-2:])
    mask[..., :, :64] = 0
    garbage = image.clone()
    garbage[..., :, :64] = torch.rand_like(garbage[..., :, :64])
    cfg = ProjectionConfig(steps=5, lr=0.05, space="w+", w_avg_samples=200)
    torch.manual_seed(1)
    a = project(generator, image, cam, cfg, ReconstructionLoss(L2), mask=mask, seed=3)
    torch.manual_seed(1)
    b = project(generator, garbage, cam, cfg, ReconstructionLoss(L2), mask=mask, seed=3)
    assert torch.equal(a, b)
    assert not torch.equal(a[:, 0], a[:, -1])  # W+: layers move independently


def test_projection_and_tuning_run_under_a_callers_no_grad(generator, target):
    image, cam = target
    G = TriPlaneGenerator(generator.cfg)
    G.load_state_dict(generator.state_dict())
    with torch.no_grad():
        ws = project(generator, image, cam, ProjectionConfig(steps=3, lr=0.05, w_avg_samples=200),
                     ReconstructionLoss(L2))
        start = project(generator, image, cam, ProjectionConfig(steps=1, lr=1e-12, w_avg_samples=200),
                        ReconstructionLoss(L2))
        tuned = tune(G, ws, image, cam, TuningConfig(steps=2, lr=1e-3), ReconstructionLoss(L2))
    assert not torch.equal(ws, start) and not torch.equal(tuned, ws)  # both optimized


def _pseudo(G, cam):
    cams = pose_label([-0.3, 0.3], [0.0, 0.0])
    with torch.no_grad():
        ws = G.mapping(torch.zeros(1, G.z_dim), cam[None])
        imgs = torch.cat([G.synthesis(ws, c[None], deterministic=True)["image"] for c in cams])
    weight = torch.zeros(2, 1, 128, 128)
    weight[..., 32:96, 32:96] = 1
    return PseudoViews(cams, imgs, weight, imgs, weight, imgs)


def test_tuning_with_pseudo_views_fits_the_photo_and_resumes_exactly(generator, target, tmp_path):
    image, cam = target
    cfg = TuningConfig(steps=6, lr=1e-3)
    ws0 = generator.mapping(torch.zeros(1, generator.z_dim), cam[None])
    pseudo = _pseudo(generator, cam)
    loss_fn = ReconstructionLoss(L2)

    def fresh():
        G = TriPlaneGenerator(generator.cfg)
        G.load_state_dict(generator.state_dict())
        return G

    G_full = fresh()
    torch.manual_seed(7)
    ws_full = tune(G_full, ws0, image, cam, cfg, loss_fn, pseudo=pseudo, seed=2)
    assert _loss(G_full, ws_full, image, cam) < _loss(generator, ws0, image, cam)
    assert not any(p.requires_grad for p in G_full.parameters())
    # Interrupted after 3 steps (checkpoint written every step), then resumed to 6: the same result.
    ck = StageCheckpoint(tmp_path / "tuning.ckpt", every_s=0.0)
    G_a = fresh()
    torch.manual_seed(7)
    tune(G_a, ws0, image, cam, replace(cfg, steps=3), loss_fn, pseudo=pseudo, seed=2, checkpoint=ck)
    assert ck.load()["step"] == 3
    G_b = fresh()
    torch.manual_seed(123)  # the checkpoint restores the RNG state too
    ws_resumed = tune(G_b, ws0, image, cam, cfg, loss_fn, pseudo=pseudo, seed=2, checkpoint=ck)
    assert torch.allclose(ws_resumed, ws_full, atol=1e-6)
    for p, q in zip(G_b.parameters(), G_full.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_pseudo_views_are_rebuilt_at_evenly_spaced_steps_and_travel_in_the_checkpoint(generator, target, tmp_path):
    """Two rebuilds in 6 steps happen before steps 2 and 4, on the scene being tuned; the rebuilt views are the
    ones trained on, and a run stopped after them resumes to the uninterrupted result."""
    image, cam = target
    ws0 = generator.mapping(torch.zeros(1, generator.z_dim), cam[None])
    pseudo = _pseudo(generator, cam)
    cfg = TuningConfig(steps=6, lr=1e-3, pseudo_rebuilds=2)
    assert rebuild_steps(cfg) == {2, 4} and rebuild_steps(replace(cfg, pseudo_rebuilds=0)) == set()
    seen = []

    def rebuild(scene):  # the views flipped upside down: a target the tuning must see to be affected by
        seen.append(scene.ws.clone())
        return replace(pseudo, target=pseudo.target.flip(-2))

    def run(rebuild, checkpoint=None, seed=7):
        G = TriPlaneGenerator(generator.cfg)
        G.load_state_dict(generator.state_dict())
        torch.manual_seed(seed)
        return G, tune(G, ws0, image, cam, cfg, ReconstructionLoss(L2), pseudo=pseudo, seed=2, rebuild=rebuild,
                       checkpoint=checkpoint)

    G_full, ws_full = run(rebuild)
    assert len(seen) == 2 and not torch.equal(seen[0], seen[1])  # each time the latent as tuned so far
    _, ws_kept = run(lambda scene: None)  # None keeps the views: as without rebuilds
    _, ws_plain = run(None)
    assert torch.allclose(ws_kept, ws_plain) and not torch.allclose(ws_full, ws_plain)

    class Killed(Exception):
        pass

    def rebuild_once(scene):  # the run is killed when its second rebuild begins, after step 4's checkpoint
        if len(seen) == 3:
            raise Killed
        return rebuild(scene)

    ck = StageCheckpoint(tmp_path / "tuning.ckpt", every_s=0.0)
    with pytest.raises(Killed):
        run(rebuild_once, ck)
    assert ck.load()["step"] == 4 and "pseudo" in ck.load()  # the views rebuilt before step 2 travel with it
    G_b, ws_resumed = run(rebuild, ck, seed=123)
    assert torch.allclose(ws_resumed, ws_full, atol=1e-6)
    for p, q in zip(G_b.parameters(), G_full.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_visible_falloff_silences_the_visible_term_far_from_the_input(generator, target):
    """Pseudo cameras 0.5 and 0.1 rad from the input: with a tiny falloff the visible region of their targets
    no longer matters (scribbling over it changes nothing); without one it does."""
    image, cam = target
    ws0 = generator.mapping(torch.zeros(1, generator.z_dim), cam[None])
    clean = _pseudo(generator, cam)
    scribbled = replace(clean, target=torch.where(clean.weight > 0, -clean.target, clean.target))

    def tuned(pseudo, falloff):
        G = TriPlaneGenerator(generator.cfg)
        G.load_state_dict(generator.state_dict())
        cfg = TuningConfig(steps=4, lr=1e-3, deterministic=True, visible_falloff=falloff)
        return tune(G, ws0, image, cam, cfg, ReconstructionLoss(L2), pseudo=pseudo, seed=2)

    assert torch.allclose(tuned(clean, 1e-3), tuned(scribbled, 1e-3), atol=1e-7)
    assert not torch.allclose(tuned(clean, None), tuned(scribbled, None), atol=1e-5)


def test_tuning_groups_and_triplane_residual(generator, target):
    image, cam = target
    ws0 = generator.mapping(torch.zeros(1, generator.z_dim), cam[None])
    G = TriPlaneGenerator(generator.cfg)
    G.load_state_dict(generator.state_dict())
    w = ws0.clone().requires_grad_(True)
    cfg = TuningConfig(lr=1e-3, latent_lr_scale=2.0, decoder_lr_scale=0.0, superresolution_lr_scale=0.5,
                       planes_lr=0.05)
    G.add_plane_offset()
    groups = {g["lr"]: g["params"] for g in param_groups(G, w, cfg)}
    assert sorted(groups) == [5e-4, 1e-3, 2e-3, 0.05]  # the decoder's group, at lr 0, is left out: frozen
    assert groups[2e-3] == [w] and groups[0.05] == [G.plane_offset]
    assert len(groups[5e-4]) == len(list(G.superresolution.parameters()))
    # A tuning with the residual: the offset moves, the decoder (lr 0) does not, the photo is fitted better.
    G = TriPlaneGenerator(generator.cfg)
    G.load_state_dict(generator.state_dict())
    decoder = {k: v.clone() for k, v in G.decoder.state_dict().items()}
    torch.manual_seed(7)
    ws = tune(G, ws0, image, cam, replace(cfg, steps=6, deterministic=True), ReconstructionLoss(L2))
    assert G.cfg.plane_offset and G.plane_offset.abs().max() > 0
    assert all(torch.equal(v, G.decoder.state_dict()[k]) for k, v in decoder.items())
    assert _loss(G, ws, image, cam) < _loss(generator, ws0, image, cam)


def test_visible_weights_fall_off_with_the_angle_from_the_input_camera():
    cameras = torch.stack([pose_label(0.2, 0.05), pose_label(0.5, 0.05), pose_label(-0.4, 0.05)])
    trust = visible_weights(cameras, pose_label(0.2, 0.05), falloff=0.3)
    assert trust[0] == pytest.approx(1.0, abs=1e-5)
    angle = 0.3 * float(-torch.log(trust[1])) ** 0.5  # 0.3 rad of yaw apart (0.32 between the viewing axes)
    assert 0.29 < angle < 0.33
    assert trust[2] < 0.05  # 0.6 rad away: exp(-4)
    assert torch.equal(visible_weights(cameras, pose_label(0.2, 0.05), falloff=None), torch.ones(3))


def test_lr_schedule_ramps():
    assert lr_schedule(0.0, 1.0, 0.05, 0.25) == 0.0
    assert lr_schedule(0.5, 1.0, 0.05, 0.25) == pytest.approx(1.0)
    assert 0 < lr_schedule(0.9, 1.0, 0.05, 0.25) < 0.5


def test_config_presets_and_validation():
    paper = config_module.preset("paper")
    assert (paper.coarse.steps, paper.coarse.lr, paper.tuning.steps, paper.tuning.lr) == (1000, 5e-3, 3000, 3e-4)
    assert paper.pseudo.erode_px == 1 and paper.pseudo.gaussian_radius == 10
    fast = config_module.preset("fast")
    assert fast.coarse.steps < paper.coarse.steps and fast.tuning.steps < paper.tuning.steps
    assert InversionConfig.from_dict(fast.to_dict()) == fast
    with pytest.raises(ValueError, match="visible_weight"):  # a setting this version does not know
        InversionConfig.from_dict({**fast.to_dict(), "tuning": {**fast.to_dict()["tuning"], "visible_weight": 2.0}})
    with pytest.raises(ValueError, match="method"):
        config_module.preset("paper", "e4e")
    with pytest.raises(ValueError, match="blend"):
        InversionConfig(pseudo=replace(paper.pseudo, blend="median"))
    with pytest.raises(ValueError, match="ablations"):
        config_module.preset("paper", "pti", no_visible=True)


def test_pseudo_targets_are_cached_within_their_memory_budget(generator, target):
    image, cam = target
    pseudo = _pseudo(generator, cam)
    loss_fn = ReconstructionLoss(LossConfig(lpips_precision="float32"))  # with LPIPS: the features dominate
    photo = loss_fn.prepare(image)
    one_view = PseudoTargets(pseudo, photo, loss_fn, torch.device("cpu"), True, budget_mb=float("inf"))[0]
    size_mb = sum(t.numel() * t.element_size() for t in [one_view.image, one_view.mask, *one_view.features]) / 2**20
    targets = PseudoTargets(pseudo, photo, loss_fn, torch.device("cpu"), True, budget_mb=1.5 * size_mb)
    first, second = targets[1], targets[0]
    assert list(targets.cache) == [1] and targets[1] is first and targets[0] is not second  # room for one view
    # Rows: the photo, then M_v P_i and M_o P_i, whose masks partition the image.
    assert torch.equal(first.image[0], image[0]) and len(first.features[0]) == 3
    assert torch.equal(first.mask[1] + first.mask[2], torch.ones_like(first.mask[1]))
    assert torch.allclose(first.image[1] + first.image[2], pseudo.target[1])
    for a, b in zip(second.features, targets[0].features):
        assert torch.equal(a, b)
    # The authors' variant: the photo and the unmasked blended view P_i.
    blended = PseudoTargets(pseudo, photo, loss_fn, torch.device("cpu"), False, budget_mb=float("inf"))
    assert blended.terms == 1 and targets.terms == 2
    assert blended[1].mask is None and torch.equal(blended[1].image[1], pseudo.target[1])
    assert len(blended[1].features[0]) == 2
