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
    """

    files_dropped = Signal(list)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, (QDragEnterEvent, QDragMoveEvent))
            if local_files(event.mimeData()):
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            paths = local_files(event.mimeData())
            if paths:
                event.acceptProposedAction()
                self.files_dropped.emit(paths)
                return True
        return False
