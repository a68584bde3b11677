"""Boxes, points and a selected region drawn over the image viewer, in original-image pixels."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QTransform,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from vldesk.core.grounding import Detection, ImageBoxes, Region
from vldesk.gui.widgets.image_viewer import ImageViewer

#: Box colours, one per label in order of appearance; strong enough on photos and documents.
BOX_COLORS = ("#ff3b30", "#34c759", "#0a84ff", "#ff9f0a", "#bf5af2", "#00c7be", "#ff2d55")
#: Above the image item (which sits at z 0).
OVERLAY_Z = 10.0
BOX_WIDTH = 2.0
HIGHLIGHT_WIDTH = 4.0
POINT_RADIUS = 5.0
#: The selected region's outline, and the shade over the rest of the image.
REGION_COLOR = "#0a84ff"
REGION_SHADE = QColor(0, 0, 0, 90)
#: Boxes other than the one chosen in the list fade to this.
DIMMED_OPACITY = 0.6


class _Root(QGraphicsItem):
    """Holds the overlay's items; its transform maps original pixels onto the shown image."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)
        self.setZValue(OVERLAY_Z)

    def boundingRect(self) -> QRectF:
        return QRectF()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        pass


class _Label(QGraphicsItem):
    """A label on a coloured tag, the same size at any zoom."""

    def __init__(self, text: str, color: QColor, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self._text = text
        self._color = color
        self._font = QFont()
        self._font.setPointSizeF(max(self._font.pointSizeF(), 9.0))
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)

    def boundingRect(self) -> QRectF:
        metrics = QFontMetricsF(self._font)
        return QRectF(
            0,
            -metrics.height() - 4,
            metrics.horizontalAdvance(self._text) + 8,
            metrics.height() + 4,
        )

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        rect = self.boundingRect()
        painter.fillRect(rect, self._color)
        painter.setFont(self._font)
        painter.setPen(QColor("white"))
        painter.drawText(rect.adjusted(4, 0, -4, 0), int(Qt.AlignmentFlag.AlignVCenter), self._text)


class _Point(QGraphicsItem):
    """A dot with a white ring, the same size at any zoom."""

    def __init__(self, color: QColor, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self._color = color
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)

    def boundingRect(self) -> QRectF:
        r = POINT_RADIUS + 2
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor("white"), 2))
        painter.setBrush(self._color)
        painter.drawEllipse(QPointF(0, 0), POINT_RADIUS, POINT_RADIUS)


def label_colors(boxes: ImageBoxes) -> list[QColor]:
    """The colour of each detection: one per label, in order of first appearance."""
    order: dict[str, int] = {}
    colors = []
    for detection in boxes.detections:
        index = order.setdefault(detection.label, len(order))
        colors.append(QColor(BOX_COLORS[index % len(BOX_COLORS)]))
    return colors


