"""A procedural head: a signed distance field built from smooth-blended primitives, and a surface albedo.

The head faces +z, modelled at 1/HEAD_SCALE size and scaled so that, like an FFHQ face in EG3D's frame, the chin
sits near y = -0.26 and the top of the hair near y = 0.35, with the neck running down out of EG3D's triplane box
[-0.5, 0.5]^3 (the field is intersected with a slightly smaller box so every subject is closed). Parts:
skin (skull, jaw, cheeks, nose, ears, neck), lips, eyes, hair; each surface point belongs to the part whose own
field is smallest there. ``trace`` sphere-traces rays against the field.
"""

from __future__ import annotations

import torch

from invert3d.synthetic.noise import fractal_noise, spots, value_noise
from invert3d.synthetic.params import HeadParams

SKIN, LIPS, EYES, HAIR = 0, 1, 2, 3
BOX_HALF = 0.49
HEAD_SCALE = 0.72  # model units -> world units


def _ellipsoid(p: torch.Tensor, centre, radii) -> torch.Tensor:
    """Approximate (conservative-ish) signed distance to an axis-aligned ellipsoid."""
    r = torch.tensor(radii, dtype=p.dtype, device=p.device)
    q = (p - torch.tensor(centre, dtype=p.dtype, device=p.device)) / r
    k0 = q.norm(dim=-1)
    k1 = (q / r).norm(dim=-1)
    return k0 * (k0 - 1) / k1.clamp_min(1e-9)


def _capsule(p: torch.Tensor, a, b, radius: float) -> torch.Tensor:
    a = torch.tensor(a, dtype=p.dtype, device=p.device)
    ba = torch.tensor(b, dtype=p.dtype, device=p.device) - a
    pa = p - a
    h = ((pa @ ba) / (ba @ ba)).clamp(0, 1)
    return (pa - h[:, None] * ba).norm(dim=-1) - radius


def _smin(a: torch.Tensor, b: torch.Tensor, k: float) -> torch.Tensor:
    """Polynomial smooth minimum with blend radius k."""
    h = (0.5 + 0.5 * (b - a) / k).clamp(0, 1)
    return b * (1 - h) + a * h - k * h * (1 - h)


def _smax(a: torch.Tensor, b: torch.Tensor, k: float) -> torch.Tensor:
    return -_smin(-a, -b, k)


def _box(p: torch.Tensor, half: float) -> torch.Tensor:
    q = p.abs() - half
    return q.clamp_min(0).norm(dim=-1) + q.max(dim=-1).values.clamp_max(0)


