import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("INVERT3D_SHARED", Path(__file__).resolve().parents[2] / "shared"))
EG3D = SHARED / "fixtures" / "eg3d"


@pytest.fixture(scope="session")
def eg3d_dir() -> Path:
    if not EG3D.is_dir():
        pytest.skip(f"parity fixtures not found at {EG3D} (set INVERT3D_SHARED)")
    return EG3D


@pytest.fixture(scope="session")
def photos_dir() -> Path:
    d = SHARED / "fixtures" / "photos"
    if not d.is_dir():
        pytest.skip(f"photo fixtures not found at {d}")
    return d
