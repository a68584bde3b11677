"""Catch files dropped anywhere on the window, including on widgets that take text drops."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QObject, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent


def local_files(mime: QMimeData) -> list[str]:
    """The local file paths in dropped or pasted data, in order."""
    if not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


class FileDropFilter(QObject):
    """An event filter that accepts drags carrying local files and reports the drop.

    Signals:
        files_dropped(list): the dropped paths (strings).
        dragging(bool): files are being dragged over a watched widget (True), or left or were
            dropped (False): for a highlight that says "drop here".
    """

    files_dropped = Signal(list)
    dragging = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: Widgets whose drag enter this filter took: their leave is this filter's too.
        self._entered: set[QObject] = set()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, (QDragEnterEvent, QDragMoveEvent))
            if local_files(event.mimeData()):
                event.acceptProposedAction()
                if kind == QEvent.Type.DragEnter:
                    self._entered.add(watched)
                    self.dragging.emit(True)
                return True
        elif kind == QEvent.Type.DragLeave and watched in self._entered:
            self._entered.discard(watched)
            self.dragging.emit(False)
            return True
        elif kind == QEvent.Type.Drop:
            self._entered.discard(watched)
            assert isinstance(event, QDropEvent)
            paths = local_files(event.mimeData())
            self.dragging.emit(False)
            if paths:
                event.acceptProposedAction()
                self.files_dropped.emit(paths)
                return True
        return False