class HeadField:
    """Signed distance and albedo of one subject. Points are [P, 3] float32 world coordinates."""

    def __init__(self, params: HeadParams):
        self.p = params
        v = params
        # Where the bare face surface lies: features are attached to it whatever the skull and jaw shapes.
        self.eye_z = self._front_z(v.eye_spacing, v.eye_height)
        self.nose_z = self._front_z(0.0, v.eye_height - v.nose_length)
        self.mouth_z = self._front_z(0.0, v.mouth_height)

    def _base(self, x: torch.Tensor) -> torch.Tensor:
        """Skull, jaw and cheeks (model units)."""
        v = self.p
        skull = _ellipsoid(x, (0.0, 0.07, -0.03), (v.skull_width, v.skull_height, v.skull_depth))
        jaw_y = -0.13 - v.jaw_drop
        jaw = _ellipsoid(x, (0.0, jaw_y, 0.05 + v.chin_forward * 0.5), (v.jaw_width, 0.2, 0.225 + v.chin_forward))
        skin = _smin(skull, jaw, 0.08)
        cheek_r = (0.085 + 0.025 * v.cheek_fullness, 0.075, 0.085)
        for side in (-1.0, 1.0):
            skin = _smin(skin, _ellipsoid(x, (side * 0.115, -0.04, 0.13), cheek_r), 0.05)
        return skin

    def _front_z(self, x: float, y: float) -> float:
        """z of the bare face surface in front of (x, y), by bisection along +z (model units)."""
        lo, hi = 0.0, 0.6
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            inside = float(self._base(torch.tensor([[x, y, mid]]))[0]) < 0
            lo, hi = (mid, hi) if inside else (lo, mid)
        return 0.5 * (lo + hi)

    def parts(self, x: torch.Tensor) -> torch.Tensor:
        """Per-part signed distances [P, 4] (skin, lips, eyes, hair) in world units."""
        return self._model_parts(x / HEAD_SCALE) * HEAD_SCALE

    def _model_parts(self, x: torch.Tensor) -> torch.Tensor:
        v = self.p
        skin = self._base(x)
        eye_y = v.eye_height
        nose_top = (0.0, eye_y - 0.01, self.eye_z - 0.01)
        nose_tip = (0.0, eye_y - v.nose_length, self.nose_z + v.nose_protrusion - 0.015)
        skin = _smin(skin, _capsule(x, nose_top, nose_tip, v.nose_width * 0.55), 0.025)
        skin = _smin(skin, _ellipsoid(x, (0.0, nose_tip[1] - 0.012, nose_tip[2] - 0.018),
                                      (v.nose_width, 0.022, 0.028)), 0.02)
        for side in (-1.0, 1.0):
            ear_x = side * (v.skull_width - 0.015 + v.ear_protrusion * 0.5)
            skin = _smin(skin, _ellipsoid(x, (ear_x, eye_y - 0.035, -0.03), (0.018, v.ear_size, v.ear_size * 0.6)),
                         0.02)
        neck = _capsule(x, (0.0, -0.18, -0.06), (0.0, -0.75, -0.1), v.neck_width)
        skin = _smin(skin, neck, 0.06)
        # Eyeballs sit in sockets carved into the skin, showing a cap of about a third of their radius.
        eyes = torch.full_like(skin, 1e3)
        for side in (-1.0, 1.0):
            centre = self.eye_centre(side)
            eyes = torch.minimum(eyes, _ellipsoid(x, centre, (v.eye_size,) * 3))
            socket = _ellipsoid(x, (centre[0], centre[1], centre[2] + 0.006),
                                (v.eye_size * 1.25, v.eye_size * 0.95, v.eye_size * 1.1))
            skin = _smax(skin, -socket, 0.012)
        mouth_y = v.mouth_height
        mouth_z = self.mouth_z - 0.022
        upper = _ellipsoid(x, (0.0, mouth_y + v.lip_fullness * 0.8, mouth_z), (v.lip_width, v.lip_fullness, 0.035))
        lower = _ellipsoid(x, (0.0, mouth_y - v.lip_fullness * 0.9, mouth_z - 0.004),
                           (v.lip_width * 0.85, v.lip_fullness * 1.1, 0.035))
        lips = torch.minimum(upper, lower)
        grow = v.hair_volume
        hair = _ellipsoid(x, (0.0, 0.09 + 0.015 * grow, -0.045 - 0.02 * grow),
                          (v.skull_width + 0.02 + 0.045 * grow, v.skull_height + 0.025 + 0.03 * grow,
                           v.skull_depth + 0.02 + 0.04 * grow))
        back = torch.sigmoid(-(x[:, 2] - 0.02) / 0.06)  # 0 at the face, 1 at the back of the head
        hairline = v.hairline * (1 - back) + (-0.02 - 0.32 * v.hair_length) * back
        side_gap = torch.sigmoid((x[:, 0].abs() - v.skull_width + 0.03) / 0.02) * (1 - back) * 0.12
        hair = torch.maximum(hair, hairline + side_gap - x[:, 1])
        return torch.stack([skin, lips, eyes, hair], dim=-1)

    def eye_centre(self, side: float) -> tuple[float, float, float]:
        """Centre of the left (-1) or right (+1) eyeball, model units."""
        return (side * self.p.eye_spacing, self.p.eye_height, self.eye_z - self.p.eye_size * 0.65)

    def sdf(self, x: torch.Tensor) -> torch.Tensor:
        """Signed distance [P] (negative inside), closed by the box |x| <= BOX_HALF."""
        parts = self.parts(x)
        d = _smin(parts[:, SKIN], parts[:, LIPS], 0.01)
        d = torch.minimum(torch.minimum(d, parts[:, EYES]), parts[:, HAIR])
        return torch.maximum(d, _box(x, BOX_HALF))

    def part_ids(self, x: torch.Tensor) -> torch.Tensor:
        return self.parts(x).argmin(dim=-1)

    def normals(self, x: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
        """Unit outward normals [P, 3] by central differences."""
        offsets = torch.eye(3, dtype=x.dtype, device=x.device) * eps
        grad = torch.stack([self.sdf(x + o) - self.sdf(x - o) for o in offsets], dim=-1)
        return torch.nn.functional.normalize(grad, dim=-1)

    def albedo(self, x: torch.Tensor) -> torch.Tensor:
        """Surface colour [P, 3] in [0, 1] at surface points (world coordinates)."""
        v = self.p
        part = self.part_ids(x)
        x = x / HEAD_SCALE
        col = torch.empty(x.shape[0], 3, dtype=x.dtype, device=x.device)
        # Skin: tone with blotchy variation, freckles, a few blemishes, eyebrows.
        variation = fractal_noise(x, 9.0, 3, salt=0.0) - 0.5
        skin = v.skin[None] * (1 + 0.22 * v.skin_variation * variation[:, None])
        redness = fractal_noise(x, 5.0, 2, salt=3.0) ** 2
        skin = skin + 0.08 * redness[:, None] * torch.tensor([1.0, -0.3, -0.3])
        face = torch.sigmoid((x[:, 2] - 0.12) / 0.03)
        freckle = spots(x, 40.0, 0.5 * v.freckles, 0.22, salt=11.0) * face
        skin = skin * (1 - 0.35 * freckle[:, None]) + freckle[:, None] * 0.35 * torch.tensor([0.45, 0.25, 0.12])
        blemish = spots(x, 18.0, 0.25 * v.blemishes, 0.14, salt=23.0) * face
        skin = skin * (1 - 0.4 * blemish[:, None]) + blemish[:, None] * 0.4 * torch.tensor([0.75, 0.3, 0.3])
        brow = self._brow_mask(x)
        skin = skin * (1 - brow[:, None]) + v.brow[None] * brow[:, None]
        col[:] = skin
        # Lips.
        lip_tex = 0.9 + 0.1 * value_noise(x * torch.tensor([1.0, 6.0, 1.0]), 60.0, salt=5.0)
        col[part == LIPS] = (v.lips[None] * lip_tex[:, None])[part == LIPS]
        # Eyes: white, coloured iris with radial texture, black pupil, looking along +z.
        col[part == EYES] = self._eye_colour(x)[part == EYES]
        # Hair: strands along the vertical direction, lighter highlights.
        strands = value_noise(x * torch.tensor([1.0, 0.08, 1.0]), 90.0 * v.hair_strand_scale, salt=31.0)
        clumps = fractal_noise(x, 12.0, 2, salt=37.0)
        hair = v.hair[None] * (0.7 + 0.45 * strands[:, None] + 0.15 * (clumps[:, None] - 0.5))
        col[part == HAIR] = hair[part == HAIR]
        return col.clamp(0, 1)

    def detail_mask(self, x: torch.Tensor) -> torch.Tensor:
        """[P] bool: surface points [P, 3] (world) on the eyes, the lips or the brows, the face's small details."""
        part = self.part_ids(x)
        brows = (part == SKIN) & (self._brow_mask(x / HEAD_SCALE) > 0.5)
        return (part == EYES) | (part == LIPS) | brows

    def _brow_mask(self, x: torch.Tensor) -> torch.Tensor:
        v = self.p
        out = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for side in (-1.0, 1.0):
            u = (x[:, 0] - side * v.eye_spacing) / (v.eye_size * 1.7)  # -1..1 across the brow
            arch = v.brow_arch * (1 - u.square())
            centre_y = v.eye_height + v.eye_size * 1.35 + arch - 0.006 * u * side
            inside = (1 - u.abs()).clamp(0, 1).pow(0.3) * torch.sigmoid(x[:, 2] * 40 - 8)
            band = torch.clamp(1.5 - 1.5 * (x[:, 1] - centre_y).abs() / v.brow_thickness, 0, 1)
            hairs = 0.75 + 0.25 * value_noise(x * torch.tensor([3.0, 1.0, 1.0]), 120.0, salt=41.0)
            out = torch.maximum(out, (band * inside * hairs).clamp(0, 1))
        return out

    def _eye_colour(self, x: torch.Tensor) -> torch.Tensor:
        v = self.p
        side = torch.where(x[:, 0] > 0, 1.0, -1.0)
        _, cy, cz = self.eye_centre(1.0)
        centre = torch.stack([side * v.eye_spacing, torch.full_like(side, cy), torch.full_like(side, cz)], dim=-1)
        d = torch.nn.functional.normalize(x - centre, dim=-1)
        angle = torch.arccos(d[:, 2].clamp(-1, 1))  # from the gaze axis
        radial = value_noise(torch.stack([torch.atan2(d[:, 1], d[:, 0]) * 3, angle * 0, angle * 0], -1), 4.0)
        iris = v.iris[None] * (0.75 + 0.5 * radial[:, None])
        sclera = torch.tensor([0.93, 0.91, 0.88]).expand_as(iris)
        col = torch.where((angle < 0.55)[:, None], iris, sclera)
        return torch.where((angle < 0.22)[:, None], torch.full_like(iris, 0.03), col)


@torch.no_grad()
def trace(field: HeadField, origins: torch.Tensor, directions: torch.Tensor, t_near: float, t_far: float,
          steps: int = 96, eps: float = 4e-4) -> tuple[torch.Tensor, torch.Tensor]:
    """Sphere-trace rays [R, 3] -> (distance [R], hit [R] bool). Only rays still marching are evaluated."""
    t = torch.full((origins.shape[0],), t_near, dtype=origins.dtype)
    t_prev = t.clone()  # last position known to be outside
    active = torch.arange(origins.shape[0])
    hit = torch.zeros(origins.shape[0], dtype=torch.bool)
    for _ in range(steps):
        if active.numel() == 0:
            break
        d = field.sdf(origins[active] + t[active, None] * directions[active])
        done = d < eps
        hit[active[done]] = True
        outside = ~done
        t_prev[active[outside]] = t[active[outside]]
        t[active] = t[active] + torch.where(done, torch.zeros_like(d), 0.9 * d)
        keep = outside & (t[active] < t_far)
        active = active[keep]
    # The field is only approximately a distance, so a ray may stop slightly inside: bisect back to the surface
    # between the last outside position and the stop.
    idx = torch.nonzero(hit).squeeze(1)
    lo, hi = t_prev[idx], t[idx]
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        inside = field.sdf(origins[idx] + mid[:, None] * directions[idx]) < 0
        hi = torch.where(inside, mid, hi)
        lo = torch.where(inside, lo, mid)
    t[idx] = hi
    return t.clamp(max=t_far), hit & (t < t_far)
