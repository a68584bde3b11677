"""Under the answer: the region questions are about, and the boxes found in the answer."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vldesk.core.grounding import Detection, ImageBoxes, RegionQuestion
from vldesk.gui.widgets.box_overlay import label_colors

#: Rows of the box list shown before it scrolls.
VISIBLE_ROWS = 5


class GroundingPanel(QWidget):
    """A line about the selected region (with Clear) and the list of the answer's boxes.

    Hidden while there is neither. Signals:
        box_selected(int): the row chosen in the list; -1 when none is.
        clear_region_requested(): the Clear button was pressed.
        show_boxes_toggled(bool): the "Show boxes" check box changed.
    """

    box_selected = Signal(int)
    clear_region_requested = Signal()
    show_boxes_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        tr = self.tr
        self.region_label = QLabel(self)
        self.region_label.setWordWrap(True)
        self.region_label.setAccessibleName(tr("Selected region"))
        self.clear_region_button = QPushButton(tr("C&lear Region"), self)
        self.clear_region_button.setToolTip(tr("Ask about the whole image again"))
        self.clear_region_button.clicked.connect(self.clear_region_requested)
        self.region_row = QWidget(self)
        region_layout = QHBoxLayout(self.region_row)
        region_layout.setContentsMargins(0, 0, 0, 0)
        region_layout.addWidget(self.region_label, 1)
        region_layout.addWidget(self.clear_region_button)

        self.boxes_title = QLabel(self)
        self.show_boxes_check = QCheckBox(tr("Show bo&xes"), self)
        self.show_boxes_check.setChecked(True)
        self.show_boxes_check.toggled.connect(self.show_boxes_toggled)
        self.box_list = QListWidget(self)
        self.box_list.setAccessibleName(tr("Boxes in the answer"))
        self.box_list.setToolTip(tr("Select a box to highlight it on the image"))
        self.box_list.currentRowChanged.connect(self.box_selected)
        rows = self.fontMetrics().lineSpacing() + 6
        self.box_list.setMaximumHeight(rows * VISIBLE_ROWS + 6)
        self.boxes_row = QWidget(self)
        boxes_layout = QVBoxLayout(self.boxes_row)
        boxes_layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        header.addWidget(self.boxes_title, 1)
        header.addWidget(self.show_boxes_check)
        boxes_layout.addLayout(header)
        boxes_layout.addWidget(self.box_list)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.region_row)
        layout.addWidget(self.boxes_row)
        self.region_row.hide()
        self.boxes_row.hide()
        self.hide()

    def set_region(self, question: RegionQuestion | None) -> None:
        if question is None:
            self.region_row.hide()
        else:
            left, top, right, bottom = question.region.box
            self.region_label.setText(
                self.tr("Questions are about the region {0}×{1} px at ({2}, {3}).").format(
                    right - left, bottom - top, left, top
                )
            )
            self.region_row.show()
        self._update_visible()

    def set_boxes(self, boxes: ImageBoxes | None) -> None:
        self.box_list.blockSignals(True)
        self.box_list.clear()
        detections = boxes.detections if boxes is not None else ()
        if boxes is not None:
            for detection, color in zip(detections, label_colors(boxes), strict=True):
                item = QListWidgetItem(_swatch(color), self.describe(detection), self.box_list)
                item.setData(Qt.ItemDataRole.AccessibleTextRole, self.describe(detection))
        self.box_list.setCurrentRow(-1)
        self.box_list.blockSignals(False)
        self.boxes_title.setText(self.tr("Boxes in the answer: {0}").format(len(detections)))
        self.boxes_row.setVisible(bool(detections))
        self._update_visible()

    def describe(self, detection: Detection) -> str:
        """One list row: the label and where, in original pixels."""
        label = detection.label or self.tr("object")
        if detection.box is not None:
            x1, y1, x2, y2 = (round(v) for v in detection.box)
            return self.tr("{0} — {1}×{2} px at ({3}, {4})").format(label, x2 - x1, y2 - y1, x1, y1)
        assert detection.point is not None
        x, y = (round(v) for v in detection.point)
        return self.tr("{0} — point at ({1}, {2})").format(label, x, y)

    def _update_visible(self) -> None:
        self.setVisible(not self.region_row.isHidden() or not self.boxes_row.isHidden())


def _swatch(color: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(color)
    return QIcon(pixmap)
