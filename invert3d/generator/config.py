"""Typed configuration of the EG3D triplane generator, its presets, and conversion from NVIDIA's init kwargs.

One ``GeneratorConfig`` fully determines the module's architecture (and so its state-dict names and shapes);
it is what our checkpoints store as JSON next to the weights.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from invert3d.settings import from_dict

# NVIDIA's super-resolution classes: input resolution, block widths, and whether the module registers an
# (unused) top-level ``resample_filter`` buffer. Output resolution / input resolution = 2 ** (up blocks).
SUPERRESOLUTION_SPECS: dict[str, dict[str, Any]] = {
    "SuperresolutionHybrid2X": {"input_resolution": 64, "channels": (128, 64), "filter_buffer": True},
    "SuperresolutionHybrid4X": {"input_resolution": 128, "channels": (128, 64), "filter_buffer": True},
    "SuperresolutionHybrid8X": {"input_resolution": 128, "channels": (128, 64), "filter_buffer": True},
    "SuperresolutionHybrid8XDC": {"input_resolution": 128, "channels": (256, 128), "filter_buffer": False},
}

# Which world axes span each plane's (u, v), by ``RenderingConfig.plane_axes``. EG3D's third plane reads (z, x),
# so no plane spans (y, z) (eg3d issue #67) and NVIDIA's trained models depend on it; 'orthogonal' gives the
# third plane the (y, z) side profile.
PLANE_AXES = {"eg3d": ((0, 1), (0, 2), (2, 0)), "orthogonal": ((0, 1), (0, 2), (1, 2))}


@dataclass(frozen=True)
class RenderingConfig:
    """Ray sampling and compositing. Distances in world units; ``box_warp`` is the triplane box side."""

    depth_resolution: int = 48  # coarse (stratified) samples per ray
    depth_resolution_importance: int = 48  # fine (importance) samples per ray
    ray_start: float = 2.25
    ray_end: float = 3.3
    box_warp: float = 1.0
    disparity_space_sampling: bool = False
    white_back: bool = False
    avg_camera_radius: float = 2.7
    avg_camera_pivot: tuple[float, float, float] = (0.0, 0.0, 0.2)
    c_gen_conditioning_zero: bool = False  # True: the mapping network sees a zero camera label
    c_scale: float = 1.0  # scale of the camera label fed to the mapping network
    sr_antialias: bool = True
    superresolution_noise_mode: str = "none"
    plane_axes: str = "eg3d"  # 'eg3d': planes (x, y), (x, z), (z, x), as NVIDIA's models need; 'orthogonal': (y, z) last

    def __post_init__(self) -> None:
        if self.plane_axes not in PLANE_AXES:
            raise ValueError(f"unknown plane axes {self.plane_axes!r}; expected one of {sorted(PLANE_AXES)}")


@dataclass(frozen=True)
class GeneratorConfig:
    """Architecture of ``TriPlaneGenerator``. Defaults are NVIDIA's FFHQ 512 model (``ffhq512-128.pkl``)."""

    z_dim: int = 512
    w_dim: int = 512
    c_dim: int = 25
    img_resolution: int = 512  # final (super-resolved) image side
    img_channels: int = 3
    mapping_layers: int = 2
    channel_base: int = 32768
    channel_max: int = 512
    num_fp16_res: int = 0  # backbone resolutions that run in float16 on CUDA
    conv_clamp: float | None = None
    triplane_resolution: int = 256
    triplane_channels: int = 32
    decoder_hidden: int = 64
    decoder_lr_mul: float = 1.0
    neural_rendering_resolution: int = 128
    superresolution: str = "SuperresolutionHybrid8XDC"
    sr_channels: tuple[int, ...] | None = None  # None: the NVIDIA class's widths
    sr_num_fp16_res: int = 4  # > 0: super-resolution runs in float16 on CUDA (and clamps at 256)
    # True: a learned constant [3, C, H, W] (parameter ``plane_offset``) is added to the backbone's planes, the same
    # for every latent. In training it holds what all subjects share at full plane resolution (which a backbone
    # grown from a 4x4 constant learns slowly); in an inversion's tuning, the photo's own detail. Not part of EG3D.
    plane_offset: bool = False
    rendering: RenderingConfig = field(default_factory=RenderingConfig)

    def __post_init__(self) -> None:
        if self.superresolution not in SUPERRESOLUTION_SPECS:
            raise ValueError(f"unknown super-resolution module {self.superresolution!r}; "
                             f"expected one of {sorted(SUPERRESOLUTION_SPECS)}")
        ups = self.img_resolution // self.sr_input_resolution
        if self.sr_input_resolution * ups != self.img_resolution or ups & (ups - 1) or self.sr_up_blocks > len(self.sr_block_channels):
            raise ValueError(f"{self.superresolution} with {len(self.sr_block_channels)} blocks cannot go from "
                             f"{self.sr_input_resolution} to {self.img_resolution}")

    @property
    def sr_input_resolution(self) -> int:
        return SUPERRESOLUTION_SPECS[self.superresolution]["input_resolution"]

    @property
    def sr_up_blocks(self) -> int:
        """How many super-resolution blocks upsample 2x (the last ones); the others keep the resolution."""
        return (self.img_resolution // self.sr_input_resolution).bit_length() - 1

    @property
    def sr_block_channels(self) -> tuple[int, ...]:
        return tuple(self.sr_channels or SUPERRESOLUTION_SPECS[self.superresolution]["channels"])

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GeneratorConfig":
        """The inverse of ``to_dict`` (JSON values); missing fields take their defaults, unknown or mistyped ones
        raise ValueError."""
        return from_dict(cls, data)

    @classmethod
    def from_nvidia(cls, init_kwargs: dict[str, Any], neural_rendering_resolution: int) -> "GeneratorConfig":
        """Config from the init kwargs that NVIDIA's pickles store for ``TriPlaneGenerator``."""
        kw = dict(init_kwargs)
        rk = dict(kw.get("rendering_kwargs", {}))
        for key in ("z_dim", "w_dim", "c_dim", "img_resolution", "img_channels"):
            if key not in kw:
                raise ValueError(f"TriPlaneGenerator init kwargs lack {key!r}")
        if rk.get("clamp_mode", "softplus") != "softplus":
            raise ValueError(f"unsupported clamp_mode {rk['clamp_mode']!r} (EG3D supports only 'softplus')")
        if rk.get("ray_start") == "auto" or rk.get("ray_end") == "auto":
            raise ValueError("automatic ray bounds ('auto') are not supported")
        sr_module = str(rk.get("superresolution_module", "")).rsplit(".", 1)[-1]
        rendering = RenderingConfig(
            depth_resolution=int(rk["depth_resolution"]),
            depth_resolution_importance=int(rk.get("depth_resolution_importance", 0)),
            ray_start=float(rk["ray_start"]),
            ray_end=float(rk["ray_end"]),
            box_warp=float(rk["box_warp"]),
            disparity_space_sampling=bool(rk.get("disparity_space_sampling", False)),
            white_back=bool(rk.get("white_back", False)),
            avg_camera_radius=float(rk.get("avg_camera_radius", 2.7)),
            avg_camera_pivot=tuple(float(v) for v in rk.get("avg_camera_pivot", (0.0, 0.0, 0.2))),
            c_gen_conditioning_zero=bool(rk.get("c_gen_conditioning_zero", False)),
            c_scale=float(rk.get("c_scale", 0.0)),
            sr_antialias=bool(rk.get("sr_antialias", False)),
            superresolution_noise_mode=str(rk.get("superresolution_noise_mode", "none")),
        )
        mapping = dict(kw.get("mapping_kwargs", {}))
        return cls(
            z_dim=int(kw["z_dim"]), w_dim=int(kw["w_dim"]), c_dim=int(kw["c_dim"]),
            img_resolution=int(kw["img_resolution"]), img_channels=int(kw["img_channels"]),
            mapping_layers=int(mapping.get("num_layers", 8)),
            channel_base=int(kw.get("channel_base", 32768)), channel_max=int(kw.get("channel_max", 512)),
            num_fp16_res=int(kw.get("num_fp16_res", 0)),
            conv_clamp=None if kw.get("conv_clamp") is None else float(kw["conv_clamp"]),
            decoder_lr_mul=float(rk.get("decoder_lr_mul", 1.0)),
            neural_rendering_resolution=int(neural_rendering_resolution),
            superresolution=sr_module,
            sr_num_fp16_res=int(kw.get("sr_num_fp16_res", 0)),
            rendering=rendering,
        )


def _preset_ffhq() -> GeneratorConfig:
    return GeneratorConfig()


def _preset_afhq() -> GeneratorConfig:
    return GeneratorConfig(rendering=RenderingConfig(avg_camera_pivot=(0.0, 0.0, -0.06)))


def _preset_shapenet() -> GeneratorConfig:
    return GeneratorConfig(
        img_resolution=128, neural_rendering_resolution=64, superresolution="SuperresolutionHybrid2X",
        rendering=RenderingConfig(depth_resolution=64, depth_resolution_importance=64, ray_start=0.1,
                                  ray_end=2.6, box_warp=1.6, white_back=True, avg_camera_radius=1.7,
                                  avg_camera_pivot=(0.0, 0.0, 0.0)),
    )


def _preset_small() -> GeneratorConfig:
    """The cheap configuration of the parity fixtures: NVIDIA's classes at channel_base 1024, 128x128 output."""
    return GeneratorConfig(
        img_resolution=128, channel_base=1024, channel_max=64, neural_rendering_resolution=64,
        superresolution="SuperresolutionHybrid2X",
        rendering=RenderingConfig(depth_resolution=12, depth_resolution_importance=12),
    )


def _preset_synthhead() -> GeneratorConfig:
    """The architecture ``invert3d train`` builds for the synthetic world (invert3d.synthetic), whose subject
    latent is the generator's z. 64^2 triplanes, 64^2 neural rendering, 2x super-resolution to 128^2, white
    background, no camera conditioning. Orthogonal plane axes (a true (y, z) plane for the side profile) and a
    learned plane offset: at equal training time (20 min, 20 held-out subjects) +1.8 dB and +1.0 dB over EG3D's
    axes and none, +2.7 dB together with the 4e-3 learning rate (MODEL_CARD.md, "Levers"). The shipped weights
    predate these two (their config.json says EG3D's axes and no offset)."""
    from invert3d.synthetic.params import LATENT_DIM

    return GeneratorConfig(
        z_dim=LATENT_DIM, w_dim=256, img_resolution=128, mapping_layers=4, channel_base=4096, channel_max=256,
        triplane_resolution=64, neural_rendering_resolution=64, superresolution="SuperresolutionHybrid2X",
        sr_channels=(64, 32), sr_num_fp16_res=0,
        plane_offset=True,
        rendering=RenderingConfig(depth_resolution=24, depth_resolution_importance=24, white_back=True,
                                  c_gen_conditioning_zero=True, plane_axes="orthogonal"),
    )


PRESETS = {
    "ffhq512": _preset_ffhq,
    "afhq512": _preset_afhq,
    "shapenet128": _preset_shapenet,
    "small": _preset_small,
    "synthhead": _preset_synthhead,
}


def preset(name: str) -> GeneratorConfig:
    """A named architecture: 'ffhq512', 'afhq512', 'shapenet128', 'small' or 'synthhead'."""
    if name not in PRESETS:
        raise ValueError(f"unknown generator preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]()
