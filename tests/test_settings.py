"""Typed settings from JSON and KEY=VALUE: values take their field's type, limits hold, errors name the setting."""

import json

import pytest

from invert3d.config import InversionConfig, preset
from invert3d.generator import preset as generator_preset
from invert3d.settings import as_assignments, from_dict, read_settings_file, with_assignments
from invert3d.training import TrainConfig


def test_assignments_take_the_declared_types_at_any_depth():
    cfg = with_assignments(preset("fast"), ["tuning.lr=1e-3", "loss.lpips=0", "pseudo.blend=gaussian",
                                            "pseudo.occluded.space=w+", "geometry.level=null", "no_visible=true",
                                            "loss.lpips_side=256"])
    assert cfg.tuning.lr == 1e-3 and isinstance(cfg.loss.lpips, float) and cfg.loss.lpips == 0.0
    assert cfg.pseudo.blend == "gaussian" and cfg.pseudo.occluded.space == "w+" and cfg.geometry.level is None
    assert cfg.no_visible is True and cfg.loss.lpips_side == 256
    assert cfg.tuning.steps == preset("fast").tuning.steps  # the rest stays the preset's
    # Later assignments win; tuples and nested architectures too.
    assert with_assignments(cfg, ["tuning.lr=2e-3", "tuning.lr=5e-4"]).tuning.lr == 5e-4
    train = with_assignments(TrainConfig(), ["generator.sr_channels=[32, 16]", "generator.plane_offset=true",
                                             "generator.rendering.avg_camera_pivot=[0, 0, 0.1]"])
    assert train.generator.sr_channels == (32, 16) and train.generator.plane_offset
    assert train.generator.rendering.avg_camera_pivot == (0.0, 0.0, 0.1)


@pytest.mark.parametrize("assignment, message", [
    ("tuning.lrr=1", "unknown setting tuning.lrr"),
    ("tunning.lr=1", "unknown setting tunning"),
    ("tuning.lr=fast", "tuning.lr must be a float"),
    ("tuning.steps=1.5", "tuning.steps must be an int"),
    ("tuning.deterministic=1", "tuning.deterministic must be a bool"),
    ("tuning.lr=-0.1", "tuning.lr must be > 0"),
    ("pseudo.theta=3", "pseudo.theta must be <= 2"),
    ("pseudo.blend=median", "pseudo.blend must be one of poisson, gaussian"),
    ("pseudo.yaw_steps=25;pseudo.pitch_steps=5", "at most 120 pseudo views"),
    ("tuning=3", "tuning must be a group of settings"),
    ("tuning.lr", "write KEY=VALUE"),
    ("method=pti", "ablations"),  # no_visible is set below: a check across fields
])
def test_bad_assignments_name_the_setting(assignment, message):
    with pytest.raises(ValueError, match=message):
        with_assignments(preset("fast", no_visible=True) if assignment == "method=pti" else preset("fast"),
                         assignment.split(";"))


def test_files_and_dicts_round_trip(tmp_path):
    cfg = with_assignments(preset("fast"), ["tuning.planes_lr=0.01", "loss.lpips=0.1"])
    assert from_dict(InversionConfig, cfg.to_dict()) == cfg
    assert with_assignments(preset("paper"), as_assignments(cfg.to_dict())) == cfg
    # A result's config.json keeps the inversion settings under 'inversion'; a bare object is taken whole.
    (tmp_path / "config.json").write_text(json.dumps({"inversion": {"tuning": {"lr": 1e-3}}, "checkpoint": "x"}))
    (tmp_path / "bare.json").write_text(json.dumps({"loss": {"lpips": 0.5}}))
    assert read_settings_file(tmp_path / "config.json", "inversion") == {"tuning": {"lr": 1e-3}}
    assert read_settings_file(tmp_path / "bare.json", "inversion") == {"loss": {"lpips": 0.5}}
    (tmp_path / "broken.json").write_text("{tuning")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_settings_file(tmp_path / "broken.json")
    with pytest.raises(ValueError, match="cannot read"):
        read_settings_file(tmp_path / "missing.json")
    gen = generator_preset("synthhead")
    assert from_dict(type(gen), json.loads(json.dumps(gen.to_dict()))) == gen
