"""Training data from the synthetic world: rendered views kept in a refreshed pool, and 3D point samples with
their true occupancy and colour.

Everything a step needs is a pure function of (seed, step): the subjects and cameras whose views refresh the
pool, the fresh subjects of the 3D supervision and the pool entries the step trains on. A resumed run therefore
sees exactly the data an uninterrupted one would, and the work can be spread over worker processes (each step's
data made ahead of time, in step order) without changing a bit of it.

Views are rendered at the generator's output resolution by sphere tracing with antialiasing (the expensive part,
~0.5 s each at 128^2 on one core), so they are kept in a pool of ``pool_size`` entries, a few replaced per step.
Point samples are cheap (~35 ms per subject) and drawn fresh for every step.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from invert3d.cameras import pose_label
from invert3d.media import unit_to_uint8
from invert3d.synthetic.head import HeadField
from invert3d.synthetic.params import LATENT_DIM, subject_from_latent
from invert3d.synthetic.render import pixel_surface_points, render_subject, surface_colour

VIEWS, POINTS, PICKS = 0, 1, 2  # the random streams of one step


@dataclass(frozen=True)
class DataSpec:
    """What the data of a run depends on (a picklable subset of the training config)."""

    seed: int
    resolution: int
    yaw_range: float
    pitch_range: float
    refresh_per_step: int
    subjects_per_step: int  # fresh subjects of the 3D supervision
    points: int  # per subject
    refresh_every: int = 1  # steps between pool refreshes (the views cost most of the data's time)
    details: bool = True  # whether views carry their detail masks (only the w_details term reads them)


@dataclass
class RenderedView:
    z: torch.Tensor  # [LATENT_DIM]
    c: torch.Tensor  # [25]
    rgb: torch.Tensor  # [3, R, R] uint8
    depth: torch.Tensor  # [1, R, R] float16 ray distance
    coverage: torch.Tensor  # [1, R, R] uint8, covered fraction * 255
    details: torch.Tensor  # [1, R, R] bool, pixels showing the eyes, lips or brows (``HeadField.detail_mask``)


@dataclass
class ViewBatch:
    z: torch.Tensor  # [B, LATENT_DIM]
    c: torch.Tensor  # [B, 25]
    rgb: torch.Tensor  # [B, 3, R, R] in [-1, 1]
    depth: torch.Tensor  # [B, 1, R, R] ray distance
    mask: torch.Tensor  # [B, 1, R, R] covered fraction in [0, 1]
    details: torch.Tensor  # [B, 1, R, R] 1 on the eyes, lips and brows, else 0

    def to(self, device: torch.device) -> ViewBatch:
        return ViewBatch(*(t.to(device) for t in (self.z, self.c, self.rgb, self.depth, self.mask, self.details)))


@dataclass
class PointBatch:
    z: torch.Tensor  # [B, LATENT_DIM] the subjects
    points: torch.Tensor  # [B, P, 3]
    occupancy: torch.Tensor  # [B, P] soft inside-ness in [0, 1]
    colour: torch.Tensor  # [B, P, 3] shaded surface colour in [0, 1] (meaningful where near_surface)
    near_surface: torch.Tensor  # [B, P] bool

    def to(self, device: torch.device) -> PointBatch:
        return PointBatch(*(t.to(device) for t in (self.z, self.points, self.occupancy, self.colour,
                                                   self.near_surface)))


@dataclass
class StepData:
    views: list[RenderedView]  # new pool entries
    points: PointBatch


def step_generator(seed: int, step: int, stream: int) -> torch.Generator:
    """The random stream ``stream`` of step ``step`` (negative steps: the warm-up views)."""
    return torch.Generator().manual_seed(((seed * 1_000_003 + step) * 8 + stream) % (2 ** 63))


def render_view(z: torch.Tensor, yaw: float, pitch: float, resolution: int, details: bool = True) -> RenderedView:
    """The antialiased truth view of subject z [LATENT_DIM] from (yaw, pitch) at ``resolution``^2; its detail
    mask is left empty without ``details``."""
    label = pose_label(yaw, pitch)
    field = HeadField(subject_from_latent(z))
    r = render_subject(field, label, resolution)
    mask = torch.zeros(r.mask.numel(), dtype=torch.bool)
    if details:
        points, hit = pixel_surface_points(label, r.depth, r.mask)
        mask[hit] = field.detail_mask(points[hit])
    return RenderedView(z, label, unit_to_uint8(r.rgb), r.depth.half(), unit_to_uint8(r.mask),
                        mask.reshape(r.mask.shape))


def _random_view(spec: DataSpec, g: torch.Generator) -> RenderedView:
    z = torch.randn(LATENT_DIM, generator=g)
    yaw = float((torch.rand((), generator=g) * 2 - 1) * spec.yaw_range)
    pitch = float((torch.rand((), generator=g) * 2 - 1) * spec.pitch_range)
    return render_view(z, yaw, pitch, spec.resolution, spec.details)


def subject_points(z: torch.Tensor, count: int, generator: torch.Generator, surface_jitter: float = 0.01,
                   sharpness: float = 0.003) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``count`` points of subject z, half uniform in the box and half jittered around the surface -> points
    [P, 3], soft occupancy sigmoid(-sdf / sharpness) [P], shaded surface colour [P, 3], near-surface flag [P]."""
    field = HeadField(subject_from_latent(z))
    half = count // 2
    uniform = torch.rand(half, 3, generator=generator) - 0.5
    seeds = torch.rand(count - half, 3, generator=generator) * 0.9 - 0.45
    surface = (seeds - field.sdf(seeds)[:, None] * field.normals(seeds)).clamp(-0.5, 0.5)  # onto the surface
    jittered = surface + torch.randn(surface.shape, generator=generator) * surface_jitter
    p = torch.cat([uniform, jittered]).clamp(-0.5, 0.5)
    colour = surface_colour(field, surface, field.normals(surface), [])
    near = (field.sdf(surface).abs() < 3e-3) & ((p[half:] - surface).norm(dim=-1) < 0.01)
    return (p, torch.sigmoid(-field.sdf(p) / sharpness), torch.cat([torch.zeros(half, 3), colour]),
            torch.cat([torch.zeros(half, dtype=torch.bool), near]))


