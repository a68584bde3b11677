"""Dragging a rectangle on the image viewer to ask about that region."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from vldesk.core.grounding import Region
from vldesk.gui.widgets.image_viewer import ImageViewer

#: Above the image and the boxes.
RUBBER_BAND_Z = 20.0


_HANDLED = (
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.MouseButtonRelease,
)


class RegionSelector(QObject):
    """Shift+drag on the image (or a plain drag while :attr:`selecting`) selects a region.

    The region is in the pixels of the oriented original, whose size is given with
    :meth:`set_original_size` (the shown image may be a scaled copy).

    Signals:
        region_selected(Region): a drag ended with a region large enough to ask about.
        selecting_changed(bool): the "select a region" mode went on or off.
    """

    region_selected = Signal(object)
    selecting_changed = Signal(bool)

    def __init__(self, viewer: ImageViewer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._viewer = viewer
        self._original_size: tuple[int, int] | None = None
        self._selecting = False
        self._start: QPointF | None = None
        self._band: QGraphicsRectItem | None = None
        viewer.viewport().installEventFilter(self)
        viewer.installEventFilter(self)

    @property
    def selecting(self) -> bool:
        return self._selecting

    def set_selecting(self, on: bool) -> None:
        """A plain drag selects (instead of panning) until a region is selected or Esc."""
        if on == self._selecting:
            return
        self._selecting = on
        self._viewer.viewport().setCursor(
            Qt.CursorShape.CrossCursor if on else Qt.CursorShape.OpenHandCursor
        )
        self.selecting_changed.emit(on)

    def set_original_size(self, size: tuple[int, int] | None) -> None:
        """The image's original size; ``None``: there is nothing to ask about (no selection)."""
        self._original_size = size
        if size is None:
            self._cancel()
            self.set_selecting(False)

    # -- events ----------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in _HANDLED or not shiboken6.isValid(self._viewer):
            return False  # (a viewer being destroyed still sends events)
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() == Qt.Key.Key_Escape and (self._start is not None or self._selecting):
                self._cancel()
                self.set_selecting(False)
                return True
            return False
        if watched is not self._viewer.viewport() or not isinstance(event, QMouseEvent):
            return False
        if kind == QEvent.Type.MouseButtonPress:
            return self._press(event)
        if kind == QEvent.Type.MouseMove and self._start is not None:
            self._update_band(self._viewer.mapToScene(event.position().toPoint()))
            return True
        if kind == QEvent.Type.MouseButtonRelease and self._start is not None:
            self._release(self._viewer.mapToScene(event.position().toPoint()))
            return True
        return False

    def _press(self, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self._original_size is None:
            return False
        if not self._viewer.has_image:
            return False
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if not (shift or self._selecting):
            return False  # the view pans as usual
        self._start = self._viewer.mapToScene(event.position().toPoint())
        self._update_band(self._start)
        return True

    def _update_band(self, end: QPointF) -> None:
        assert self._start is not None
        rect = QRectF(self._start, end).normalized()
        if self._band is None or not shiboken6.isValid(self._band):
            self._band = QGraphicsRectItem()
            pen = QPen(QColor("#0a84ff"), 2, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            self._band.setPen(pen)
            self._band.setBrush(QColor(10, 132, 255, 40))
            self._band.setZValue(RUBBER_BAND_Z)
            self._viewer.scene().addItem(self._band)
        self._band.setRect(rect)

    def _release(self, end: QPointF) -> None:
        start = self._start
        self._cancel()
        shown = self._viewer.image_size
        if start is None or shown is None or self._original_size is None:
            return
        width, height = self._original_size
        scale_x, scale_y = width / shown[0], height / shown[1]
        region = Region.from_corners(
            (start.x() * scale_x, start.y() * scale_y),
            (end.x() * scale_x, end.y() * scale_y),
            (width, height),
        )
        if region is None:
            return  # a click, not a drag
        self.set_selecting(False)
        self.region_selected.emit(region)

    def _cancel(self) -> None:
        self._start = None
        band, self._band = self._band, None
        if band is not None and shiboken6.isValid(band) and band.scene() is not None:
            band.scene().removeItem(band)
