"""The embedded model ships inside the package and is the default generator."""

import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from invert3d.cameras import pose_label
from invert3d.checkpoints import EMBEDDED_DIR, load_generator
from invert3d.synthetic.head import HeadField
from invert3d.synthetic.params import sample_latents, subject_from_latent
from invert3d.synthetic.render import render_subject


def test_weights_are_safetensors_within_budget():
    weights = EMBEDDED_DIR / "weights.safetensors"
    assert weights.is_file() and weights.stat().st_size <= 25 * 2**20
    assert (EMBEDDED_DIR / "MODEL_CARD.md").is_file()


def test_sample_without_checkpoint_uses_the_embedded_model(tmp_path):
    out = tmp_path / "s"
    r = subprocess.run([sys.executable, "-m", "invert3d", "sample", "--seeds", "0-1", "--frames", "4",
                        "--grid-views", "2", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    a = np.asarray(Image.open(out / "seed0000.png"), dtype=float)
    b = np.asarray(Image.open(out / "seed0001.png"), dtype=float)
    assert a.shape == (128, 128, 3)
    # A head on a white background: the corners are white, the centre is not, and seeds differ.
    assert a[:8, :8].mean() > 240 and a[48:80, 48:80].mean() < 200
    assert np.abs(a - b).mean() > 3


@torch.no_grad()
def test_embedded_model_renders_held_out_subjects_like_the_truth():
    G = load_generator()
    z = sample_latents(2, seed=987654)
    label = pose_label(0.3, 0.1)
    out = G.synthesis(G.mapping(z, label.expand(2, -1)), label.expand(2, -1), deterministic=True)
    for i in range(2):
        truth = render_subject(HeadField(subject_from_latent(z[i])), label, 128)
        mask = truth.mask[0] > 0.5
        model_mask = torch.nn.functional.interpolate(out["image_mask"][i:i + 1], size=128, mode="bilinear")[0, 0]
        iou = ((model_mask > 0.5) & mask).sum() / ((model_mask > 0.5) | mask).sum()
        assert iou > 0.9
        error = ((out["image"][i] + 1) / 2 - truth.rgb).abs().mean()
        assert error < 0.08
