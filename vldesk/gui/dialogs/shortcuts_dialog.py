"""A list of every keyboard shortcut: the window's actions plus the keys widgets handle."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

#: Qt's key codes: below this, characters; Escape to PageDown (editing and arrows); F1 to F12.
_SPECIAL_KEYS = Qt.Key.Key_Escape.value
_FIRST_EDITING_KEY = Qt.Key.Key_Escape.value
_LAST_EDITING_KEY = Qt.Key.Key_PageDown.value
_F1 = Qt.Key.Key_F1.value
_F12 = Qt.Key.Key_F12.value


def keys(sequence: str) -> str:
    """A key sequence as the platform writes it, in the interface language."""
    return QKeySequence(sequence).toString(QKeySequence.SequenceFormat.NativeText)


def action_label(action: QAction) -> str:
    """Menu text without the mnemonic ampersand and the trailing ellipsis."""
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…. ")


def on_every_keyboard(sequence: QKeySequence) -> bool:
    """Whether each key of ``sequence`` is on an ordinary keyboard. A standard shortcut also
    binds keys only some keyboards have (X11's F18 for Paste, an Exit key for Quit): listing
    them would only puzzle."""
    for index in range(sequence.count()):
        key = sequence[index].key().value  # type: ignore[index]  # (missing from the stubs)
        common = (
            key < _SPECIAL_KEYS
            or _FIRST_EDITING_KEY <= key <= _LAST_EDITING_KEY
            or _F1 <= key <= _F12
        )
        if not common:
            return False
    return sequence.count() > 0


def action_shortcuts(actions: Iterable[QAction]) -> list[tuple[str, str]]:
    """(what, keys) for every action with a shortcut, in the order given, no duplicates; the
    keys as the platform writes them, those of ordinary keyboards only."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for action in actions:
        keys = [
            key.toString(QKeySequence.SequenceFormat.NativeText)
            for key in action.shortcuts()
            if on_every_keyboard(key)
        ]
        label = action_label(action)
        if not keys or not label or label in seen:
            continue
        seen.add(label)
        rows.append((label, ", ".join(keys)))
    return rows


def _tr(text: str) -> str:
    return QCoreApplication.translate("ShortcutsDialog", text)


def folder_panel_rows() -> list[tuple[str, str]]:
    """The keys of the folder panel's list (they act only while the list has the focus)."""

    def there(sequence: str) -> str:
        return _tr("{0} in the folder panel").format(sequence)

    return [
        (_tr("Next or previous image in the folder panel"), f"{keys('Down')}, {keys('Up')}"),
        (_tr("Approve the caption and go to the next"), there(keys("A"))),
        (_tr("Edit the caption"), there(f"{keys('E')}, {keys('F2')}")),
        (_tr("Save the edited caption"), keys("Return")),
        (_tr("Cancel the edit"), keys("Esc")),
        (_tr("Ask again about the image"), there(keys("R"))),
        (_tr("Filter the captions by a word"), there(keys("/"))),
    ]


class ShortcutsDialog(QDialog):
    """A two-column, read-only table: what a key does, and the key."""

    def __init__(self, actions: Iterable[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard Shortcuts"))
        self.setObjectName("shortcutsDialog")
        tr = self.tr
        self.rows = [
            *action_shortcuts(actions),
            (tr("Send the question"), keys("Return")),
            (tr("New line in the question"), keys("Shift+Return")),
            (tr("Stop the answer"), keys("Esc")),
            (tr("Ask with preset 1 to 9"), f"{keys('Alt+1')} … {keys('Alt+9')}"),
            (
                tr("Delete the selected history entries"),
                tr("{0} in the history").format(keys("Del")),
            ),
            *folder_panel_rows(),
            (tr("Move to the next or previous control"), f"{keys('Tab')}, {keys('Shift+Tab')}"),
            (tr("Open a menu"), tr("Alt+underlined letter, or {0}").format(keys("F10"))),
        ]
        intro = QLabel(tr("Everything in vldesk works from the keyboard:"), self)
        self.table = QTableWidget(len(self.rows), 2, self)
        self.table.setHorizontalHeaderLabels([tr("Command"), tr("Keys")])
        self.table.setAccessibleName(tr("Keyboard shortcuts"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        for row, (what, key_text) in enumerate(self.rows):
            self.table.setItem(row, 0, QTableWidgetItem(what))
            self.table.setItem(row, 1, QTableWidgetItem(key_text))
        intro.setBuddy(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(560, 520)