class BoxOverlay(QObject):
    """Draws an answer's boxes and points, and the region questions are about, over ``viewer``.

    Everything is given in the pixels of the oriented original (``size`` of the boxes or the
    image size of the region); a shown image of another size (a history thumbnail) is scaled to.
    The viewer empties its scene on every new image: the overlay then starts again.
    """

    def __init__(self, viewer: ImageViewer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._viewer = viewer
        self._root: _Root | None = None
        self._boxes: ImageBoxes | None = None
        self._box_items: list[QGraphicsItem] = []
        self._region_item: QGraphicsPathItem | None = None
        self._visible = True
        self._highlighted: int | None = None

    # -- what is drawn -------------------------------------------------------------------------

    @property
    def boxes(self) -> ImageBoxes | None:
        return self._boxes

    @property
    def boxes_visible(self) -> bool:
        return self._visible

    def show_boxes(self, boxes: ImageBoxes | None) -> None:
        """Draw these boxes (replacing any before); ``None`` or none found clears them."""
        self._remove_boxes()
        self._boxes = boxes if boxes is not None and boxes.detections else None
        self._highlighted = None
        if self._boxes is None:
            return
        root = self._root_for(self._boxes.size)
        if root is None:
            return
        for detection, color in zip(self._boxes.detections, label_colors(self._boxes), strict=True):
            self._box_items.append(self._draw(detection, color, root))
        self._apply_visibility()

    def set_boxes_visible(self, visible: bool) -> None:
        self._visible = visible
        self._apply_visibility()

    def highlight(self, index: int | None) -> None:
        """Make one box stand out (thicker, filled); ``None`` shows them all alike."""
        self._highlighted = index
        for number, item in enumerate(self._box_items):
            if not shiboken6.isValid(item):
                continue
            chosen = index == number
            if isinstance(item, QGraphicsRectItem):
                pen = item.pen()
                pen.setWidthF(HIGHLIGHT_WIDTH if chosen else BOX_WIDTH)
                item.setPen(pen)
                fill = QColor(pen.color())
                fill.setAlpha(60 if chosen else 0)
                item.setBrush(QBrush(fill))
            item.setZValue(1.0 if chosen else 0.0)
            item.setOpacity(1.0 if index is None or chosen else DIMMED_OPACITY)

    def show_region(self, region: Region | None, image_size: tuple[int, int] | None = None) -> None:
        """Outline the region questions are about (dashed); ``None`` removes it."""
        if self._region_item is not None and shiboken6.isValid(self._region_item):
            scene = self._region_item.scene()
            if scene is not None:
                scene.removeItem(self._region_item)
        self._region_item = None
        if region is None or image_size is None:
            return
        root = self._root_for(image_size)
        if root is None:
            return
        # The rest of the image dimmed, so the region stands out on light and dark images.
        width, height = image_size
        outside = QPainterPath()
        outside.setFillRule(Qt.FillRule.OddEvenFill)  # the region is a hole
        outside.addRect(QRectF(0, 0, width, height))
        outside.addRect(QRectF(*_rect(region.box)))
        item = QGraphicsPathItem(outside, root)
        item.setPen(QPen(Qt.PenStyle.NoPen))
        item.setBrush(QBrush(REGION_SHADE))
        border = QGraphicsRectItem(QRectF(*_rect(region.box)), item)
        pen = QPen(QColor(REGION_COLOR), 2, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        border.setPen(pen)
        self._region_item = item

    # -- drawing -------------------------------------------------------------------------------

    def _root_for(self, size: tuple[int, int]) -> _Root | None:
        """The root item in the viewer's current scene, scaled from ``size`` to the shown image."""
        shown = self._viewer.image_size
        if shown is None or size[0] <= 0 or size[1] <= 0:
            return None
        root = self._root
        if root is None or not shiboken6.isValid(root) or root.scene() is not self._viewer.scene():
            root = self._root = _Root()
            self._viewer.scene().addItem(root)
            self._box_items = []
            self._region_item = None
        root.setTransform(QTransform.fromScale(shown[0] / size[0], shown[1] / size[1]))
        return root

    def _draw(self, detection: Detection, color: QColor, root: _Root) -> QGraphicsItem:
        label = detection.label or self.tr("object")
        if detection.box is not None:
            x1, y1, x2, y2 = detection.box
            item = QGraphicsRectItem(QRectF(x1, y1, x2 - x1, y2 - y1), root)
            pen = QPen(color, BOX_WIDTH)
            pen.setCosmetic(True)  # the same width at any zoom
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            item.setPen(pen)
            tag = _Label(label, color, item)
            tag.setPos(x1, y1)
            return item
        assert detection.point is not None
        point = _Point(color, root)
        point.setPos(*detection.point)
        tag = _Label(label, color, point)
        tag.setPos(POINT_RADIUS + 2, -POINT_RADIUS)
        return point

    def _apply_visibility(self) -> None:
        for item in self._box_items:
            if shiboken6.isValid(item):
                item.setVisible(self._visible)

    def _remove_boxes(self) -> None:
        for item in self._box_items:
            if shiboken6.isValid(item) and item.scene() is not None:
                item.scene().removeItem(item)
        self._box_items = []


def _rect(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    return (x1, y1, x2 - x1, y2 - y1)
