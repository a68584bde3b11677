"""A list model over a folder's captions: the filtered rows, their thumbnails, inline edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QImage, QPixmap

from vldesk.core.captions import CaptionEntry, CaptionFilter, FolderCaptions, ReviewState, matches

#: Thumbnail side in the list, in device-independent pixels.
THUMBNAIL_SIDE = 72
#: Thumbnails kept (about 20 KB each); the oldest are dropped and made again when shown.
MAX_THUMBNAILS = 3000
#: The entry of a row (a :class:`CaptionEntry`).
EntryRole = Qt.ItemDataRole.UserRole + 1

Index = QModelIndex | QPersistentModelIndex


def _tr(text: str) -> str:
    return QCoreApplication.translate("FolderPanel", text)


def status_text(entry: CaptionEntry) -> str:
    """What the row says besides the caption: failed, reviewed or waiting for review."""
    if entry.error is not None and entry.caption is None:
        return _tr("failed")
    if entry.review is ReviewState.REVIEWED:
        return _tr("reviewed")
    if entry.caption is not None:
        return _tr("not reviewed")
    return ""


class CaptionListModel(QAbstractListModel):
    """The entries that pass the filter, in folder order. Rows stay put when an approval or
    edit makes one stop matching: the list moves only when the filter changes.

    Signals:
        edited(CaptionEntry, str): the inline editor's new text for an entry (the controller
            saves it and calls :meth:`replace`).
        thumbnails_wanted(list): paths whose thumbnails are shown but not made yet.
    """

    edited = Signal(object, str)
    thumbnails_wanted = Signal(list)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.folder: FolderCaptions | None = None
        self._rows: list[CaptionEntry] = []
        self._filter = CaptionFilter.ALL
        self._word = ""
        self._pixmaps: dict[Path, QPixmap] = {}
        self._asked: set[Path] = set()
        self._wanted: list[Path] = []
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.timeout.connect(self._ask_for_thumbnails)

    # -- contents ----------------------------------------------------------------------------

    def set_folder(self, folder: FolderCaptions | None) -> None:
        self.beginResetModel()
        if folder is None or self.folder is None or folder.folder != self.folder.folder:
            self._pixmaps.clear()
        # Thumbnails asked for but not made were cancelled by the new read: ask again.
        self._asked = set(self._pixmaps)
        self.folder = folder
        self._rows = self._filtered()
        self.endResetModel()

    def set_filter(self, kind: CaptionFilter, word: str = "") -> None:
        if (kind, word) == (self._filter, self._word):
            return
        self.beginResetModel()
        self._filter, self._word = kind, word
        self._rows = self._filtered()
        self.endResetModel()

    def _filtered(self) -> list[CaptionEntry]:
        if self.folder is None:
            return []
        return [e for e in self.folder.entries if matches(e, self._filter, self._word)]

    @property
    def total(self) -> int:
        return len(self.folder.entries) if self.folder is not None else 0

    def entry(self, row: int) -> CaptionEntry | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def paths(self) -> list[Path]:
        return [entry.image for entry in self._rows]

    def row_of(self, image: Path) -> int | None:
        for row, entry in enumerate(self._rows):
            if entry.image == image:
                return row
        return None

    def replace(self, entry: CaptionEntry) -> None:
        """An entry as it is on disk now (after an edit or approval)."""
        if self.folder is not None:
            self.folder.entries = [
                entry if e.image == entry.image else e for e in self.folder.entries
            ]
        row = self.row_of(entry.image)
        if row is not None:
            self._rows[row] = entry
            index = self.index(row)
            self.dataChanged.emit(index, index)

    # -- thumbnails --------------------------------------------------------------------------

    def set_thumbnails(self, results: list[tuple[Path, QImage]]) -> None:
        for path, image in results:
            self._pixmaps[path] = QPixmap.fromImage(image) if not image.isNull() else QPixmap()
            while len(self._pixmaps) > MAX_THUMBNAILS:
                oldest = next(iter(self._pixmaps))
                del self._pixmaps[oldest]
                self._asked.discard(oldest)
            row = self.row_of(path)
            if row is not None:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def _want(self, path: Path) -> None:
        if path not in self._asked:
            self._asked.add(path)
            self._wanted.append(path)
            self._flush.start(0)  # the rows painted now, asked for together

    def _ask_for_thumbnails(self) -> None:
        wanted, self._wanted = self._wanted, []
        if wanted:
            self.thumbnails_wanted.emit(wanted)

    # -- Qt model ----------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        entry = self.entry(index.row()) if index.isValid() else None
        if entry is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.caption if entry.caption is not None else _tr("none")
        if role == Qt.ItemDataRole.EditRole:
            return entry.caption or ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return entry.error or entry.caption or entry.name
        if role == Qt.ItemDataRole.AccessibleTextRole:
            caption = entry.caption if entry.caption is not None else _tr("none")
            return f"{entry.name}: {caption} ({status_text(entry)})"
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._pixmaps.get(entry.image)
            if pixmap is None:
                self._want(entry.image)
            return pixmap
        if role == EntryRole:
            return entry
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        entry = self.entry(index.row()) if index.isValid() else None
        if entry is None or role != Qt.ItemDataRole.EditRole:
            return False
        text = str(value).strip()
        if text == (entry.caption or ""):
            return False
        self.edited.emit(entry, text)
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        return flags | Qt.ItemFlag.ItemIsEditable if index.isValid() else flags

    def thumbnail_size(self) -> QSize:
        return QSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
