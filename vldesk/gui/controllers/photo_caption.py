"""Save Caption to Photo: the selected text or last answer into the photo's XMP description."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from vldesk.core.errors import VldeskError
from vldesk.core.metadata import Caption, MetadataMode, WriteResult, WriteStatus, write_caption
from vldesk.gui.controllers.preferences import Preferences
from vldesk.gui.i18n import error_text
from vldesk.gui.main_window import MainWindow
from vldesk.gui.session import ChatSession
from vldesk.gui.widgets.message_banner import Level
from vldesk.gui.workers.background import BackgroundRunner

#: Characters of a person's description quoted when asking whether to replace it.
QUOTE_CHARS = 300


def _tr(text: str) -> str:
    return QCoreApplication.translate("DesktopApp", text)


@dataclass(frozen=True)
class _Request:
    photo: Path
    caption: Caption
    mode: MetadataMode


class PhotoCaptionController(QObject):
    """Writes captions in a worker thread (the whole file is read and rewritten); a description
    a person wrote is replaced only after the user says so.

    Signals:
        saved(object): the :class:`WriteResult` of a finished write (written or kept).
    """

    saved = Signal(object)
    _done = Signal(object, object)
    _failed = Signal(str)

    def __init__(
        self,
        session: ChatSession,
        preferences: Preferences,
        window: MainWindow,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._preferences = preferences
        self._window = window
        self._runner = BackgroundRunner("photo-caption")
        #: The question shown when a person's description is in the way (tests answer it).
        self.confirmation: QMessageBox | None = None
        window.save_caption_action.triggered.connect(lambda: self.save_caption())
        mode = preferences.settings.caption_metadata
        for action in window.caption_target_group.actions():
            action.setChecked(action.data() == mode)
        window.caption_target_group.triggered.connect(self._target_chosen)
        self._done.connect(self._on_done)
        self._failed.connect(lambda text: window.show_message(text))

    def caption_text(self) -> str:
        """The text selected in the conversation, else the last answer."""
        selected = self._window.answer_view.browser.textCursor().selectedText()
        # Qt writes line breaks in a selection as U+2029.
        text = selected.replace("\u2029", "\n").strip()
        return text or self._window.answer_view.current_answer().strip()

    def save_caption(self) -> bool:
        """Start writing the caption; False (with a message) when there is nothing to write."""
        image = self._session.image
        if image is None or image.path is None:
            self._window.show_message(
                _tr("Only an image opened from a file can get a caption (a pasted one has none)."),
                Level.INFO,
            )
            return False
        text = self.caption_text()
        if not text or self._session.busy:
            self._window.show_message(_tr("There is no finished answer to save yet."), Level.INFO)
            return False
        questions = self._session.questions()  # as typed, without a region's instructions
        caption = Caption(
            {"x-default": text},
            model=self._session.model_name or "",
            prompt=questions[-1] if questions else "",
        )
        mode = MetadataMode(self._preferences.settings.caption_metadata)
        self._start(_Request(image.path, caption, mode), overwrite_human=False)
        return True

    def _start(self, request: _Request, *, overwrite_human: bool) -> None:
        def write(_cancel: threading.Event) -> None:
            try:
                result = write_caption(
                    request.photo, request.caption, request.mode, overwrite_human=overwrite_human
                )
            except (VldeskError, OSError) as exc:
                self._failed.emit(error_text(exc))
            else:
                self._done.emit(request, result)

        self._window.statusBar().showMessage(_tr("Saving the caption…"))
        self._runner.start(write)

    @Slot(object, object)
    def _on_done(self, request: _Request, result: WriteResult) -> None:
        status = self._window.statusBar()
        if result.status is WriteStatus.SKIPPED_HUMAN:
            status.clearMessage()
            self._ask_to_replace(request, result)
        else:
            status.showMessage(_tr("Caption saved in {0}.").format(result.target.name), 5000)
        self.saved.emit(result)

    def _ask_to_replace(self, request: _Request, result: WriteResult) -> None:
        """Window-modal, not blocking: the photo's own description stays unless Replace."""
        quoted = result.existing_description
        if len(quoted) > QUOTE_CHARS:
            quoted = quoted[: QUOTE_CHARS - 1] + "…"
        box = QMessageBox(self._window)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(_tr("Save Caption to Photo"))
        box.setText(
            _tr("{0} already has a description that a person wrote:").format(request.photo.name)
        )
        box.setInformativeText(
            _tr("“{0}”\n\nReplace it with the answer? It cannot be undone.").format(quoted)
        )
        replace = box.addButton(_tr("Replace"), QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton(_tr("Keep Theirs"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        replace.clicked.connect(lambda: self._start(request, overwrite_human=True))
        keep.clicked.connect(
            lambda: self._window.statusBar().showMessage(
                _tr("The photo's own description was kept."), 5000
            )
        )
        self.confirmation = box
        box.open()

    @Slot(QAction)
    def _target_chosen(self, action: QAction) -> None:
        mode = action.data()
        if isinstance(mode, str):
            self._preferences.remember(caption_metadata=mode)

    def shut_down(self) -> None:
        """Closing: wait a bounded time for a write under way (it is atomic either way)."""
        self._runner.shut_down([])
