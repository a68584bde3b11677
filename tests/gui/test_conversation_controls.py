"""Regenerate, edit and resend, copy one message, the model under each answer, presets that say
what they do, and stopped answers that stay stopped in history and exports."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, make_image, open_image, wait_for_model, wait_idle
from tests.helpers.fake_engine import FakeEngine, FakeEngineLoader
from vldesk.core.generation import Conversation
from vldesk.core.settings import load_settings
from vldesk.gui.app import DesktopApp

MODEL = "fake-qwen3-vl"


class NumberedAnswers:
    """Answers "answer 1", "answer 2"... so a regenerated answer differs from the first."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, conversation: Conversation) -> str:
        self.count += 1
        return f"answer {self.count}"


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine(name=MODEL, answer=NumberedAnswers())


@pytest.fixture
def app(
    make_app: AppFactory, fake_model_dir: Path, engine: FakeEngine, qtbot: QtBot, tmp_path: Path
) -> DesktopApp:
    loader = FakeEngineLoader(make=lambda request: engine)
    built = make_app(fake_model_dir, engine_loader=loader)
    wait_for_model(qtbot, built)
    open_image(qtbot, built, make_image(tmp_path / "photos" / "red.png"))
    return built


def ask(qtbot: QtBot, app: DesktopApp, question: str) -> None:
    assert app.chat.ask(question)
    wait_idle(qtbot, app)


def click_link(app: DesktopApp, target: str) -> None:
    """What clicking (or Enter on) one of the conversation's links does."""
    document = app.window.answer_view.browser.document()
    assert f"vldesk:{target}" in document.toHtml()  # the link is there to be clicked
    app.window.answer_view.browser.anchorClicked.emit(QUrl(f"vldesk:{target}"))


def stored_texts(app: DesktopApp) -> list[str]:
    assert app.history.store is not None
    assert app.session.history_id is not None
    stored = app.history.store.get_conversation(app.session.history_id)
    assert stored is not None
    return [m.text for m in stored.messages]


def shown(app: DesktopApp) -> list[tuple[str, str]]:
    return [(e.question, e.answer) for e in app.window.answer_view.exchanges]


def test_regenerate_replaces_the_last_answer_everywhere(app: DesktopApp, qtbot: QtBot) -> None:
    ask(qtbot, app, "What is it?")
    ask(qtbot, app, "And the colour?")
    assert app.window.regenerate_action.isEnabled()
    click_link(app, "regenerate")
    wait_idle(qtbot, app)
    assert shown(app) == [("What is it?", "answer 1"), ("And the colour?", "answer 3")]
    assert [t.text for t in app.session.conversation.turns] == [
        "What is it?",
        "answer 1",
        "And the colour?",
        "answer 3",
    ]
    # History holds what is shown: the old answer was replaced, the question kept once.
    assert stored_texts(app) == ["What is it?", "answer 1", "And the colour?", "answer 3"]
    # The menu action does the same.
    app.window.regenerate_action.trigger()
    wait_idle(qtbot, app)
    assert stored_texts(app)[-1] == "answer 4"
    assert shown(app)[-1] == ("And the colour?", "answer 4")


