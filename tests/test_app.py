"""invert3d app in a real browser (headless Chromium driven by Selenium): upload -> crop and camera -> invert
(fast preset with fewer steps, embedded model) -> a novel view -> an attribute edit, checking what the page
shows."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("gradio")
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver")
SCREENSHOTS = os.environ.get("INVERT3D_APP_SCREENSHOTS")  # a folder to keep each step's screenshot in


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = tmp_path_factory.mktemp("app")
    port = _free_port()
    tiny = ["--set", "coarse.steps=12", "--set", "pseudo.occluded.steps=6", "--set", "tuning.steps=12"]
    server = subprocess.Popen([sys.executable, "-m", "invert3d", "app", "--port", str(port), "--workdir",
                               str(root / "results"), *tiny], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "the app did not start"
            time.sleep(0.5)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,2400"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=options)
    driver.get(url)
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#photo input[type=file]"))
    yield driver, root
    driver.quit()
    server.terminate()
    server.wait(timeout=30)


def _image(driver, elem_id: str, timeout: float, other_than: str | None = None) -> str:
    """The src of the image shown in component ``elem_id`` once there is one (and it is not ``other_than``)."""
    def shown(d):
        found = d.find_elements(By.CSS_SELECTOR, f"#{elem_id} img")
        src = found[0].get_attribute("src") if found else None
        return src if src and src != other_than else False
    return WebDriverWait(driver, timeout, poll_frequency=0.5).until(shown)


def _pixels(src: str) -> np.ndarray:
    with urllib.request.urlopen(src, timeout=30) as r:
        return np.asarray(Image.open(io.BytesIO(r.read())).convert("RGB")).astype(np.float32)


def _snap(driver, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SCREENSHOTS) / f"{name}.png"))


def _status(driver) -> str:
    return driver.find_element(By.ID, "status").text


@pytest.mark.end_to_end
def test_upload_invert_view_and_edit_in_a_browser(page, photos_dir, tmp_path):
    driver, root = page
    photo = tmp_path / "portrait.png"  # a real face, no camera beside it: the app aligns it
    shutil.copyfile(photos_dir / "00002.png", photo)
    driver.find_element(By.CSS_SELECTOR, "#photo input[type=file]").send_keys(str(photo))
    crop = _image(driver, "crop", 120)
    assert _pixels(crop).shape == (128, 128, 3)  # the embedded model's resolution
    WebDriverWait(driver, 60).until(lambda d: "camera: yaw" in d.find_element(By.ID, "camera").text)
    _snap(driver, "1-uploaded")

    driver.find_element(By.ID, "invert").click()
    reconstruction = _image(driver, "reconstruction", 900)
    assert _pixels(reconstruction).shape == (128, 128, 3)
    first_view = _image(driver, "view", 120)
    assert "Done:" in _status(driver) or "View at" in _status(driver)
    results = [p for p in (root / "results").iterdir() if p.is_dir()]
    assert len(results) == 1 and (results[0] / "summary.json").is_file()  # an ordinary result folder
    _snap(driver, "2-inverted")

    yaw = driver.find_element(By.CSS_SELECTOR, "#yaw input[type=number]")
    yaw.clear()
    yaw.send_keys("-0.4\n")
    driver.find_element(By.ID, "render").click()
    turned = _image(driver, "view", 120, other_than=first_view)
    assert np.abs(_pixels(turned) - _pixels(first_view)).mean() > 2  # another view of the head
    _snap(driver, "3-novel-view")

    driver.find_element(By.ID, "edit").click()
    edited = _image(driver, "view", 120, other_than=turned)
    assert np.abs(_pixels(edited) - _pixels(turned)).mean() > 1  # the edit changed the render
    WebDriverWait(driver, 60).until(lambda d: "Edited" in _status(d))
    assert len([p for p in (root / "results").iterdir() if p.is_dir()]) == 2  # the edit is a result folder too
    _snap(driver, "4-edited")


def test_a_bad_upload_gets_a_message_not_a_trace(page, tmp_path):
    driver, _ = page
    cat = tmp_path / "cat.png"
    Image.fromarray(np.full((256, 256, 3), 127, np.uint8)).save(cat)  # a blank image: no face
    driver.find_element(By.CSS_SELECTOR, "#photo input[type=file]").send_keys(str(cat))
    WebDriverWait(driver, 120).until(lambda d: "Error" in _status(d))
    assert "face" in _status(driver) and "Traceback" not in driver.page_source
