"""Read a captioned folder and make its thumbnails on background threads."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from vldesk.core.captions import FolderCaptions, ReviewCache, load_folder
from vldesk.core.errors import VldeskError
from vldesk.core.images import load_image
from vldesk.gui.workers.background import BackgroundRunner
from vldesk.gui.workers.image_loader import pil_to_qimage

#: Thumbnails per signal: few enough to arrive quickly, enough to keep signals few.
BATCH = 8


def file_thumbnail(path: Path, side: int) -> QImage:
    """A small QImage of an image file (EXIF rotation applied); a null QImage if unreadable."""
    try:
        # A JPEG decodes at a fraction of its size straight away (draft); others are reduced.
        image = load_image(path, draft_pixels=side * side * 4).image
    except (VldeskError, MemoryError, OSError):
        return QImage()
    image.thumbnail((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return pil_to_qimage(image)


class FolderReader(QObject):
    """Loads folders (:func:`load_folder`) and thumbnails off the GUI thread.

    Signals:
        read(FolderCaptions): the latest folder asked for.
        failed(str): the latest folder could not be read; a message for the user.
        thumbnails(list): ``[(path, QImage), ...]``; a null QImage for a file that did not open.
    """

    read = Signal(object)
    failed = Signal(str)
    thumbnails = Signal(list)
    # Sent from the worker threads; queued to this object's slots in the GUI thread.
    _read = Signal(int, object)
    _failed = Signal(int, str)
    _thumbnails = Signal(list)

    def __init__(self, side: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._side = side
        self.reviews = ReviewCache()
        self._folders = BackgroundRunner("folder reading")
        self._pictures = BackgroundRunner("folder thumbnails")
        self._latest = 0
        self._folder_cancel = threading.Event()
        #: One for all thumbnails: they are dropped together when another folder opens.
        self._thumbnail_cancel = threading.Event()
        self._read.connect(self._on_read)
        self._failed.connect(self._on_failed)
        self._thumbnails.connect(self.thumbnails)

    def read_folder(self, folder: Path, jobs_dir: Path | None = None) -> None:
        self._folder_cancel.set()
        self._thumbnail_cancel.set()
        self._thumbnail_cancel = threading.Event()
        self._latest += 1
        request, reviews = self._latest, self.reviews

        def run(cancel: threading.Event) -> None:
            try:
                result = load_folder(folder, reviews=reviews, jobs_dir=jobs_dir, cancel=cancel)
            except VldeskError as exc:
                self._failed.emit(request, str(exc))
                return
            if not cancel.is_set():
                self._read.emit(request, result)

        self._folder_cancel = self._folders.start(run)

    def make_thumbnails(self, paths: Sequence[Path]) -> None:
        pending, side = list(paths), self._side

        def run(cancel: threading.Event) -> None:
            for start in range(0, len(pending), BATCH):
                if cancel.is_set():
                    return
                done = [
                    (path, file_thumbnail(path, side)) for path in pending[start : start + BATCH]
                ]
                if not cancel.is_set():
                    self._thumbnails.emit(done)

        self._pictures.start(run, self._thumbnail_cancel)

    @Slot(int, object)
    def _on_read(self, request: int, result: FolderCaptions) -> None:
        if request == self._latest:
            self.read.emit(result)

    @Slot(int, str)
    def _on_failed(self, request: int, message: str) -> None:
        if request == self._latest:
            self.failed.emit(message)

    def wait_for_done(self, msecs: int = 10_000) -> bool:
        """Block until the folder and queued thumbnails are done, at most ``msecs`` (tests)."""
        return self._folders.wait(msecs / 1000) and self._pictures.wait(msecs / 1000)

    def shut_down(self, timeout: float | None = None) -> None:
        """Closing: skip what is queued; waits a bounded time for what runs."""
        self._folders.shut_down([self._folder_cancel], timeout)
        self._pictures.shut_down([self._thumbnail_cancel], timeout)
