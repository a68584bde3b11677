"""The window follows the desktop's light or dark palette (nothing is painted in fixed colours),
and the README's screenshot script still runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory
from vldesk.core.history import HistoryStore
from vldesk.core.paths import app_paths
from vldesk.gui.widgets.message_banner import Level


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


def colours(widget: QWidget, step: int = 3) -> Counter[int]:
    """How often each colour (0xAARRGGBB) appears in what ``widget`` paints (every ``step``-th
    pixel each way: enough to tell backgrounds, frames and text apart)."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    return Counter(
        image.pixel(x, y)
        for y in range(0, image.height(), step)
        for x in range(0, image.width(), step)
    )


def rgb(palette: QPalette, role: QPalette.ColorRole) -> int:
    return palette.color(QPalette.ColorGroup.Active, role).rgb()


def stored_conversation(folder: Path) -> int:
    """A conversation in the app's history whose image is gone (a thumbnail stands in for it)."""
    with HistoryStore(app_paths().ensure().history_db) as history:
        thumbnail = Image.new("RGB", (96, 64), (200, 40, 40))
        conversation = history.start_conversation(folder / "gone.png", thumbnail, "tiny")
        history.add_message(conversation, "user", "What is in the corner?")
        history.add_message(conversation, "assistant", "A **blue** square.\n\n- one\n- two")
        history.add_message(conversation, "user", "And the rest?")
        history.add_message(conversation, "assistant", "Red.")
    return conversation


@pytest.mark.usefixtures("palette_switch")
def test_the_window_follows_the_light_and_dark_palettes(
    make_app: AppFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    conversation = stored_conversation(tmp_path)
    app = make_app(start=False)
    app.window.resize(1280, 800)
    app.history.open_entry(conversation)
    assert [e.question for e in app.window.answer_view.exchanges] == [
        "What is in the corner?",
        "And the rest?",
    ]
    banner = app.window.banner
    assert banner.isVisible()
    assert banner.level is Level.INFO
    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication)
    light, dark = qt_app.style().standardPalette(), dark_palette()
    roles = QPalette.ColorRole
    assert rgb(light, roles.AlternateBase) != rgb(dark, roles.AlternateBase)
    answer = app.window.answer_view.browser.viewport()
    for palette, other in ((dark, light), (light, dark)):
        qt_app.setPalette(palette)
        base, alternate = rgb(palette, roles.Base), rgb(palette, roles.AlternateBase)
        # The questions' frames are painted in the palette's alternate base once it changes.
        qtbot.waitUntil(lambda alternate=alternate: alternate in colours(answer), timeout=5000)
        seen = colours(answer)
        assert seen.most_common(1)[0][0] == base
        assert rgb(other, roles.AlternateBase) not in seen
        assert rgb(other, roles.Base) not in seen
        assert rgb(palette, roles.Text) in seen  # the answers' words, in the palette's colour
        assert colours(banner).most_common(1)[0][0] == alternate
        window_colour = colours(app.window).most_common(1)[0][0]
        assert window_colour in (base, rgb(palette, roles.Window))


@pytest.mark.model  # the script builds a tiny model in its own process
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
    sizes = {}
    for name in ("main-window.png", "models.png", "describe-folder.png"):
        image = QImage(str(tmp_path / name))
        assert not image.isNull(), name
        sizes[name] = (image.width(), image.height())
        # A window with text, widgets and (in the main window) the scanned page, not a blank.
        assert (
            len(
                set(
                    image.pixel(x, y)
                    for y in range(0, image.height(), 4)
                    for x in range(0, image.width(), 4)
                )
            )
            > 50
        ), name
    assert sizes["main-window.png"] == (1280, 800)
    assert sizes["models.png"] == (900, 520)
