"""The app's library calls without a browser: an upload that is not a photo, and Stop then Invert again (the
inversion resumes where it stopped and finishes)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from invert3d.app import session
from invert3d.checkpoints import load_generator
from invert3d.errors import Invert3dError

TINY = ["coarse.steps=12", "pseudo.occluded.steps=4", "tuning.steps=12", "orbit_frames=4", "mesh_resolution=32"]


def test_an_upload_that_is_too_large_is_refused(tmp_path, monkeypatch):
    photo = tmp_path / "big.png"
    Image.fromarray(np.zeros((40, 30, 3), np.uint8)).save(photo)
    monkeypatch.setattr(session, "MAX_PIXELS", 1000)  # the real limit is 50 MP: the header alone is read
    with pytest.raises(Invert3dError, match="30x40: larger than"):
        session.prepare(photo, tmp_path / "work", load_generator())


def test_an_upload_that_is_not_a_photo_is_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(Invert3dError, match="not a photo"):
        session.prepare(text, tmp_path / "work", load_generator())
    fake = tmp_path / "fake.png"
    fake.write_text("not an image")
    with pytest.raises(Invert3dError, match="not a readable image"):
        session.prepare(fake, tmp_path / "work", load_generator())


@pytest.mark.end_to_end
def test_stop_then_invert_again_resumes_and_finishes(tmp_path):
    G = load_generator()
    photo = tmp_path / "crop.png"
    Image.fromarray(np.full((128, 128, 3), 150, np.uint8)).save(photo)
    prepared = session.prepare(photo, tmp_path / "work", G, already_aligned=True)
    seen = []

    def stop_in_tuning(desc, n, total):
        seen.append(desc)
        if desc == "tuning" and n >= 5:
            raise session.Cancelled("stopped")

    with pytest.raises(session.Cancelled):
        session.invert(prepared, G, "fast", "hfgi3d", None, stop_in_tuning, TINY)
    target = session.result_folder(prepared, "fast", "hfgi3d")
    assert {"coarse", "tuning"} <= set(seen) and target.config.is_file() and not target.is_finished()
    resumed = []
    folder = session.invert(prepared, G, "fast", "hfgi3d", None, lambda d, n, t: resumed.append((d, n)), TINY)
    assert folder.root == target.root and folder.is_finished()
    assert "coarse" not in {d for d, _ in resumed}  # stage 1 was not redone
    other = session.invert(prepared, G, "fast", "pti", None, lambda *_: None, TINY)  # another method: its own folder
    assert other.root != folder.root and other.is_finished()
    assert session.zipped(folder).name == f"{folder.root.name}.zip" and session.zipped(folder).is_file()
    assert session.render_view(folder, 0.3, 0.0).shape == (128, 128, 3)
