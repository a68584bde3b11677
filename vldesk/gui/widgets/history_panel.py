"""The history dock: search, a list of past conversations with thumbnails, open/delete/export."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vldesk.gui.models.history_model import ICON_SIZE, IdRole

#: Wait this long after the last keystroke before searching.
SEARCH_DELAY_MS = 250


class HistoryPanel(QWidget):
    """Shows whatever list model it is given; it only emits what the user asked for.

    Signals:
        search_changed(str): the search text, after typing pauses.
        open_requested(int): a conversation id to reopen.
        delete_requested(list): conversation ids to delete.
        export_requested(list): conversation ids to export.
    """

    search_changed = Signal(str)
    open_requested = Signal(int)
    delete_requested = Signal(list)
    export_requested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model: QAbstractItemModel | None = None
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText(self.tr("Search prompts and answers (Ctrl+F)"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName(self.tr("Search history"))
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._emit_search)
        self.search_edit.textChanged.connect(self._search_timer.start)
        self.search_edit.returnPressed.connect(self._emit_search)

        self.list_view = QListView(self)
        self.list_view.setAccessibleName(self.tr("History entries"))
        self.list_view.setIconSize(ICON_SIZE)
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setUniformItemSizes(True)
        self.list_view.setWordWrap(False)
        self.list_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list_view.setAlternatingRowColors(True)
        self.list_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_view.activated.connect(self._open_index)

        self.empty_label = QLabel(self.tr("No conversations yet."), self)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setEnabled(False)

        self.open_button = QPushButton(self.tr("Open"), self)
        self.open_button.setAccessibleName(self.tr("Open the selected conversation"))
        self.open_button.clicked.connect(self._open_current)
        self.delete_button = QPushButton(self.tr("Delete"), self)
        self.delete_button.setToolTip(self.tr("Delete the selected conversations (Del)"))
        self.delete_button.setAccessibleName(self.tr("Delete the selected conversations"))
        self.delete_button.clicked.connect(self._delete_selected)
        self.export_button = QPushButton(self.tr("Export…"), self)
        self.export_button.setToolTip(self.tr("Export the selected conversations"))
        self.export_button.setAccessibleName(self.tr("Export the selected conversations"))
        self.export_button.clicked.connect(self._export_selected)
        delete_shortcut = QShortcut(QKeySequence.StandardKey.Delete, self.list_view)
        delete_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete_shortcut.activated.connect(self._delete_selected)

        # Tab goes through the buttons as they are laid out (created Open, Delete, Export).
        QWidget.setTabOrder(self.list_view, self.open_button)
        QWidget.setTabOrder(self.open_button, self.export_button)
        QWidget.setTabOrder(self.export_button, self.delete_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.list_view, 1)
        layout.addWidget(self.empty_label, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def set_model(self, model: QAbstractItemModel) -> None:
        """Show a list model (see :class:`~vldesk.gui.models.history_model.HistoryListModel`)."""
        self._model = model
        self.list_view.setModel(model)
        self.list_view.selectionModel().selectionChanged.connect(self._update_buttons)
        model.modelReset.connect(self._update_buttons)
        model.rowsInserted.connect(self._update_buttons)
        model.rowsRemoved.connect(self._update_buttons)
        self._update_buttons()

    def selected_ids(self) -> list[int]:
        if self._model is None:
            return []
        selection = self.list_view.selectionModel()
        rows = sorted(selection.selectedRows(), key=lambda index: index.row())
        return [int(index.data(IdRole)) for index in rows]

    def select_id(self, conversation_id: int) -> None:
        model = self._model
        if model is None:
            return
        for row in range(model.rowCount()):
            index = model.index(row, 0)
            if index.data(IdRole) == conversation_id:
                self.list_view.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                )
                return

    def focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def _emit_search(self) -> None:
        self._search_timer.stop()
        self.search_changed.emit(self.search_edit.text())

    def _open_index(self, index: QModelIndex | QPersistentModelIndex) -> None:
        value = index.data(IdRole)
        if value is not None:
            self.open_requested.emit(int(value))

    def _open_current(self) -> None:
        self._open_index(self.list_view.currentIndex())

    def _delete_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.delete_requested.emit(ids)

    def _export_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.export_requested.emit(ids)

    def _update_buttons(self) -> None:
        count = self._model.rowCount() if self._model is not None else 0
        has_selection = bool(self.selected_ids())
        self.open_button.setEnabled(has_selection)
        self.delete_button.setEnabled(has_selection)
        self.export_button.setEnabled(has_selection)
        searching = bool(self.search_edit.text().strip())
        self.empty_label.setText(
            self.tr("Nothing matches this search.")
            if searching
            else self.tr("No conversations yet. Answers are kept here.")
        )
        self.empty_label.setVisible(count == 0)
        self.list_view.setVisible(count > 0)
