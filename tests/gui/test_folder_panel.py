"""The folder panel by keyboard: edit, approve and filter, checked on disk (exiftool reads the
XMP back); a folder batch as one history entry that opens the folder in the panel."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QPlainTextEdit
from pytestqt.qtbot import QtBot

from tests.core.metadata.conftest import ExifTool, exiftool
from tests.gui.conftest import make_image
from vldesk.core.batch import BatchOptions
from vldesk.core.batch.journal import BatchJob
from vldesk.core.batch.records import ImageResult
from vldesk.core.captions import CaptionFilter
from vldesk.gui.app import DesktopApp
from vldesk.gui.controllers.batch import BatchPlan
from vldesk.gui.dialogs.shortcuts_dialog import ShortcutsDialog
from vldesk.gui.workers import folder_reader
from vldesk.gui.workers.folder_reader import file_thumbnail

__all__ = ["exiftool"]  # the fixture, shared with tests/core/metadata

CAPTIONS = {
    "a.png": "A harbour at dusk.",
    "b.png": "A cat asleep on a chair.",
    "c.png": "Three boats in a harbour.",
}


def make_folder(folder: Path) -> Path:
    for index, name in enumerate(["a.png", "b.png", "c.png", "d.png"]):
        make_image(folder / name, (120 + 10 * index, 90))
    for name, caption in CAPTIONS.items():
        (folder / name).with_suffix(".txt").write_text(caption + "\n", encoding="utf-8")
    # The folder's batch job failed d.png: the panel reads that from the job's journal.
    with BatchJob.create(BatchOptions(folder, "Describe this image.", "fake")) as job:
        job.record_results(ImageResult.failure("d.png", "The model gave an empty answer."))
    return folder


def open_in_panel(qtbot: QtBot, app: DesktopApp, folder: Path) -> None:
    app.open_paths([str(folder)])  # what `vldesk FOLDER` runs
    qtbot.waitUntil(lambda: app.folder.model.rowCount() == 4, timeout=10_000)
    qtbot.waitUntil(lambda: app.folder.panel.current_row() == 0, timeout=10_000)


def shown_names(app: DesktopApp) -> list[str]:
    return [path.name for path in app.folder.model.paths()]


def test_edit_approve_and_filter_by_keyboard(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path, exiftool: ExifTool
) -> None:
    app = fake_app
    folder = make_folder(tmp_path / "photos")
    open_in_panel(qtbot, app, folder)
    panel = app.folder.panel
    view = panel.list_view
    assert app.window.folder_dock.isVisible()
    # Each row: the image and its caption beside it, or "none".
    model = app.folder.model
    assert [model.index(row).data() for row in range(4)] == [*CAPTIONS.values(), "none"]
    view.setFocus()

    # A: approve a.png, and the next row (b.png) is selected and shown in the viewer.
    qtbot.keyClick(view, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: panel.current_row() == 1)
    qtbot.waitUntil(lambda: app.window.windowTitle().startswith("b.png"), timeout=10_000)
    tags = exiftool(folder / "a.png.xmp")
    assert tags["XMP-vldesk:Reviewed"] is True
    assert tags["XMP-dc:Description"] == CAPTIONS["a.png"]
    assert tags["XMP-vldesk:ModelText"] == CAPTIONS["a.png"]
    assert (folder / "a.txt").read_text(encoding="utf-8") == CAPTIONS["a.png"] + "\n"

    # E: edit b.png in place; Enter saves. The model's words stay in the XMP.
    qtbot.keyClick(view, Qt.Key.Key_E)
    editor = view.findChild(QPlainTextEdit)
    assert editor is not None
    assert editor.toPlainText() == CAPTIONS["b.png"]
    editor.selectAll()
    qtbot.keyClicks(editor, "A grey cat asleep on a red chair.")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    expected = "A grey cat asleep on a red chair."
    qtbot.waitUntil(lambda: (folder / "b.txt").read_text(encoding="utf-8") == expected + "\n")
    tags = exiftool(folder / "b.png.xmp")
    assert tags["XMP-vldesk:Reviewed"] is True
    assert tags["XMP-dc:Description"] == expected
    assert tags["XMP-vldesk:ModelText"] == CAPTIONS["b.png"]
    assert model.index(1).data() == expected
    assert not list(folder.glob(".*.tmp"))  # nothing half-written

    # Filters: not reviewed, no caption, failed, a word (typed after "/").
    combo = panel.filter_combo
    combo.setCurrentIndex(combo.findData(CaptionFilter.NOT_REVIEWED))
    assert shown_names(app) == ["c.png"]
    combo.setCurrentIndex(combo.findData(CaptionFilter.NO_CAPTION))
    assert shown_names(app) == ["d.png"]
    combo.setCurrentIndex(combo.findData(CaptionFilter.FAILED))
    assert shown_names(app) == ["d.png"]
    assert "empty answer" in str(model.index(0).data(Qt.ItemDataRole.ToolTipRole))
    combo.setCurrentIndex(combo.findData(CaptionFilter.ALL))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Slash)
    assert panel.word_edit.hasFocus()
    qtbot.keyClicks(panel.word_edit, "HARBOUR")
    qtbot.keyClick(panel.word_edit, Qt.Key.Key_Return)
    assert shown_names(app) == ["a.png", "c.png"]
    assert "2 of 4" in panel.heading.text()

    # The review state is read back from the sidecars when the folder opens again.
    panel.word_edit.clear()
    qtbot.keyClick(panel.word_edit, Qt.Key.Key_Return)
    app.folder.refresh()
    qtbot.waitUntil(lambda: model.rowCount() == 4 and model.entry(0) is not None)
    combo.setCurrentIndex(combo.findData(CaptionFilter.NOT_REVIEWED))
    assert shown_names(app) == ["c.png"]


def test_ask_again_opens_the_image_as_a_conversation(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    app = fake_app
    folder = make_folder(tmp_path / "photos")
    open_in_panel(qtbot, app, folder)
    view = app.folder.panel.list_view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Down)
    qtbot.waitUntil(
        lambda: app.session.image is not None and app.session.image.path.name == "b.png"
    )
    qtbot.keyClick(view, Qt.Key.Key_R)
    prompt = app.window.prompt_panel.prompt_edit
    assert prompt.hasFocus()
    assert prompt.toPlainText() == "Describe this image."  # the folder's batch prompt
    assert app.chat.ask(prompt.toPlainText())
    qtbot.waitUntil(lambda: not app.session.busy, timeout=10_000)
    assert "A red square." in app.window.answer_view.browser.toPlainText()


def test_a_batch_is_one_history_entry_that_opens_its_folder(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    app = fake_app
    folder = tmp_path / "shots"
    for name in ("one.png", "two.png", "three.png"):
        make_image(folder / name)
    assert app.batch.start(BatchPlan(BatchOptions(folder, "Describe this image.", "fake")))
    qtbot.waitUntil(lambda: not app.batch.running, timeout=30_000)
    assert app.batch.summary is not None
    assert app.batch.summary.captioned == 3
    history = app.history.model
    qtbot.waitUntil(lambda: history.rowCount() == 1)
    [entry] = app.history.store.list_conversations(limit=10)  # type: ignore[union-attr]
    assert entry.image_path == str(folder)
    app.history.open_entry(entry.id)
    qtbot.waitUntil(lambda: app.folder.model.rowCount() == 3, timeout=10_000)
    assert app.window.folder_dock.isVisible()
    assert app.folder.folder == folder
    captions = [app.folder.model.index(row).data() for row in range(3)]
    assert captions == ["A red square."] * 3


def test_f1_lists_the_folder_panel_keys(fake_app: DesktopApp) -> None:
    window = fake_app.window
    dialog = ShortcutsDialog(window.actions(), window)
    rows = dict(dialog.rows)
    assert rows["Approve the caption and go to the next"] == "A in the folder panel"
    assert rows["Edit the caption"] == "E, F2 in the folder panel"
    assert rows["Ask again about the image"] == "R in the folder panel"
    assert rows["Open Folder"] == "Ctrl+Shift+O"
    assert rows["Folder Panel"] == "Ctrl+Shift+F"
    dialog.deleteLater()


def test_thumbnails_are_made_in_the_background_even_across_a_refresh(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = fake_app
    folder = make_folder(tmp_path / "photos")
    (folder / "e.png").write_bytes(b"")  # no picture: an empty box, asked for once
    # Thumbnails wait until the folder has been read again (a batch ending meanwhile).
    release = threading.Event()
    threads: list[threading.Thread] = []

    def slow_thumbnail(path: Path, side: int) -> QImage:
        threads.append(threading.current_thread())
        release.wait(10)
        return file_thumbnail(path, side)

    monkeypatch.setattr(folder_reader, "file_thumbnail", slow_thumbnail)
    app.open_paths([str(folder)])
    model = app.folder.model
    qtbot.waitUntil(lambda: model.rowCount() == 5, timeout=10_000)

    def thumbnails() -> list[QPixmap | None]:
        return [model.index(row).data(Qt.ItemDataRole.DecorationRole) for row in range(5)]

    thumbnails()  # what painting the rows does; the thumbnails are asked for together
    qtbot.waitUntil(lambda: bool(threads))
    first_read = model.folder
    app.folder.refresh()  # cancels the thumbnails under way: they are asked for again
    qtbot.waitUntil(lambda: model.folder is not first_read, timeout=10_000)
    release.set()
    qtbot.waitUntil(lambda: None not in thumbnails(), timeout=10_000)
    made = thumbnails()
    assert all(isinstance(p, QPixmap) and not p.isNull() for p in made[:4])
    assert made[4] is not None
    assert made[4].isNull()
    assert max(made[0].width(), made[0].height()) == 72
    assert threading.main_thread() not in threads
