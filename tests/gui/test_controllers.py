"""The controllers through the app on a FakeEngine: the model's states as the window shows them."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory
from tests.helpers.fake_engine import FakeEngineLoader
from vldesk.core.errors import ModelLoadError
from vldesk.gui.controllers.models import ModelState


def test_the_model_goes_from_loading_to_ready_unloaded_and_failed(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot
) -> None:
    loader = FakeEngineLoader()
    app = make_app(fake_model_dir, start=False, engine_loader=loader)
    states: list[ModelState] = []
    app.models.state_changed.connect(states.append)
    assert app.models.state is ModelState.NONE
    app.start()
    qtbot.waitUntil(lambda: app.models.state is ModelState.READY, timeout=10_000)
    assert app.session.model_name == "fake-qwen3-vl"
    assert "fake-qwen3-vl" in app.window.status_panel.model_label.text()

    app.models.unload_model()
    qtbot.waitUntil(lambda: app.models.state is ModelState.UNLOADED, timeout=10_000)
    assert loader.engines[0].unloaded
    assert app.session.model_name is None
    assert not app.window.prompt_panel.send_button.isEnabled()

    loader.fail = ModelLoadError("The weights are damaged.")
    app.models.reload()
    qtbot.waitUntil(lambda: app.models.state is ModelState.FAILED, timeout=10_000)
    assert "The weights are damaged." in app.window.banner.text
    assert "The weights are damaged." in app.window.answer_view.browser.toPlainText()
    assert not app.window.load_progress.isVisible()
    # Loading is said twice: when it is asked for, and when the worker drops the old model.
    loading, ready, unloaded, failed = (
        ModelState.LOADING,
        ModelState.READY,
        ModelState.UNLOADED,
        ModelState.FAILED,
    )
    assert states == [loading, loading, ready, unloaded, loading, loading, failed]
