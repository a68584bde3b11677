"""The web page at ``/``: offline, phone-friendly, and working in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.fake_engine import FakeEngine
from tests.server.conftest import StartServer, png_bytes
from vldesk.core.presets import PRESETS
from vldesk.server.page import page_language

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


def test_the_page_follows_the_language_asked_the_servers_or_the_browsers(
    start_server: StartServer,
) -> None:
    english, chinese = PRESETS[0].title("en"), PRESETS[0].title("zh")
    browser = start_server(FakeEngine())
    zh_browser = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
    page = httpx.get(f"{browser.url}/", headers=zh_browser).text
    assert '<html lang="zh-Hans">' in page
    assert chinese in page
    assert PRESETS[0].prompt("zh") in page
    assert english not in page
    assert "提问" in page  # the page's own words too
    assert english in httpx.get(f"{browser.url}/", headers={"Accept-Language": "fr, en"}).text
    # ?lang= wins over the browser's; the server's own language over the browser's.
    assert english in httpx.get(f"{browser.url}/?lang=en", headers=zh_browser).text
    fixed = start_server(FakeEngine(), language="zh")
    assert chinese in httpx.get(f"{fixed.url}/", headers={"Accept-Language": "en-GB"}).text


@pytest.mark.parametrize(
    ("asked", "configured", "accept", "expected"),
    [
        (None, "auto", None, "en"),
        (None, "auto", "zh-TW;q=0.9", "zh"),
        (None, "auto", "de-DE, zh_CN;q=0.5", "zh"),
        ("xx", "zh", "en", "zh"),
        ("en", "zh", "zh", "en"),
        (None, "en", "zh", "en"),
    ],
)
def test_page_language_precedence(
    asked: str | None, configured: str, accept: str | None, expected: str
) -> None:
    assert page_language(asked, configured, accept) == expected


def chromium(tmp_path: Path, accept_languages: str = "en-US") -> Any:
    """Headless Chromium through chromedriver, with a private profile."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

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
    options.add_experimental_option("prefs", {"intl.accept_languages": accept_languages})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)
def test_in_headless_chromium_a_chinese_browser_gets_chinese_presets(
    start_server: StartServer, tmp_path: Path
) -> None:
    pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    server = start_server(FakeEngine())
    driver = chromium(tmp_path, "zh-CN,zh")
    try:
        driver.get(f"{server.url}/")
        titles = [option.text for option in Select(driver.find_element(By.ID, "preset")).options]
        assert titles == [preset.title("zh") for preset in PRESETS]
        question = driver.find_element(By.ID, "question").get_attribute("value")
        assert question == PRESETS[0].prompt("zh")
        assert driver.find_element(By.ID, "ask").text == "提问"
    finally:
        driver.quit()


@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)
def test_in_headless_chromium_an_uploaded_image_gets_a_streamed_answer(
    start_server: StartServer, tmp_path: Path
) -> None:
    pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    gate = threading.Event()

    def hold_at_third_word(index: int) -> None:
        if index == 3:
            gate.wait(60)  # the page must show the first words before the rest exist

    server = start_server(FakeEngine(before_word=hold_at_third_word))
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes((80, 60)))
    driver = chromium(tmp_path)
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
