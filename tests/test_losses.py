"""L_rec with prepared targets: equal to the direct formula, batched terms independent, bf16 close to float32."""

import numpy as np
import pytest
import torch
from PIL import Image

from invert3d.config import LossConfig
from invert3d.inversion.losses import LossTarget, ReconstructionLoss
from invert3d.metrics import LPIPS
from tests.conftest import SHARED

FIXTURES = SHARED / "fixtures" / "lpips"


def _image(name: str) -> torch.Tensor:
    if not (FIXTURES / name).is_file():
        pytest.skip(f"{FIXTURES / name} not found")
    array = np.asarray(Image.open(FIXTURES / name).convert("RGB"), dtype=np.float32) / 127.5 - 1
    return torch.from_numpy(array).permute(2, 0, 1)[None]


@pytest.fixture(scope="module")
def images():
    return _image("ex_ref.png"), _image("ex_p0.png"), _image("ex_p1.png")


def test_prepared_batch_matches_the_direct_formula(images):
    ref, p0, p1 = images
    mask = torch.zeros_like(ref[:, :1])
    mask[..., 8:40, 4:60] = 1
    loss = ReconstructionLoss(LossConfig(l2=0.7, lpips=1.3, lpips_precision="float32"))
    lpips = LPIPS("vgg")
    direct = torch.stack([
        0.7 * (p0 - ref).square().mean() + 1.3 * lpips(p0, ref)[0],
        0.7 * (p1 * mask - ref * mask).square().mean() + 1.3 * lpips(p1 * mask, ref * mask)[0],
    ])
    targets = LossTarget.cat([loss.prepare(ref), loss.prepare(ref, mask)])
    batched = loss(torch.cat([p0, p1]), targets)
    assert batched.shape == (2,)
    assert torch.allclose(batched, direct, rtol=1e-5, atol=1e-6)
    # Gradients reach the generated image only through its unmasked pixels.
    p1 = p1.clone().requires_grad_(True)
    loss(p1, loss.prepare(ref, mask)).sum().backward()
    assert p1.grad[..., mask[0, 0] == 0].abs().max() == 0
    assert p1.grad[..., mask[0, 0] == 1].abs().max() > 0


def test_bfloat16_lpips_is_close_to_float32(images):
    ref, p0, p1 = images
    exact = ReconstructionLoss(LossConfig(l2=0.0, lpips_precision="float32"))
    fast = ReconstructionLoss(LossConfig(l2=0.0, lpips_precision="bfloat16"))
    assert fast.precision == "bfloat16"
    a = exact(torch.cat([p0, p1]), exact.prepare(ref.expand(2, -1, -1, -1)))
    b = fast(torch.cat([p0, p1]), fast.prepare(ref.expand(2, -1, -1, -1)))
    assert b.dtype == torch.float32
    assert torch.allclose(a, b, rtol=0.005)  # measured: 0.04 %
    assert (b[0] < b[1]) == (a[0] < a[1])  # same ranking of the two distortions
