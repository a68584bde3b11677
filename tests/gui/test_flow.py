"""End to end with a tiny model: open, ask, stream, stop, follow up, history, export."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.gui.conftest import make_image, open_image, wait_idle
from vldesk.core.generation import StopReason
from vldesk.gui.app import DesktopApp


def test_preset_streams_an_answer(ready_app: DesktopApp, qtbot: QtBot, tmp_path: Path) -> None:
    app = ready_app
    open_image(qtbot, app, make_image(tmp_path / "red.png"))
    assert app.window.viewer.has_image
    assert "red.png" in app.window.image_info.text()
    assert "160 × 120 px" in app.window.image_info.text()
    button = app.window.prompt_panel.preset_button("brief")
    assert button.isEnabled()
    qtbot.mouseClick(button, __import__("PySide6.QtCore").QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.session.busy, timeout=5000)
    wait_idle(qtbot, app)
    assert app.session.last_result is not None
    assert app.session.last_result.stop_reason is not StopReason.CANCELLED
    assert len(app.window.answer_view.exchanges) == 1