def test_edit_and_resend_replaces_the_question_and_what_follows(
    app: DesktopApp, engine: FakeEngine, qtbot: QtBot
) -> None:
    for question in ("First?", "Second?", "Third?"):
        ask(qtbot, app, question)
    click_link(app, "edit/1")
    panel = app.window.prompt_panel
    assert panel.prompt_edit.toPlainText() == "Second?"
    assert panel.editing_label.isVisibleTo(app.window)
    assert "question 2" in panel.editing_label.text()
    panel.prompt_edit.setPlainText("Second, changed?")
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Return)
    wait_idle(qtbot, app)
    assert shown(app) == [("First?", "answer 1"), ("Second, changed?", "answer 4")]
    assert stored_texts(app) == ["First?", "answer 1", "Second, changed?", "answer 4"]
    asked = engine.asked[-1]
    assert [t.text for t in asked.turns] == ["First?", "answer 1", "Second, changed?"]
    assert not panel.editing_label.isVisibleTo(app.window)
    # Changing the first question asks about the image again, as a first question does.
    app.window.edit_question_action.trigger()  # the last question, from the menu
    assert panel.prompt_edit.toPlainText() == "Second, changed?"
    qtbot.mouseClick(panel.cancel_edit_button, Qt.MouseButton.LeftButton)
    assert app.chat.editing is None
    click_link(app, "edit/0")
    panel.prompt_edit.setPlainText("Only this?")
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Return)
    wait_idle(qtbot, app)
    assert shown(app) == [("Only this?", "answer 5")]
    assert stored_texts(app) == ["Only this?", "answer 5"]
    assert engine.asked[-1].turns[0].images  # the image went with it


def test_copy_one_message_and_the_model_under_each_answer(app: DesktopApp, qtbot: QtBot) -> None:
    ask(qtbot, app, "What is it?")
    ask(qtbot, app, "Really?")
    click_link(app, "question/0")
    assert QGuiApplication.clipboard().text() == "What is it?"
    click_link(app, "answer/0")
    assert QGuiApplication.clipboard().text() == "answer 1"
    assert [e.model for e in app.window.answer_view.exchanges] == [MODEL, MODEL]
    text = app.window.answer_view.browser.toPlainText()
    assert text.count(MODEL) == 2
    # Reopened from history, each answer still names its model.
    assert app.session.history_id is not None
    app.history.open_entry(app.session.history_id)
    qtbot.waitUntil(lambda: len(app.window.answer_view.exchanges) == 2, timeout=10_000)
    assert [e.model for e in app.window.answer_view.exchanges] == [MODEL, MODEL]


def test_stopped_answer_stays_stopped_in_history_and_exports(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    release = threading.Event()

    def slow_after_the_first_word(index: int) -> None:
        if index:
            release.wait(10)

    engine = FakeEngine(
        name=MODEL, answer="one two three four", before_word=slow_after_the_first_word
    )
    app = make_app(fake_model_dir, engine_loader=FakeEngineLoader(make=lambda request: engine))
    wait_for_model(qtbot, app)
    image = make_image(tmp_path / "a.png")
    open_image(qtbot, app, image)
    assert app.chat.ask("Count.")
    qtbot.waitUntil(lambda: "one" in app.window.answer_view.current_answer(), timeout=10_000)
    app.session.stop()
    release.set()
    wait_idle(qtbot, app)
    assert "(stopped)" in app.window.answer_view.browser.toPlainText()
    conversation_id = app.session.history_id
    assert conversation_id is not None
    # Exported from the window and from history, the answer is marked stopped.
    assert app.history.export_conversation(tmp_path / "window.md")
    assert "**Answer (stopped):**" in (tmp_path / "window.md").read_text(encoding="utf-8")
    assert app.history.export_history([conversation_id], tmp_path / "history.txt")
    assert "Answer (stopped):\none" in (tmp_path / "history.txt").read_text(encoding="utf-8")
    # Reopened, it still says so.
    open_image(qtbot, app, make_image(tmp_path / "b.png"))
    assert "(stopped)" not in app.window.answer_view.browser.toPlainText()
    app.history.open_entry(conversation_id)
    qtbot.waitUntil(lambda: app.session.history_id == conversation_id, timeout=10_000)
    assert [e.note for e in app.window.answer_view.exchanges] == ["stopped"]
    assert "(stopped)" in app.window.answer_view.browser.toPlainText()


def test_presets_say_whether_they_continue_or_start_afresh(app: DesktopApp, qtbot: QtBot) -> None:
    panel = app.window.prompt_panel
    button = panel.preset_button("brief")
    assert "Starts a conversation about this image." in button.toolTip()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, app)
    assert "Continues this conversation." in button.toolTip()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # continues: one entry, two questions
    wait_idle(qtbot, app)
    assert len(app.window.answer_view.exchanges) == 2
    first_entry = app.session.history_id

    panel.fresh_presets_check.setChecked(True)
    assert "Starts a new conversation about this image." in button.toolTip()
    assert load_settings(app.paths.settings_file).presets_start_fresh
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, app)
    assert len(app.window.answer_view.exchanges) == 1
    assert app.session.history_id != first_entry
    assert app.history.model.rowCount() == 2


