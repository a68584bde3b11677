"""A list model over history summaries, fetched page by page, with thumbnails decoded off-thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Slot,
)
from PySide6.QtGui import QGuiApplication, QImage, QPixmap

from vldesk.core.history import ConversationSummary
from vldesk.gui.workers.thumbnails import ThumbnailDecoder

#: ``(limit, offset, query) -> summaries``: how the model reads a page of history.
PageLoader = Callable[[int, int, "str | None"], list[ConversationSummary]]

PAGE_SIZE = 100
ICON_SIZE = QSize(64, 64)
#: The conversation id of a row.
IdRole = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex


class HistoryListModel(QAbstractListModel):
    """Rows are :class:`ConversationSummary` objects, newest first; more load on scrolling."""

    def __init__(
        self,
        load_page: PageLoader,
        decoder: ThumbnailDecoder | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._load_page = load_page
        self._rows: list[ConversationSummary] = []
        self._query: str | None = None
        self._exhausted = True
        self._thumbnails: dict[int, QPixmap] = {}
        self._images: dict[int, QImage] = {}
        app = QGuiApplication.instance()
        # Icons are made for the sharpest screen (high DPI) and drawn at ICON_SIZE.
        self._ratio = app.devicePixelRatio() if isinstance(app, QGuiApplication) else 1.0
        self._decoder = decoder or ThumbnailDecoder(ICON_SIZE * self._ratio, self)
        self._decoder.decoded.connect(self._on_thumbnails)

    # -- loading -----------------------------------------------------------------------------

    @property
    def query(self) -> str | None:
        return self._query

    def reload(self, query: str | None = None) -> None:
        """Start over with the first page of ``query`` (``None``: everything)."""
        self._query = query.strip() if query and query.strip() else None
        page = self._load_page(PAGE_SIZE, 0, self._query)
        self.beginResetModel()
        self._rows = list(page)
        self._exhausted = len(page) < PAGE_SIZE
        self.endResetModel()
        self._request_thumbnails(page)

    def refresh(self) -> None:
        """Reload with the current query (after history changed)."""
        self.reload(self._query)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted:
            return
        known = {row.id for row in self._rows}
        page = [
            row
            for row in self._load_page(PAGE_SIZE, len(self._rows), self._query)
            if row.id not in known
        ]
        self._exhausted = len(page) < PAGE_SIZE
        if not page:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()
        self._request_thumbnails(page)

    def _request_thumbnails(self, rows: list[ConversationSummary]) -> None:
        wanted = [
            (row.id, row.thumbnail) for row in rows if row.thumbnail and row.id not in self._images
        ]
        if wanted:
            self._decoder.decode(wanted)

    @Slot(list)
    def _on_thumbnails(self, results: list[tuple[int, QImage]]) -> None:
        changed = set()
        for key, image in results:
            self._images[key] = image
            self._thumbnails.pop(key, None)
            changed.add(key)
        for row, summary in enumerate(self._rows):
            if summary.id in changed:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def wait_for_thumbnails(self, msecs: int = 10_000) -> bool:
        """Block until queued thumbnails are decoded (shutdown and tests)."""
        return self._decoder.wait_for_done(msecs)

    def stop_thumbnails(self) -> None:
        """Closing: drop queued thumbnails; waits a bounded time for the one being decoded."""
        self._decoder.shut_down()

    # -- access ------------------------------------------------------------------------------

    def summary(self, row: int) -> ConversationSummary:
        return self._rows[row]

    def conversation_id(self, index: _Index) -> int | None:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        return self._rows[index.row()].id

    def ids(self) -> list[int]:
        return [row.id for row in self._rows]

    def row_of(self, conversation_id: int) -> int | None:
        return next((i for i, row in enumerate(self._rows) if row.id == conversation_id), None)

    # -- Qt model interface ------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        summary = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _display_text(summary)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(summary)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return _display_text(summary).replace("\n", ", ")
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(summary.id)
        if role == IdRole:
            return summary.id
        return None

    def _pixmap(self, key: int) -> QPixmap | None:
        # QPixmaps are made here, on the GUI thread, from the small QImages the decoder made.
        pixmap = self._thumbnails.get(key)
        if pixmap is None:
            image = self._images.get(key)
            if image is None:
                return None
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(self._ratio)
            self._thumbnails[key] = pixmap
        return pixmap

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


def _tr(text: str) -> str:
    return QCoreApplication.translate("HistoryListModel", text)


def _image_name(summary: ConversationSummary) -> str:
    return PurePath(summary.image_path).name if summary.image_path else _tr("pasted image")


def _display_text(summary: ConversationSummary) -> str:
    title = summary.title or summary.preview or _tr("(no question)")
    if len(title) > 80:
        title = title[:79] + "…"
    when = summary.updated.strftime("%Y-%m-%d %H:%M")
    return f"{title}\n{_image_name(summary)} · {when}"


def _tooltip(summary: ConversationSummary) -> str:
    parts = [summary.image_path or _tr("pasted image"), summary.model]
    if summary.preview:
        parts.append(summary.preview)
    return "\n".join(parts)
