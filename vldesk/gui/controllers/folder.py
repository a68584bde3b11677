"""The folder panel: opens folders, follows the viewer, saves edits and approvals."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QStandardPaths, Slot
from PySide6.QtWidgets import QFileDialog

from vldesk.core.captions import CaptionEntry, CaptionFilter, FolderCaptions, approve, save_caption
from vldesk.core.captions.folder import reread
from vldesk.core.errors import VldeskError
from vldesk.gui.controllers.images import ImageController
from vldesk.gui.i18n import error_text
from vldesk.gui.main_window import MainWindow
from vldesk.gui.models.caption_model import THUMBNAIL_SIDE, CaptionListModel
from vldesk.gui.widgets.folder_panel import FolderPanel
from vldesk.gui.widgets.message_banner import Level
from vldesk.gui.workers.folder_reader import FolderReader

log = logging.getLogger(__name__)


def _tr(text: str) -> str:
    return QCoreApplication.translate("FolderPanel", text)


class FolderController(QObject):
    """Owns the folder panel's model, reader and widget (in the window's folder dock).

    Selecting a row shows its image in the viewer (the arrows then step through the rows
    shown), and the row follows the viewer. Edits and approvals are saved at once
    (:mod:`vldesk.core.captions`), so there is nothing to lose on closing.
    """

    def __init__(
        self,
        images: ImageController,
        window: MainWindow,
        *,
        jobs_dir: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._images = images
        self._window = window
        self._jobs_dir = jobs_dir
        self.model = CaptionListModel(self)
        side = math.ceil(THUMBNAIL_SIDE * window.devicePixelRatioF())
        self.reader = FolderReader(side, self)
        self.panel = FolderPanel(self.model)
        window.folder_dock.setWidget(self.panel)
        #: The folder shown or being read.
        self.folder: Path | None = None
        #: Set while the selection follows the viewer, so it does not open the image again.
        self._following = False

        self.reader.read.connect(self._on_read)
        self.reader.failed.connect(self._on_read_failed)
        self.reader.thumbnails.connect(self.model.set_thumbnails)
        self.model.thumbnails_wanted.connect(self.reader.make_thumbnails)
        self.model.edited.connect(self.save_edit)
        p = self.panel
        p.current_changed.connect(self._on_current_changed)
        p.filter_changed.connect(self._on_filter_changed)
        p.approve_requested.connect(self.approve_current)
        p.ask_again_requested.connect(self.ask_again)
        p.open_requested.connect(self.open_folder_dialog)
        window.open_folder_action.triggered.connect(self.open_folder_dialog)
        window.files_dropped.connect(self.open_if_folder)
        images.changed.connect(self._follow_viewer)

    # -- opening -----------------------------------------------------------------------------

    def open_folder_dialog(self) -> None:
        start = str(self.folder) if self.folder is not None else ""
        chosen = QFileDialog.getExistingDirectory(
            self._window,
            _tr("Open Folder"),
            start
            or QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation),
        )
        if chosen:
            self._images.open_paths([chosen])
            self.open_folder(Path(chosen))

    @Slot(list)
    def open_if_folder(self, paths: Sequence[str]) -> None:
        """A single folder dropped or given on the command line opens in the panel too."""
        if len(paths) == 1 and Path(paths[0]).is_dir():
            self.open_folder(Path(paths[0]))

    def open_folder(self, folder: Path) -> None:
        """Read ``folder`` in the background and show the panel."""
        self.folder = Path(folder).absolute()
        self.panel.set_heading(_tr("Reading {0}…").format(self.folder.name))
        self.reader.read_folder(self.folder, self._jobs_dir)
        dock = self._window.folder_dock
        dock.show()
        dock.raise_()

    def refresh(self) -> None:
        if self.folder is not None:
            self.reader.read_folder(self.folder, self._jobs_dir)

    @Slot(object)
    def _on_read(self, result: FolderCaptions) -> None:
        self.model.set_folder(result)
        for problem in result.problems:
            self._window.show_message(problem, Level.WARNING)
        self._update_heading()
        if not self._follow_viewer() and self.model.rowCount() > 0 and self._images.current is None:
            self.panel.select_row(0)

    @Slot(str)
    def _on_read_failed(self, message: str) -> None:
        self.model.set_folder(None)
        self.panel.set_heading(_tr("No folder is open."))
        self._window.show_message(message)

    def _update_heading(self) -> None:
        folder = self.model.folder
        if folder is None:
            return
        shown, total = self.model.rowCount(), self.model.total
        name = folder.folder.name or str(folder.folder)
        if shown == total:
            text = _tr("{0}: {1} images").format(name, total)
        else:
            text = _tr("{0}: {1} of {2} images").format(name, shown, total)
        self.panel.set_heading(text)

    # -- following the viewer ----------------------------------------------------------------

    @Slot(int)
    def _on_current_changed(self, row: int) -> None:
        if self._following or row < 0:
            return
        self._images.open_sequence(self.model.paths(), row)

    @Slot()
    def _follow_viewer(self) -> bool:
        """Select the row of the image on screen (or that failed to open); True if found."""
        path = self._images.sequence.current
        row = self.model.row_of(path) if path is not None else None
        if row is None:
            return False
        if row != self.panel.current_row():
            self._following = True
            try:
                self.panel.select_row(row)
            finally:
                self._following = False
        return True

    @Slot(object, str)
    def _on_filter_changed(self, kind: CaptionFilter, word: str) -> None:
        self.model.set_filter(kind, word)
        self._update_heading()
        self._follow_viewer()

    # -- edits and approvals -----------------------------------------------------------------

    def current_entry(self) -> CaptionEntry | None:
        return self.model.entry(self.panel.current_row())

    @Slot()
    def approve_current(self) -> None:
        """Approve the selected caption, then go to the next row."""
        entry = self.current_entry()
        folder = self.model.folder
        if entry is None or folder is None:
            return
        try:
            approve(entry, folder.style)
        except VldeskError as exc:
            self._window.show_message(error_text(exc))
            return
        self.model.replace(reread(entry, self.reader.reviews))
        self._window.statusBar().showMessage(_tr("Approved {0}.").format(entry.name), 3000)
        row = self.panel.current_row()
        if row + 1 < self.model.rowCount():
            self.panel.select_row(row + 1)

    @Slot(object, str)
    def save_edit(self, entry: CaptionEntry, text: str) -> None:
        folder = self.model.folder
        if folder is None:
            return
        try:
            save_caption(entry, text, folder.style)
        except VldeskError as exc:
            self._window.show_message(error_text(exc))
            return
        self.model.replace(reread(entry, self.reader.reviews))
        self._window.statusBar().showMessage(
            _tr("Saved the caption of {0}.").format(entry.name), 3000
        )

    @Slot()
    def ask_again(self) -> None:
        """The selected image as a conversation: shown, with the batch's prompt ready to send."""
        entry = self.current_entry()
        folder = self.model.folder
        if entry is None or folder is None:
            return
        if self._images.sequence.current != entry.image:
            self._images.open_sequence(self.model.paths(), self.panel.current_row())
        prompt = self._window.prompt_panel
        if folder.style.prompt:
            prompt.prompt_edit.setPlainText(folder.style.prompt)
        prompt.prompt_edit.setFocus()

    def shut_down(self) -> None:
        self.reader.shut_down()
