"""A zoomable, pannable image view that stays smooth for very large images."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import (
    QFocusEvent,
    QImage,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
    QShowEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

MIN_ZOOM = 0.02
MAX_ZOOM = 32.0
ZOOM_STEP = 1.25


class _ImageItem(QGraphicsItem):
    """Paints only the exposed part of a QImage, from a reduced copy when zoomed out."""

    def __init__(self, image: QImage, preview: QImage | None) -> None:
        super().__init__()
        self._image = image
        self._preview = preview
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._image.width(), self._image.height())

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        exposed = option.exposedRect.intersected(self.boundingRect())
        if exposed.isEmpty():
            return
        scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        source = self._image
        factor = 1.0
        if self._preview is not None and scale * self._image.width() <= self._preview.width():
            source = self._preview
            factor = self._preview.width() / self._image.width()
        smooth = scale < 1.0 or (scale < 2.0 and source is self._preview)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        from_rect = QRectF(
            exposed.x() * factor,
            exposed.y() * factor,
            exposed.width() * factor,
            exposed.height() * factor,
        )
        painter.drawImage(exposed, source, from_rect)


class ImageViewer(QGraphicsView):
    """Shows one image: wheel or shortcuts zoom, dragging pans, fit-to-window by default.

    Signals:
        zoom_changed(float): the new scale (1.0 is 100 %).
    """

    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self._item: _ImageItem | None = None
        self._fit = True
        self._placeholder = self._hint = self.tr(
            "Drop images or a folder here, paste an image (Ctrl+V) or open one (Ctrl+O)."
        )
        #: Why the file shown by name cannot be displayed ("" while an image or the hint shows).
        self.error_text = ""
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundRole(QPalette.ColorRole.Window)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(self.tr("Image"))
        self.setAccessibleDescription(
            self.tr("Arrow keys scroll, Ctrl+plus and Ctrl+minus zoom, Ctrl+0 fits the window.")
        )

    @property
    def has_image(self) -> bool:
        return self._item is not None

    @property
    def image_size(self) -> tuple[int, int] | None:
        if self._item is None:
            return None
        rect = self._item.boundingRect()
        return int(rect.width()), int(rect.height())

    def set_image(self, image: QImage, preview: QImage | None = None) -> None:
        self.clear()
        self._placeholder, self.error_text = self._hint, ""
        self._item = _ImageItem(image, preview)
        self._scene.addItem(self._item)
        self._scene.setSceneRect(self._item.boundingRect())
        self.fit_to_window()

    def clear(self) -> None:
        self._scene.clear()
        self._item = None
        self.resetTransform()
        self.viewport().update()

    def zoom(self) -> float:
        return float(self.transform().m11())

    def set_zoom(self, scale: float) -> None:
        if self._item is None:
            return
        scale = max(MIN_ZOOM, min(MAX_ZOOM, scale))
        self.setTransform(QTransform.fromScale(scale, scale))
        self.zoom_changed.emit(self.zoom())

    def zoom_in(self) -> None:
        self._fit = False
        self.set_zoom(self.zoom() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self._fit = False
        self.set_zoom(self.zoom() / ZOOM_STEP)

    def actual_size(self) -> None:
        self._fit = False
        self.set_zoom(1.0)

    def fit_to_window(self) -> None:
        self._fit = True
        if self._item is None:
            return
        self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)
        # Small images are shown at 100 %, not blown up.
        if self.zoom() > 1.0:
            self.set_zoom(1.0)
            self.centerOn(self._item)
        self.zoom_changed.emit(self.zoom())

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self._item is None:
            super().wheelEvent(event)
            return
        delta = event.angleDelta().y()
        if delta == 0:
            return
        self._fit = False
        self.set_zoom(self.zoom() * ZOOM_STEP ** (delta / 120))
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit:
            self.fit_to_window()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fit:
            self.fit_to_window()

    def set_placeholder(self, text: str) -> None:
        """Shown in the middle while there is no image."""
        self._placeholder = self._hint = text
        self.viewport().update()

    def show_error(self, text: str) -> None:
        """No image, only why it cannot be shown: never the previous image under a new name."""
        self.clear()
        self._placeholder = self.error_text = text
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._item is None and self._placeholder:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            margin = 24
            area = self.viewport().rect().adjusted(margin, margin, -margin, -margin)
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(area, int(flags), self._placeholder)
            painter.end()
        if self.hasFocus():
            # The view has no frame, so keyboard focus would be invisible: draw a ring.
            painter = QPainter(self.viewport())
            pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 2)
            painter.setPen(pen)
            painter.drawRect(self.viewport().rect().adjusted(1, 1, -1, -1))
            painter.end()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.viewport().update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.viewport().update()