def make_step(spec: DataSpec, step: int) -> StepData:
    """All the fresh data of one step (a pure function of spec and step)."""
    g = step_generator(spec.seed, step, VIEWS)
    views = [_random_view(spec, g) for _ in range(spec.refresh_per_step if step % spec.refresh_every == 0 else 0)]
    g = step_generator(spec.seed, step, POINTS)
    z = torch.randn(spec.subjects_per_step, LATENT_DIM, generator=g)
    parts = [subject_points(zi, spec.points, g) for zi in z]
    points = PointBatch(z, *(torch.stack(p) for p in zip(*parts)))
    return StepData(views, points)


def make_warmup_view(spec: DataSpec, index: int) -> RenderedView:
    return _random_view(spec, step_generator(spec.seed, -1 - index, VIEWS))


def _init_worker() -> None:
    torch.set_num_threads(1)


class DataStream:
    """Step data in step order, made inline (``workers`` = 0) or ahead of time by worker processes."""

    def __init__(self, spec: DataSpec, workers: int = 0):
        self.spec = spec
        self.pool = (multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker)
                     if workers > 0 else None)
        self.ahead = 4 * workers

    def warmup_views(self, first: int, count: int) -> Iterator[RenderedView]:
        indices = range(first, first + count)
        if self.pool is None:
            return (make_warmup_view(self.spec, i) for i in indices)
        return self.pool.imap(functools.partial(make_warmup_view, self.spec), indices)

    def steps(self, first: int) -> Iterator[StepData]:
        """StepData of steps first, first + 1, ... (endless)."""
        if self.pool is None:
            step = first
            while True:
                yield make_step(self.spec, step)
                step += 1
        pending = deque(self.pool.apply_async(make_step, (self.spec, s)) for s in range(first, first + self.ahead))
        step = first + self.ahead
        while True:
            result = pending.popleft().get()
            pending.append(self.pool.apply_async(make_step, (self.spec, step)))
            step += 1
            yield result

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


POOL_FIELDS = ("z", "c", "rgb", "depth", "coverage", "details")  # what a ViewPool keeps of each RenderedView


class ViewPool:
    """A fixed-size pool of rendered views, each new one stored over the oldest."""

    def __init__(self, size: int, resolution: int):
        self.size, self.resolution = size, resolution
        self.z = torch.zeros(size, LATENT_DIM)
        self.c = torch.zeros(size, 25)
        self.rgb = torch.zeros(size, 3, resolution, resolution, dtype=torch.uint8)
        self.depth = torch.zeros(size, 1, resolution, resolution, dtype=torch.float16)
        self.coverage = torch.zeros(size, 1, resolution, resolution, dtype=torch.uint8)
        self.details = torch.zeros(size, 1, resolution, resolution, dtype=torch.bool)
        self.filled = 0
        self.cursor = 0

    def put(self, view: RenderedView) -> None:
        i = self.cursor
        for key in POOL_FIELDS:
            getattr(self, key)[i] = getattr(view, key)
        self.cursor = (self.cursor + 1) % self.size
        self.filled = min(self.filled + 1, self.size)

    def sample(self, batch: int, generator: torch.Generator) -> ViewBatch:
        idx = torch.randint(0, self.filled, (batch,), generator=generator)
        return ViewBatch(self.z[idx], self.c[idx], self.rgb[idx].float() / 127.5 - 1, self.depth[idx].float(),
                         self.coverage[idx].float() / 255, self.details[idx].float())

    def state(self) -> dict[str, torch.Tensor]:
        counters = torch.tensor([self.filled, self.cursor])
        return {**{key: getattr(self, key) for key in POOL_FIELDS}, "counters": counters}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        for key in POOL_FIELDS:
            getattr(self, key).copy_(state[key])
        self.filled, self.cursor = (int(v) for v in state["counters"])


def downsample_targets(view: ViewBatch, resolution: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Area-downsample rgb, mask and (mask-weighted) depth to the neural rendering resolution."""
    factor = view.rgb.shape[-1] // resolution
    rgb = F.avg_pool2d(view.rgb, factor)
    mask = F.avg_pool2d(view.mask, factor)
    depth = F.avg_pool2d(view.depth * view.mask, factor) / mask.clamp_min(1e-6)
    return rgb, mask, depth
