"""Tab order as laid out, the shortcut list in every keyboard's keys, file dialogs that start in
the right folder, and folders shown even without a file manager."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, make_image, open_image, shown_dialogs, wait_idle
from vldesk.gui.app import DesktopApp
from vldesk.gui.dialogs.folder_reveal import FolderPathMessage
from vldesk.gui.dialogs.shortcuts_dialog import ShortcutsDialog, action_shortcuts
from vldesk.gui.widgets.history_panel import HistoryPanel


def native(sequence: str) -> str:
    return QKeySequence(sequence).toString(QKeySequence.SequenceFormat.NativeText)


def test_history_buttons_tab_in_the_order_they_appear(qtbot: QtBot) -> None:
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    order: list[QWidget] = [panel.open_button]
    while len(order) < 3:
        order.append(order[-1].nextInFocusChain())
    assert order == [panel.open_button, panel.export_button, panel.delete_button]
    # Laid out the same way, left to right.
    panel.show()
    xs = [button.x() for button in order]
    assert xs == sorted(xs)


def test_shortcut_list_names_only_keys_every_keyboard_has(
    fake_app: DesktopApp, qtbot: QtBot
) -> None:
    # What X11 binds to the standard Paste and Quit: a special key and an F-key beyond F12.
    paste = QAction("&Paste Image")
    paste.setShortcuts([QKeySequence("Ctrl+V"), QKeySequence("F18"), QKeySequence("Paste")])
    quit_ = QAction("&Quit")
    quit_.setShortcuts([QKeySequence("Ctrl+Q"), QKeySequence(QKeySequence.StandardKey.Quit)])
    exit_only = QAction("Exit key")
    exit_only.setShortcuts([QKeySequence("Exit")])
    assert action_shortcuts([paste, quit_, exit_only]) == [
        ("Paste Image", native("Ctrl+V")),
        ("Quit", native("Ctrl+Q")),
    ]
    fake_app.window.shortcuts_action.trigger()
    dialog = shown_dialogs(fake_app, ShortcutsDialog)[0]
    rows = dict(dialog.rows)
    assert rows["Paste Image"].split(", ")[0] == native("Ctrl+V")
    everything = " ".join(rows.values())
    for odd in ("F18", "Paste", "Exit", "Open,", "Find"):
        assert odd not in everything


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of its own, with a Pictures and a Documents folder."""
    folder = tmp_path / "home"
    for name in ("Pictures", "Documents"):
        (folder / name).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder / ".config"))
    return folder


class DialogSpy:
    """Stands in for the platform's file dialogs (the edge), recording where they start."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.starts: list[str] = []
        monkeypatch.setattr(QFileDialog, "getOpenFileNames", self._record)
        monkeypatch.setattr(QFileDialog, "getSaveFileName", self._record_save)

    def _record(self, _parent: Any, _title: str, start: str, _filter: str) -> tuple[list[str], str]:
        self.starts.append(start)
        return [], ""

    def _record_save(self, _parent: Any, _title: str, start: str, _filter: str) -> tuple[str, str]:
        self.starts.append(start)
        return "", ""


def test_open_starts_in_pictures_then_in_the_last_folder(
    make_app: AppFactory,
    fake_app: DesktopApp,
    home: Path,
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spy = DialogSpy(monkeypatch)
    fresh = make_app(start=False)
    fresh.window.open_action.trigger()
    # The folder itself: the name box stays empty (a missing folder would be typed there).
    assert spy.starts == [str(home / "Pictures")]

    image = make_image(tmp_path / "holiday" / "beach.png")
    open_image(qtbot, fake_app, image)
    fake_app.window.open_action.trigger()
    assert spy.starts[-1] == str(image.parent)
    # The next start remembers it (the recent files).
    again = make_app(start=False, recent_files=(str(image),))
    again.window.open_action.trigger()
    assert spy.starts[-1] == str(image.parent)


def test_open_starts_at_home_without_a_pictures_folder(
    make_app: AppFactory, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (home / "Pictures").rmdir()
    spy = DialogSpy(monkeypatch)
    make_app(start=False).window.open_action.trigger()
    assert spy.starts == [str(home)]


def test_export_starts_in_the_images_folder(
    fake_app: DesktopApp, home: Path, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = DialogSpy(monkeypatch)
    image = make_image(tmp_path / "scans" / "invoice.png")
    open_image(qtbot, fake_app, image)
    assert fake_app.chat.ask("What is it?")
    wait_idle(qtbot, fake_app)
    fake_app.window.export_conversation_action.trigger()
    fake_app.window.export_answer_action.trigger()
    assert spy.starts == [str(image.parent / "invoice.md")] * 2
    fake_app.window.export_history_action.trigger()  # no one image: Documents
    assert spy.starts[-1] == str(home / "Documents" / "vldesk-history.md")


def test_open_data_folder_without_a_file_manager_shows_the_path(
    fake_app: DesktopApp, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[QUrl] = []

    def no_file_manager(url: QUrl) -> bool:
        opened.append(url)
        return False

    monkeypatch.setattr(QDesktopServices, "openUrl", no_file_manager)
    fake_app.window.open_data_folder_action.trigger()
    assert opened == [QUrl.fromLocalFile(str(fake_app.paths.data_dir))]
    message = shown_dialogs(fake_app, FolderPathMessage)[0]
    assert str(fake_app.paths.data_dir) in message.informativeText()
    message.copy_button.click()
    assert QGuiApplication.clipboard().text() == str(fake_app.paths.data_dir)

    fake_app.window.open_log_folder_action.trigger()
    assert any(
        str(fake_app.paths.log_dir) in m.informativeText()
        for m in shown_dialogs(fake_app, FolderPathMessage)
    )


def test_open_data_folder_with_a_file_manager_shows_no_message(
    fake_app: DesktopApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: True)
    fake_app.window.open_data_folder_action.trigger()
    assert shown_dialogs(fake_app, FolderPathMessage) == []


def test_no_two_actions_share_a_shortcut(fake_app: DesktopApp) -> None:
    # Features added side by side once both took Ctrl+Shift+R; Qt then fires neither.
    owners: dict[str, list[str]] = {}
    for action in fake_app.window.findChildren(QAction):
        for sequence in action.shortcuts():
            key = sequence.toString(QKeySequence.SequenceFormat.PortableText)
            if key:
                owners.setdefault(key, []).append(action.text().replace("&", ""))
    shared = {key: names for key, names in owners.items() if len(set(names)) > 1}
    assert not shared
