"""The web page at ``/``: offline, phone-friendly, and working in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import httpx
import pytest

from tests.helpers.fake_engine import FakeEngine
from tests.server.conftest import StartServer, png_bytes
from vldesk.core.presets import PRESETS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def test_the_page_is_self_contained_with_the_presets(start_server: StartServer) -> None:
    server = start_server(FakeEngine())
    response = httpx.get(f"{server.url}/")
    assert response.status_code == 200
    page = response.text
    # A phone can take a photo straight from the file picker.
    assert re.search(r'<input[^>]*type="file"[^>]*accept="image/\*"[^>]*capture', page)
    for preset in PRESETS:
        assert preset.title("en") in page
    # No external assets: nothing is loaded from anywhere but this server.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "url(http" not in page
    assert "@import" not in page


def test_the_page_needs_no_key_but_the_api_does(start_server: StartServer) -> None:
    server = start_server(FakeEngine(), api_key="k")
    assert httpx.get(f"{server.url}/").status_code == 200
    assert httpx.get(f"{server.url}/v1/models").status_code == 401


@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)
def test_in_headless_chromium_an_uploaded_image_gets_a_streamed_answer(
    start_server: StartServer, tmp_path: Path
) -> None:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    gate = threading.Event()

    def hold_at_third_word(index: int) -> None:
        if index == 3:
            gate.wait(60)  # the page must show the first words before the rest exist

    server = start_server(FakeEngine(before_word=hold_at_third_word))
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes((80, 60)))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        wait = WebDriverWait(driver, 60)
        driver.get(f"{server.url}/")
        driver.find_element(By.ID, "file").send_keys(str(photo))
        wait.until(
            lambda d: (d.find_element(By.ID, "preview").get_attribute("src") or "").startswith(
                "data:image/png"
            )
        )
        question = driver.find_element(By.ID, "question")
        question.clear()
        question.send_keys("what is in this photo")
        driver.find_element(By.ID, "ask").click()
        answer = driver.find_element(By.ID, "answer")
        # The first words arrive while the rest of the answer is still held back.
        wait.until(lambda d: answer.text == "what is in")
        gate.set()
        wait.until(lambda d: answer.text == "what is in this photo | image 1")
        assert driver.find_element(By.ID, "error").text == ""
    finally:
        gate.set()
        driver.quit()
