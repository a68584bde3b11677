"""End to end with a tiny model: open, ask, stream, stop, follow up, history, export."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.gui.conftest import (
    SAMPLING,
    AppFactory,
    make_image,
    open_image,
    wait_for_model,
    wait_idle,
)
from vldesk.core.generation import GenerationSettings, StopReason
from vldesk.core.inference.engine import LoadRequest, load_engine
from vldesk.core.inference.transformers_engine import TransformersEngine
from vldesk.core.settings import load_settings
from vldesk.gui.app import DesktopApp

LONG = 100_000  # max_new_tokens that cannot finish during a test: the answer must be stopped


def endless(app: DesktopApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make answers run until stopped (random tiny models may otherwise end early)."""
    base = app.chat.generation_settings()
    settings = GenerationSettings(**{**base.to_dict(), "max_new_tokens": LONG, "ignore_eos": True})
    monkeypatch.setattr(app.chat, "generation_settings", lambda preset_tokens=None: settings)


def test_preset_streams_then_follow_up_continues(
    ready_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    app = ready_app
    window = app.window
    assert "qwen3_vl" in window.status_panel.model_label.text()
    assert "cpu" in window.status_panel.device_label.text()

    open_image(qtbot, app, make_image(tmp_path / "red.png"))
    assert window.viewer.has_image
    info = window.image_info.text()
    assert "red.png" in info
    assert "160 × 120 px" in info

    button = window.prompt_panel.preset_button("brief")
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert app.session.busy
    assert window.prompt_panel.stop_button.isEnabled()
    wait_idle(qtbot, app)
    first = app.session.last_result
    assert first is not None
    assert first.stop_reason is not StopReason.CANCELLED
    assert window.answer_view.current_answer() == first.text
    assert "image tokens" in window.status_panel.image_tokens_label.text()
    assert "tokens/s" in window.status_panel.speed_label.text()

    # A follow-up, typed and sent with Enter, continues the same conversation.
    edit = window.prompt_panel.prompt_edit
    qtbot.keyClicks(edit, "What colour is the corner?")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert edit.toPlainText() == ""
    wait_idle(qtbot, app)
    turns = app.session.conversation.turns
    assert [t.role for t in turns] == ["user", "assistant", "user", "assistant"]
    assert turns[0].images  # the image goes with the first question only
    assert not turns[2].images
    assert turns[2].text == "What colour is the corner?"
    exchanges = window.answer_view.exchanges
    assert [e.question for e in exchanges][1] == "What colour is the corner?"
    assert "What colour is the corner?" in window.answer_view.browser.toPlainText()
    # It continued from the first answer's cache instead of reading the image again.
    follow_up = app.session.last_result
    assert follow_up is not None
    assert follow_up.stats.reused_tokens > first.stats.image_tokens
    assert "continued from the previous answer" in window.status_panel.first_token_label.toolTip()

    # Both exchanges were written to history as they happened, in one entry.
    assert app.history.store is not None
    entry = app.history.store.get_conversation(app.session.history_id or -1)
    assert entry is not None
    assert [m.role for m in entry.messages] == ["user", "assistant", "user", "assistant"]
    assert entry.messages[-1].stats is not None
    assert app.history.model.rowCount() == 1

    # A new image starts a new conversation.
    open_image(qtbot, app, make_image(tmp_path / "blue.png", color=(20, 20, 200)))
    assert app.session.conversation.turns == ()
    assert window.answer_view.exchanges == []


def test_stop_mid_answer_keeps_the_partial_answer(
    make_app: AppFactory,
    tiny_dir: Path,
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app(tiny_dir, max_new_tokens=LONG, **SAMPLING)
    wait_for_model(qtbot, app)
    endless(app, monkeypatch)
    open_image(qtbot, app, make_image(tmp_path / "a.png"))
    assert app.chat.ask("Describe every pixel.")
    view = app.window.answer_view
    qtbot.waitUntil(lambda: len(view.current_answer()) > 20, timeout=30_000)
    assert app.session.busy
    qtbot.keyClick(app.window.prompt_panel.prompt_edit, Qt.Key.Key_Escape)  # Esc stops
    wait_idle(qtbot, app, timeout=10_000)
    result = app.session.last_result
    assert result is not None
    assert result.stop_reason is StopReason.CANCELLED
    assert result.stats.new_tokens < LONG
    assert "(stopped)" in view.browser.toPlainText()
    # The stopped answer is in history too.
    assert app.history.store is not None
    entry = app.history.store.get_conversation(app.session.history_id or -1)
    assert entry is not None
    assert entry.messages[-1].role == "assistant"
    assert entry.messages[-1].stats is not None
    assert entry.messages[-1].stats["stop_reason"] == "cancelled"


def test_history_survives_a_restart_and_exports(
    make_app: AppFactory, tiny_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    first = make_app(tiny_dir, **SAMPLING)
    wait_for_model(qtbot, first)
    image = make_image(tmp_path / "pictures" / "harbour.png")
    open_image(qtbot, first, image)
    assert first.chat.ask("Where are the zebras?")
    wait_idle(qtbot, first)
    answer = first.session.last_result.text if first.session.last_result else ""
    first.shut_down()

    # A new composition root on the same VLDESK_HOME finds the entry.
    second = make_app(tiny_dir, start=False, **SAMPLING)
    model = second.history.model
    assert model.rowCount() == 1
    assert "Where are the zebras?" in model.data(model.index(0))
    panel = second.window.history_panel
    qtbot.keyClicks(panel.search_edit, "zebras")
    qtbot.waitUntil(lambda: model.query == "zebras", timeout=2000)
    assert model.rowCount() == 1
    panel.search_edit.setText("giraffes")
    qtbot.waitUntil(lambda: model.query == "giraffes", timeout=2000)
    assert model.rowCount() == 0
    panel.search_edit.clear()
    qtbot.waitUntil(lambda: model.query is None, timeout=2000)
    assert model.rowCount() == 1

    # Reopening shows the image and the conversation, ready for a follow-up.
    conversation_id = model.conversation_id(model.index(0))
    assert conversation_id is not None
    panel.list_view.setCurrentIndex(model.index(0))
    qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: second.session.history_id == conversation_id, timeout=10_000)
    assert second.session.image is not None
    assert second.session.image.path == image
    assert [e.question for e in second.window.answer_view.exchanges] == ["Where are the zebras?"]
    assert second.window.viewer.has_image

    # Export the conversation and the history, as text and Markdown.
    exports = tmp_path / "exports"
    exports.mkdir()
    assert second.history.export_conversation(exports / "conversation.txt")
    text = (exports / "conversation.txt").read_text(encoding="utf-8")
    assert "Where are the zebras?" in text
    # The tiny model's answer may run to the token limit: it is then marked so.
    assert re.search(r"^Answer( \(cut off at the token limit\))?:$", text, re.MULTILINE)
    assert str(image) in text
    assert second.history.export_history(path=exports / "history.md")
    markdown = (exports / "history.md").read_text(encoding="utf-8")
    assert "## harbour.png" in markdown
    assert "> Where are the zebras?" in markdown
    assert "![harbour.png](../pictures/harbour.png)" in markdown
    if answer.strip():
        assert answer.strip().splitlines()[0].strip() in markdown


def test_closing_mid_answer_saves_what_was_shown(
    make_app: AppFactory,
    tiny_dir: Path,
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app(tiny_dir, **SAMPLING)
    wait_for_model(qtbot, app)
    endless(app, monkeypatch)
    open_image(qtbot, app, make_image(tmp_path / "a.png"))
    assert app.chat.ask("Keep talking.")
    qtbot.waitUntil(lambda: len(app.window.answer_view.current_answer()) > 20, timeout=30_000)
    history_id = app.session.history_id
    app.window.close()
    assert not app.inference.worker_thread.isRunning()
    from vldesk.core.history import HistoryStore

    with HistoryStore(app.paths.history_db) as history:
        entry = history.get_conversation(history_id or -1)
    assert entry is not None
    assert [m.role for m in entry.messages] == ["user", "assistant"]
    assert entry.messages[1].stats is not None
    assert entry.messages[1].stats["stop_reason"] == "cancelled"


def test_closing_while_a_model_loads_does_not_wait_for_the_load(
    make_app: AppFactory, tiny_dir: Path, qtbot: QtBot
) -> None:
    # Reading a big model's weights takes minutes and cannot be interrupted; closing used to
    # block the window until it returned (up to a minute, then the thread was torn down).
    reading = threading.Event()
    release = threading.Event()
    released_by_the_test: list[bool] = []
    engines: list[TransformersEngine] = []

    def slow_load(request: LoadRequest) -> TransformersEngine:
        reading.set()
        # Released only after close() returned. The timeout just ends a deadlock: if closing
        # waits for the load, the load goes on by itself and the checks below fail.
        released_by_the_test.append(release.wait(timeout=30))
        engine = load_engine(request)
        engines.append(engine)
        return engine

    app = make_app(tiny_dir, engine_loader=slow_load)
    qtbot.waitUntil(reading.is_set, timeout=10_000)
    assert app.window.close()
    assert not app.window.isVisible()
    assert app.inference.worker_thread.isRunning()  # the load goes on in the background
    release.set()
    qtbot.waitUntil(lambda: not app.inference.worker_thread.isRunning(), timeout=60_000)
    assert released_by_the_test == [True]
    # The model that arrived after closing was thrown away, and the app never took it up.
    assert engines[0].model is None
    assert app.session.model_name is None
    assert load_settings(app.paths.settings_file).last_model is None
