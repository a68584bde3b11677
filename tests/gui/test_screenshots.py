"""Screenshots of the main window in light and dark palettes, for a person to review."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, drop_files, make_image, open_image, wait_idle
from vldesk.gui.app import DesktopApp

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def dark_palette() -> QPalette:
    """A dark palette like the ones desktops hand to Qt apps."""
    palette = QPalette()
    roles = QPalette.ColorRole
    colors = {
        roles.Window: "#2b2b2b",
        roles.WindowText: "#e6e6e6",
        roles.Base: "#1e1e1e",
        roles.AlternateBase: "#353535",
        roles.ToolTipBase: "#353535",
        roles.ToolTipText: "#e6e6e6",
        roles.PlaceholderText: "#8a8a8a",
        roles.Text: "#e6e6e6",
        roles.Button: "#353535",
        roles.ButtonText: "#e6e6e6",
        roles.BrightText: "#ff6b6b",
        roles.Light: "#4a4a4a",
        roles.Midlight: "#3c3c3c",
        roles.Mid: "#2f2f2f",
        roles.Dark: "#1a1a1a",
        roles.Shadow: "#000000",
        roles.Highlight: "#3d7bd9",
        roles.HighlightedText: "#ffffff",
        roles.Link: "#6fa8ff",
        roles.LinkVisited: "#b08cff",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.Text, roles.ButtonText, roles.WindowText):
        palette.setColor(disabled, role, QColor("#7a7a7a"))
    return palette


@pytest.fixture
def palette_switch() -> Iterator[None]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    original = app.palette()
    yield
    app.setPalette(original)


def _populate(app: DesktopApp, qtbot: QtBot, folder: Path) -> None:
    open_image(qtbot, app, make_image(folder / "receipt.png", (300, 500), (240, 240, 230)))
    app.ask_preset("ocr")
    wait_idle(qtbot, app)
    open_image(qtbot, app, make_image(folder / "street scene.png", (640, 420)))
    app.ask("What is in this picture? Answer in **Markdown**.")
    wait_idle(qtbot, app)
    app.ask("And the colours?")
    wait_idle(qtbot, app)


@pytest.mark.usefixtures("palette_switch")
def test_screenshots_light_and_dark(ready_app: DesktopApp, qtbot: QtBot, tmp_path: Path) -> None:
    app = ready_app
    app.window.resize(1280, 800)
    _populate(app, qtbot, tmp_path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication)
    for name, palette in (("light", qt_app.style().standardPalette()), ("dark", dark_palette())):
        qt_app.setPalette(palette)
        qtbot.wait(100)
        pixmap = app.window.grab()
        target = ARTIFACTS / f"main-window-{name}.png"
        assert pixmap.save(str(target))
        assert target.stat().st_size > 10_000


@pytest.mark.usefixtures("palette_switch")
def test_screenshot_without_a_model(make_app: AppFactory, qtbot: QtBot, tmp_path: Path) -> None:
    app = make_app()
    app.window.resize(1100, 700)
    drop_files(app.window, [tmp_path / "missing.txt"])
    qtbot.waitUntil(lambda: app.window.banner.isVisible(), timeout=10_000)
    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, palette in (("light", qt_app.style().standardPalette()), ("dark", dark_palette())):
        qt_app.setPalette(palette)
        qtbot.wait(50)
        assert app.window.grab().save(str(ARTIFACTS / f"no-model-{name}.png"))


def test_the_readme_screenshot_script_still_runs(tmp_path: Path) -> None:
    # docs/screenshots/make_screenshots.py makes the README's pictures; it drives the app's
    # real API, so it must keep working as the app changes.
    script = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "make_screenshots.py"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("main-window.png", "models.png", "describe-folder.png"):
        assert (tmp_path / name).stat().st_size > 10_000
