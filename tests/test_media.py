"""Photo loading: formats, orientation, alpha, bit depth, sizes, and refusals."""

import numpy as np
import pytest
from PIL import Image

from invert3d.errors import Invert3dError
from invert3d.media import load_photo


def _gradient(size=32):
    x = np.linspace(0, 255, size, dtype=np.float32)
    return np.stack([np.tile(x, (size, 1)), np.tile(x[:, None], (1, size)), np.full((size, size), 64)], -1)


def test_rgb_png_and_jpeg_round_trip(tmp_path):
    img = _gradient().astype(np.uint8)
    Image.fromarray(img).save(tmp_path / "a.png")
    Image.fromarray(img).save(tmp_path / "a.jpg", quality=95)
    png = load_photo(tmp_path / "a.png", 32)
    assert png.shape == (1, 3, 32, 32) and png.min() >= -1 and png.max() <= 1
    np.testing.assert_allclose((png[0].permute(1, 2, 0).numpy() + 1) * 127.5, img, atol=0.01)
    jpg = load_photo(tmp_path / "a.jpg", 32)
    assert (jpg - png).abs().mean() < 0.05


def test_greyscale_sixteen_bit_alpha_and_exif(tmp_path):
    grey = (_gradient()[..., 0]).astype(np.uint8)
    Image.fromarray(grey, "L").save(tmp_path / "g.png")
    g = load_photo(tmp_path / "g.png", 32)
    assert np.allclose(g[0, 0], g[0, 1]) and np.allclose(g[0, 1], g[0, 2])
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "g16.png")
    g16 = load_photo(tmp_path / "g16.png", 32)
    assert (g16 - g).abs().max() < 0.02
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[:16, :, :3] = 0
    rgba[:16, :, 3] = 255  # top half opaque black, bottom half transparent -> white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    t = load_photo(tmp_path / "t.png", 32)
    assert t[0, :, :16].max() == -1 and t[0, :, 16:].min() == 1
    img = Image.fromarray(_gradient().astype(np.uint8))
    exif = img.getexif()
    exif[0x0112] = 3  # rotated 180 degrees
    img.save(tmp_path / "r.jpg", exif=exif, quality=95)
    upright = load_photo(tmp_path / "r.jpg", 32)
    Image.fromarray(_gradient().astype(np.uint8)).save(tmp_path / "p.png")
    plain = load_photo(tmp_path / "p.png", 32)
    assert (upright - plain.flip(2, 3)).abs().mean() < 0.05


def test_resize_notice_and_refusals(tmp_path):
    Image.fromarray(_gradient(64).astype(np.uint8)).save(tmp_path / "big.png")
    notices = []
    assert load_photo(tmp_path / "big.png", 32, notices.append).shape == (1, 3, 32, 32)
    assert notices and "resizing" in notices[0]
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(tmp_path / "wide.png")
    with pytest.raises(Invert3dError, match="square"):
        load_photo(tmp_path / "wide.png", 32)
    (tmp_path / "bad.png").write_text("not an image")
    with pytest.raises(Invert3dError, match="not a readable image"):
        load_photo(tmp_path / "bad.png", 32)
    with pytest.raises(Invert3dError, match="not found"):
        load_photo(tmp_path / "missing.png", 32)