def test_reopening_another_conversation_ends_the_edit(
    app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    ask(qtbot, app, "B first?")
    ask(qtbot, app, "B second?")
    entry_b = app.session.history_id
    assert entry_b is not None
    open_image(qtbot, app, make_image(tmp_path / "a.png"))
    ask(qtbot, app, "A first?")
    ask(qtbot, app, "A second?")
    click_link(app, "edit/1")
    panel = app.window.prompt_panel
    assert panel.editing_label.isVisibleTo(app.window)
    app.history.open_entry(entry_b)
    qtbot.waitUntil(lambda: app.session.history_id == entry_b, timeout=10_000)
    assert app.chat.editing is None
    assert not panel.editing_label.isVisibleTo(app.window)
    # Send now asks a follow-up: B's questions stay.
    panel.prompt_edit.setPlainText("B third?")
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Return)
    wait_idle(qtbot, app)
    assert stored_texts(app)[:4] == ["B first?", "answer 1", "B second?", "answer 2"]
    assert [e.question for e in app.window.answer_view.exchanges] == [
        "B first?",
        "B second?",
        "B third?",
    ]


def test_reopened_boxes_use_the_budget_the_answer_was_made_with(
    app: DesktopApp, qtbot: QtBot
) -> None:
    app.preferences.remember(max_image_tokens=512)
    ask(qtbot, app, "Where is it?")
    app.preferences.remember(max_image_tokens=256)
    click_link(app, "regenerate")  # the question stays stored with 512
    wait_idle(qtbot, app)
    assert app.session.last_asked is not None
    assert app.session.last_asked.max_image_tokens == 256
    conversation_id = app.session.history_id
    assert conversation_id is not None
    app.session.new_conversation()
    app.history.open_entry(conversation_id)
    qtbot.waitUntil(lambda: app.session.history_id == conversation_id, timeout=10_000)
    assert app.session.last_asked is not None
    assert app.session.last_asked.max_image_tokens == 256


def test_edit_links_skip_an_answer_broken_off_by_an_error(
    app: DesktopApp, engine: FakeEngine, qtbot: QtBot
) -> None:
    from vldesk.core.errors import GenerationError

    ask(qtbot, app, "First?")
    breaking = {"on": True}

    def break_after_the_first_word(index: int) -> None:
        if index and breaking["on"]:
            raise GenerationError("The server went away.")

    engine.answer = "one two three"
    engine.before_word = break_after_the_first_word
    assert app.chat.ask("Broken?")
    wait_idle(qtbot, app)
    breaking["on"] = False
    assert [e.question for e in app.window.answer_view.exchanges] == ["First?", "Broken?"]
    html = app.window.answer_view.browser.document().toHtml()
    assert "vldesk:edit/1" not in html  # no Edit on the broken-off exchange...
    assert "vldesk:regenerate" not in html  # ...nor Regenerate (its question is not asked)
    ask(qtbot, app, "Third?")
    assert app.session.questions() == ["First?", "Third?"]
    click_link(app, "edit/1")  # the third exchange on screen is the session's second
    assert app.window.prompt_panel.prompt_edit.toPlainText() == "Third?"
    app.window.prompt_panel.prompt_edit.setPlainText("Third, changed?")
    qtbot.keyClick(app.window.prompt_panel.prompt_edit, Qt.Key.Key_Return)
    wait_idle(qtbot, app)
    assert [e.question for e in app.window.answer_view.exchanges] == [
        "First?",
        "Third, changed?",
    ]
