"""Files opened from the desktop as events (macOS Finder's Open With, a drop on the Dock icon)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFileOpenEvent


class FileOpenFilter(QObject):
    """Installed on the application: each ``QFileOpenEvent`` opens its file in the viewer.

    Linux and Windows pass such files on the command line (``vldesk %F``) instead.
    """

    def __init__(self, open_paths: Callable[[list[str]], None], parent: QObject | None = None):
        super().__init__(parent)
        self._open_paths = open_paths

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            path = event.file() or event.url().toLocalFile()
            if path:
                self._open_paths([path])
                return True
        return super().eventFilter(watched, event)
