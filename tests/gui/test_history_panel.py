"""The history list model and panel: paging, thumbnails off-thread, search, open, delete."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QMessageBox
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, make_image, wait_for_model
from vldesk.core.history import HistoryStore
from vldesk.core.paths import app_paths
from vldesk.gui.app import DesktopApp
from vldesk.gui.models.history_model import PAGE_SIZE, HistoryListModel, IdRole
from vldesk.gui.widgets.history_panel import HistoryPanel


@pytest.fixture
def store(tmp_path: Path) -> HistoryStore:
    history = HistoryStore(tmp_path / "history.sqlite3")
    yield history  # type: ignore[misc]
    history.close()


def fill(store: HistoryStore, count: int) -> list[int]:
    ids = []
    thumbnail = Image.new("RGB", (64, 48), (10, 120, 200))
    for number in range(count):
        conversation = store.start_conversation(f"/pictures/photo{number}.jpg", thumbnail, "tiny")
        store.add_message(conversation, "user", f"question {number} about boats")
        store.add_message(conversation, "assistant", f"answer {number}")
        ids.append(conversation)
    return ids


def test_model_passes_the_model_tester(
    store: HistoryStore, qtmodeltester: ModelTester, qtbot: QtBot
) -> None:
    fill(store, 3)
    model = HistoryListModel(store.list_conversations)
    model.reload()
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    assert model.wait_for_thumbnails()
    qtbot.waitUntil(
        lambda: isinstance(model.data(model.index(0), Qt.ItemDataRole.DecorationRole), QPixmap),
        timeout=5000,
    )
    qtmodeltester.check(model)


def test_rows_newest_first_with_text_and_ids(store: HistoryStore, qtbot: QtBot) -> None:
    ids = fill(store, 2)
    model = HistoryListModel(store.list_conversations)
    model.reload()
    first = model.index(0)
    assert model.data(first, IdRole) == ids[-1]
    display = model.data(first)
    assert display.startswith("question 1 about boats")
    assert "photo1.jpg" in display
    assert "/pictures/photo1.jpg" in model.data(first, Qt.ItemDataRole.ToolTipRole)
    assert model.data(QModelIndex()) is None
    model.wait_for_thumbnails()


def test_pages_load_as_the_view_scrolls(store: HistoryStore, qtbot: QtBot) -> None:
    fill(store, PAGE_SIZE + 5)
    model = HistoryListModel(store.list_conversations)
    model.reload()
    assert model.rowCount() == PAGE_SIZE
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == PAGE_SIZE + 5
    assert not model.canFetchMore(QModelIndex())
    model.wait_for_thumbnails()


def test_search_keeps_matching_entries(store: HistoryStore, qtbot: QtBot) -> None:
    fill(store, 3)
    model = HistoryListModel(store.list_conversations)
    model.reload("question 2")
    assert model.rowCount() == 1
    model.reload("  ")
    assert model.query is None
    assert model.rowCount() == 3
    model.wait_for_thumbnails()


def test_panel_emits_open_delete_and_export(store: HistoryStore, qtbot: QtBot) -> None:
    ids = fill(store, 3)
    model = HistoryListModel(store.list_conversations)
    model.reload()
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.set_model(model)
    assert not panel.delete_button.isEnabled()
    panel.select_id(ids[0])
    assert panel.selected_ids() == [ids[0]]
    assert panel.open_button.isEnabled()
    with qtbot.waitSignal(panel.open_requested) as opened:
        panel.open_button.click()
    assert opened.args == [ids[0]]
    with qtbot.waitSignal(panel.delete_requested) as deleted:
        panel.delete_button.click()
    assert deleted.args == [[ids[0]]]
    with qtbot.waitSignal(panel.export_requested) as exported:
        panel.export_button.click()
    assert exported.args == [[ids[0]]]
    with qtbot.waitSignal(panel.search_changed, timeout=2000) as searched:
        qtbot.keyClicks(panel.search_edit, "boats")
    assert searched.args == ["boats"]
    model.wait_for_thumbnails()


def test_deleting_from_the_app_removes_the_entry(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    app = fake_app
    wait_for_model(qtbot, app)
    from tests.gui.conftest import open_image, wait_idle

    open_image(qtbot, app, make_image(tmp_path / "a.png"))
    assert app.chat.ask("One?")
    wait_idle(qtbot, app)
    assert app.history.model.rowCount() == 1
    conversation_id = app.history.model.ids()[0]
    app.history.delete_entries([conversation_id], confirm=False)
    assert app.history.model.rowCount() == 0
    assert app.window.history_panel.empty_label.isVisible()
    # The conversation on screen goes on; a follow-up starts a fresh history entry.
    assert app.chat.ask("Two?")
    wait_idle(qtbot, app)
    assert app.history.model.rowCount() == 1
    assert app.history.store is not None
    fresh = app.history.store.get_conversation(app.history.model.ids()[0])
    assert fresh is not None
    assert [m.text for m in fresh.messages if m.role == "user"] == ["Two?"]


class DeleteQuestion:
    """Stands in for ``QMessageBox.question``: records what the app asked, answers ``reply``."""

    def __init__(self, reply: QMessageBox.StandardButton) -> None:
        self.reply = reply
        self.asked: list[str] = []

    def __call__(self, _parent: object, title: str, text: str, *_rest: object) -> object:
        self.asked.append(f"{title}: {text}")
        return self.reply


def app_with_history(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, reply: QMessageBox.StandardButton
) -> tuple[DesktopApp, list[int], DeleteQuestion]:
    """An app (no model) whose history holds three conversations, its panel showing them."""
    with HistoryStore(app_paths().ensure().history_db) as history:
        ids = fill(history, 3)
    question = DeleteQuestion(reply)
    monkeypatch.setattr(QMessageBox, "question", question)
    app = make_app(start=False)
    assert app.history.model.rowCount() == 3
    return app, ids, question


def select_rows(qtbot: QtBot, panel: HistoryPanel, rows: list[int]) -> None:
    """Click the first row, Ctrl+click the others, as a person selects several entries."""
    view = panel.list_view
    for number, row in enumerate(rows):
        index = view.model().index(row, 0)
        modifier = Qt.KeyboardModifier.ControlModifier if number else Qt.KeyboardModifier.NoModifier
        point = view.visualRect(index).center()
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, point)


def test_deleting_history_asks_first_and_a_no_keeps_everything(
    make_app: AppFactory, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, ids, question = app_with_history(make_app, monkeypatch, QMessageBox.StandardButton.No)
    panel = app.window.history_panel
    select_rows(qtbot, panel, [0, 2])
    newest_first = ids[::-1]
    assert panel.selected_ids() == [newest_first[0], newest_first[2]]
    panel.delete_button.click()
    assert question.asked == [
        "Delete from history: Delete 2 conversation(s) from the history? This cannot be undone."
    ]
    assert app.history.model.ids() == newest_first
    assert app.history.store is not None
    assert all(app.history.store.get_conversation(i) is not None for i in ids)


def test_deleting_history_after_a_yes_removes_the_entries(
    make_app: AppFactory, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, ids, question = app_with_history(make_app, monkeypatch, QMessageBox.StandardButton.Yes)
    panel = app.window.history_panel
    newest_first = ids[::-1]
    # One of them is the conversation on screen.
    app.history.open_entry(newest_first[0])
    assert app.session.history_id == newest_first[0]
    select_rows(qtbot, panel, [0, 1])
    panel.delete_button.click()
    assert len(question.asked) == 1
    assert app.history.model.ids() == [newest_first[2]]
    assert app.history.store is not None
    assert app.history.store.get_conversation(newest_first[0]) is None
    assert app.history.store.get_conversation(newest_first[1]) is None
    assert app.history.store.get_conversation(newest_first[2]) is not None
    # What is on screen no longer points at the deleted entry.
    assert app.session.history_id is None
    assert panel.selected_ids() == []
    assert not panel.delete_button.isEnabled()


def test_entry_whose_image_is_gone_shows_the_thumbnail(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    from tests.gui.conftest import open_image, wait_idle

    app = fake_app
    wait_for_model(qtbot, app)
    image = make_image(tmp_path / "gone.png")
    open_image(qtbot, app, image)
    assert app.chat.ask("What is it?")
    wait_idle(qtbot, app)
    conversation_id = app.session.history_id
    assert conversation_id is not None
    image.unlink()
    app.session.new_conversation()
    app.history.open_entry(conversation_id)
    assert app.session.history_id == conversation_id
    assert app.session.image is None
    assert app.window.viewer.has_image  # the stored thumbnail
    assert "no longer available" in app.window.banner.text
    assert [e.question for e in app.window.answer_view.exchanges] == ["What is it?"]
    assert not app.window.prompt_panel.send_button.isEnabled()


def test_entry_whose_image_cannot_be_read_shows_the_thumbnail(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    from tests.gui.conftest import open_image, wait_idle

    app = fake_app
    wait_for_model(qtbot, app)
    image = make_image(tmp_path / "damaged.png")
    open_image(qtbot, app, image)
    assert app.chat.ask("What is it?")
    wait_idle(qtbot, app)
    conversation_id = app.session.history_id
    assert conversation_id is not None
    image.write_bytes(b"\x89PNG damaged since")  # still there, no longer an image
    open_image(qtbot, app, make_image(tmp_path / "other.png"))
    assert app.chat.ask("And this one?")
    wait_idle(qtbot, app)
    app.history.open_entry(conversation_id)
    qtbot.waitUntil(lambda: app.session.history_id == conversation_id, timeout=10_000)
    assert app.session.image is None
    assert app.window.viewer.has_image  # the stored thumbnail
    assert "cannot be opened" in app.window.banner.text
    assert [e.question for e in app.window.answer_view.exchanges] == ["What is it?"]
    assert not app.window.prompt_panel.send_button.isEnabled()
