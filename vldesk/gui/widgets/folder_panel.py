"""The folder panel: a folder's images with their captions, filters, approve, edit, ask again."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vldesk.core.captions import CaptionFilter
from vldesk.gui.models.caption_model import CaptionListModel
from vldesk.gui.widgets.caption_delegate import CaptionDelegate

#: Wait this long after the last keystroke before filtering by the word.
WORD_DELAY_MS = 200
#: Keys of the list (they act only while the list has the focus, so typing is never taken).
APPROVE_KEY = "A"
EDIT_KEYS = ("E", "F2")
ASK_AGAIN_KEY = "R"
FIND_WORD_KEY = "/"


class FolderPanel(QWidget):
    """Shows a :class:`CaptionListModel`; emits what the user asked for.

    Signals:
        current_changed(int): the selected row (-1: none).
        filter_changed(CaptionFilter, str): the filter and the word to look for.
        approve_requested(): approve the selected caption and go to the next.
        ask_again_requested(): open the selected image as a conversation.
        open_requested(): choose a folder.
    """

    current_changed = Signal(int)
    filter_changed = Signal(object, str)
    approve_requested = Signal()
    ask_again_requested = Signal()
    open_requested = Signal()

    def __init__(self, model: CaptionListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        tr = self.tr
        self.model = model
        self.heading = QLabel(tr("No folder is open."), self)
        self.heading.setWordWrap(True)
        self.open_button = QPushButton(tr("Open Folder…"), self)
        self.filter_combo = QComboBox(self)
        self.filter_combo.setAccessibleName(tr("Show"))
        for text, kind in (
            (tr("All images"), CaptionFilter.ALL),
            (tr("No caption"), CaptionFilter.NO_CAPTION),
            (tr("Failed"), CaptionFilter.FAILED),
            (tr("Not reviewed"), CaptionFilter.NOT_REVIEWED),
        ):
            self.filter_combo.addItem(text, kind)
        self.word_edit = QLineEdit(self)
        self.word_edit.setPlaceholderText(tr("Contains… (/)"))
        self.word_edit.setClearButtonEnabled(True)
        self.word_edit.setAccessibleName(tr("Captions containing"))
        self._word_timer = QTimer(self)
        self._word_timer.setSingleShot(True)
        self._word_timer.setInterval(WORD_DELAY_MS)
        self._word_timer.timeout.connect(self._emit_filter)
        self.word_edit.textChanged.connect(self._word_timer.start)
        self.word_edit.returnPressed.connect(self._emit_filter)
        self.filter_combo.currentIndexChanged.connect(self._emit_filter)

        self.list_view = QListView(self)
        self.list_view.setModel(model)
        self.list_view.setItemDelegate(CaptionDelegate(self.list_view))
        self.list_view.setUniformItemSizes(True)
        self.list_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list_view.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.DoubleClicked
        )
        self.list_view.setAccessibleName(tr("Images and captions"))
        self.list_view.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.current_changed.emit(current.row())
        )
        model.modelReset.connect(self._on_reset)

        self.approve_button = QPushButton(tr("Approve"), self)
        self.approve_button.setToolTip(
            tr("Mark the caption as reviewed and go to the next ({0})").format(APPROVE_KEY)
        )
        self.edit_button = QPushButton(tr("Edit"), self)
        self.edit_button.setToolTip(
            tr("Edit the caption; Enter saves, Esc cancels ({0})").format(EDIT_KEYS[0])
        )
        self.ask_button = QPushButton(tr("Ask Again"), self)
        self.ask_button.setToolTip(
            tr("Open the image as a conversation ({0})").format(ASK_AGAIN_KEY)
        )
        self.approve_button.clicked.connect(self.approve_requested)
        self.edit_button.clicked.connect(self.edit_current)
        self.ask_button.clicked.connect(self.ask_again_requested)
        self.open_button.clicked.connect(self.open_requested)

        self.approve_action = self._key_action(tr("Approve the caption"), [APPROVE_KEY])
        self.approve_action.triggered.connect(self.approve_requested)
        self.edit_action = self._key_action(tr("Edit the caption"), list(EDIT_KEYS))
        self.edit_action.triggered.connect(self.edit_current)
        self.ask_action = self._key_action(tr("Ask again about the image"), [ASK_AGAIN_KEY])
        self.ask_action.triggered.connect(self.ask_again_requested)
        self.find_action = self._key_action(tr("Filter by a word"), [FIND_WORD_KEY])
        self.find_action.triggered.connect(self.word_edit.setFocus)

        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.open_button)
        filters = QHBoxLayout()
        filters.addWidget(self.filter_combo)
        filters.addWidget(self.word_edit, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.approve_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.ask_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.list_view, 1)
        layout.addLayout(buttons)
        self.setFocusProxy(self.list_view)
        self._update_buttons()

    def _key_action(self, text: str, keys: list[str]) -> QAction:
        """A key that acts while the list (not its inline editor) has the focus."""
        action = QAction(text, self.list_view)
        action.setShortcuts([QKeySequence(key) for key in keys])
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.list_view.addAction(action)
        return action

    def _emit_filter(self) -> None:
        self._word_timer.stop()
        kind = self.filter_combo.currentData()
        self.filter_changed.emit(CaptionFilter(kind), self.word_edit.text().strip())

    def _on_reset(self) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_rows = self.model.rowCount() > 0
        for widget in (self.approve_button, self.edit_button, self.ask_button):
            widget.setEnabled(has_rows)

    def set_heading(self, text: str) -> None:
        self.heading.setText(text)
        self._update_buttons()

    def current_row(self) -> int:
        return self.list_view.currentIndex().row()

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        if index.isValid():
            self.list_view.setCurrentIndex(index)
            self.list_view.scrollTo(index)

    def edit_current(self) -> None:
        index: QModelIndex = self.list_view.currentIndex()
        if index.isValid():
            self.list_view.setFocus()
            self.list_view.edit(index)
