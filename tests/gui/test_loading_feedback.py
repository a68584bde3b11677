"""While torch and the weights load (after the window is up), the window shows that it is busy."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Slot
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, make_image, open_image, wait_for_model
from tests.helpers.fake_engine import FakeEngineLoader
from vldesk.gui.app import DesktopApp


def test_loading_the_model_is_visible_until_it_is_ready(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot
) -> None:
    app = make_app(fake_model_dir, start=False, engine_loader=FakeEngineLoader())
    seen: dict[str, object] = {}

    class Probe(QObject):
        """Lives in the GUI thread: its slot runs right after the app's own handler."""

        @Slot(str)
        def loading(self, _name: str) -> None:
            w = app.window
            seen["bar"] = w.load_progress.isVisible()
            seen["busy"] = w.load_progress.maximum() == 0  # an indeterminate (busy) bar
            seen["status"] = w.status_panel.model_label.text()
            seen["placeholder"] = w.answer_view.browser.toPlainText()

    probe = Probe()
    app.inference.model_loading.connect(probe.loading)
    app.start()
    wait_for_model(qtbot, app)
    assert seen["bar"] is True
    assert seen["busy"] is True
    assert str(seen["status"]).startswith("Loading ")
    assert "Loading the model" in str(seen["placeholder"])
    assert not app.window.load_progress.isVisible()


def test_the_hint_in_the_answer_pane_says_what_to_do_next(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    app = fake_app
    browser = app.window.answer_view.browser
    assert "Open an image" in browser.toPlainText()
    open_image(qtbot, app, make_image(tmp_path / "photo.png"))
    assert "Open an image" not in browser.toPlainText()
    assert "type a question about the image" in browser.toPlainText()
