"""Past conversations: the history list, reopening one, deleting, exporting and copying."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from vldesk.core.errors import VldeskError
from vldesk.core.export import ExportEntry, export_entries, render_markdown
from vldesk.core.history import ConversationSummary, HistoryStore, StoredConversation
from vldesk.gui.asked_about import last_answer_asked, stored_regions
from vldesk.gui.controllers.chat import ChatController, stop_note
from vldesk.gui.controllers.images import ImageController
from vldesk.gui.exporting import (
    ask_export_path,
    conversation_entry,
    export_folder,
    export_stem,
)
from vldesk.gui.i18n import error_text
from vldesk.gui.main_window import MainWindow
from vldesk.gui.models.history_model import HistoryListModel
from vldesk.gui.session import ChatSession, SessionImage, exchanges_of
from vldesk.gui.widgets.answer_view import Exchange
from vldesk.gui.widgets.message_banner import Level


def _tr(text: str) -> str:
    return QCoreApplication.translate("DesktopApp", text)


class HistoryController(QObject):
    """The history panel's list and what its entries and the export actions do.

    ``store`` is ``None`` when the history database could not be opened: the list is empty.

    Signals:
        folder_requested(Path): an entry of a folder batch was opened (the folder panel shows it).
    """

    folder_requested = Signal(Path)

    def __init__(
        self,
        store: HistoryStore | None,
        session: ChatSession,
        chat: ChatController,
        images: ImageController,
        window: MainWindow,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self._session = session
        self._chat = chat
        self._images = images
        self._window = window
        self.model = HistoryListModel(self._page, parent=self)
        w = window
        panel = w.history_panel
        panel.set_model(self.model)
        panel.search_changed.connect(self.model.reload)
        panel.open_requested.connect(self.open_entry)
        panel.delete_requested.connect(self.delete_entries)
        panel.export_requested.connect(lambda ids: self.export_history(ids))
        session.history_changed.connect(self.refresh)
        w.search_history_action.triggered.connect(self._focus_search)
        w.export_answer_action.triggered.connect(lambda: self.export_answer())
        w.export_conversation_action.triggered.connect(lambda: self.export_conversation())
        w.export_history_action.triggered.connect(lambda: self.export_history())
        w.copy_conversation_action.triggered.connect(self.copy_conversation)

    def _page(self, limit: int, offset: int, query: str | None) -> list[ConversationSummary]:
        if self.store is None:
            return []
        try:
            return self.store.list_conversations(limit, offset, query)
        except VldeskError as exc:
            self._window.show_message(error_text(exc), Level.WARNING)
            return []

    def refresh(self) -> None:
        """Reload the list and keep the conversation on screen selected in it."""
        self.model.refresh()
        if self._session.history_id is not None:
            self._window.history_panel.select_id(self._session.history_id)

    def _focus_search(self) -> None:
        self._window.history_dock.show()
        self._window.history_dock.raise_()
        self._window.history_panel.focus_search()

    @Slot(int)
    def open_entry(self, conversation_id: int) -> None:
        """Show a past conversation with its image; follow-up questions continue it."""
        if self.store is None:
            return
        try:
            stored = self.store.get_conversation(conversation_id)
        except VldeskError as exc:
            self._window.show_message(error_text(exc))
            return
        if stored is None:
            self.model.refresh()
            return
        path = Path(stored.image_path) if stored.image_path else None
        if path is not None and path.is_dir():  # a folder batch: reviewed in the folder panel
            self.folder_requested.emit(path)
            return
        if path is not None and path.is_file():
            self._images.open_for(
                path,
                lambda image: self._apply_restore(image, stored),
                lambda why: self._restore_without_image(
                    stored,
                    path,
                    _tr(
                        "The image of this conversation cannot be opened, so follow-up "
                        "questions are not possible. {0}"
                    ).format(why),
                ),
            )
            return
        self._restore_without_image(
            stored,
            path,
            _tr(
                "The image of this conversation is no longer available, so follow-up "
                "questions are not possible."
            ),
        )

    def _restore_without_image(
        self, stored: StoredConversation, path: Path | None, why: str
    ) -> None:
        """The image is gone, was pasted or cannot be read: show the conversation with its
        stored thumbnail, and ``why`` follow-up questions are not possible."""
        self._images.show_stored(
            stored.thumbnail,
            _tr("{0} (only a thumbnail is kept)").format(
                path.name if path else _tr("pasted image")
            ),
        )
        self._apply_restore(None, stored)
        self._window.show_message(why, Level.INFO)
        self._chat.update_can_ask()

    def _apply_restore(self, image: SessionImage | None, stored: StoredConversation) -> None:
        regions = stored_regions(stored.messages)
        answered = last_answer_asked(stored.messages)
        self._session.restore(image, stored.messages, stored.id, regions, answered)
        system = next((m.text for m in stored.messages if m.role == "system"), None)
        if system is not None:
            self._window.prompt_panel.set_system_prompt(system)
        # What the session continues is what is shown (a question that never got an answer
        # is in neither), each answer with its model and how it ended.
        exchanges = [
            Exchange(question, answer, stop_note(record.stop_reason), record.model)
            for question, answer, record in exchanges_of(self._session)
        ]
        self._window.answer_view.set_exchanges(exchanges)
        self._window.status_panel.set_generation(None, None, None)  # another conversation's
        self._window.history_panel.select_id(stored.id)
        self._chat.update_actions()

    @Slot(list)
    def delete_entries(self, ids: list[int], *, confirm: bool = True) -> None:
        if self.store is None or not ids:
            return
        if confirm:
            answer = QMessageBox.question(
                self._window,
                _tr("Delete from history"),
                _tr("Delete {0} conversation(s) from the history? This cannot be undone.").format(
                    len(ids)
                ),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        try:
            for conversation_id in ids:
                self.store.delete_conversation(conversation_id)
        except VldeskError as exc:
            self._window.show_message(error_text(exc))
        if self._session.history_id in ids:
            self._session.history_id = None
        self.model.refresh()

    # -- export and copy ---------------------------------------------------------------------

    def _write_export(self, entries: list[ExportEntry], path: Path) -> bool:
        try:
            export_entries(entries, path)
        except VldeskError as exc:
            self._window.show_message(error_text(exc))
            return False
        self._window.statusBar().showMessage(_tr("Saved {0}.").format(path), 5000)
        return True

    def export_answer(self, path: Path | None = None) -> bool:
        session = self._session
        entry = conversation_entry(session, self._chat.generation_settings(), last_only=True)
        if entry is None:
            return False
        path = path or ask_export_path(
            self._window, _tr("Export Answer"), export_stem(session), export_folder(session)
        )
        return path is not None and self._write_export([entry], path)

    def export_conversation(self, path: Path | None = None) -> bool:
        entry = conversation_entry(self._session, self._chat.generation_settings())
        if entry is None:
            return False
        path = path or ask_export_path(
            self._window,
            _tr("Export Conversation"),
            export_stem(self._session),
            export_folder(self._session),
        )
        return path is not None and self._write_export([entry], path)

    def export_history(self, ids: list[int] | None = None, path: Path | None = None) -> bool:
        """Export the given history entries (default: all of them) to one file."""
        if self.store is None:
            return False
        try:
            if ids is None:
                count = self.store.count_conversations()
                ids = [c.id for c in self.store.list_conversations(limit=count)]
            entries = self.store.export_entries(ids)
        except VldeskError as exc:
            self._window.show_message(error_text(exc))
            return False
        if not entries:
            self._window.show_message(_tr("There is nothing in the history to export."), Level.INFO)
            return False
        path = path or ask_export_path(self._window, _tr("Export History"), "vldesk-history")
        return path is not None and self._write_export(entries, path)

    def copy_conversation(self) -> None:
        entry = conversation_entry(self._session, self._chat.generation_settings())
        if entry is not None:
            QGuiApplication.clipboard().setText(render_markdown([entry]))
            self._window.statusBar().showMessage(_tr("Copied to the clipboard."), 3000)

    def close(self) -> None:
        self.model.stop_thumbnails()
        if self.store is not None:
            self.store.close()
