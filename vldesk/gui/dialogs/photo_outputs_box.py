"""The Describe Folder dialog's group for photo metadata (XMP) and exported boxes."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QLabel, QWidget

from vldesk.core.batch import BatchOptions
from vldesk.core.batch.options import DEFAULT_BOXES_OUT, BoxFormat
from vldesk.core.metadata import MetadataMode


class PhotoOutputsBox(QGroupBox):
    """Write each caption into the photo's XMP (off, sidecar, embedded; a person's description
    kept unless overwriting is ticked), and export the answers' boxes (none, COCO, YOLO): the
    same :class:`BatchOptions` fields as ``vldesk batch --xmp --xmp-overwrite --boxes``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        tr = self.tr
        self.setTitle(tr("Photo metadata and boxes"))
        self.xmp_combo = QComboBox(self)
        self.xmp_combo.setAccessibleName(tr("Write to photo metadata"))
        self.xmp_combo.addItem(tr("Off"), None)
        self.xmp_combo.addItem(tr("XMP sidecar (photo.jpg.xmp)"), MetadataMode.SIDECAR.value)
        self.xmp_combo.addItem(tr("Embedded in the photo"), MetadataMode.EMBED.value)
        self.xmp_combo.setToolTip(
            tr(
                "The caption goes into the photo's description with the model, prompt and date, "
                "marked as machine-made (digiKam, darktable, Lightroom read it)."
            )
        )
        self.overwrite_check = QCheckBox(tr("Repla&ce a description a person wrote"), self)
        self.overwrite_check.setToolTip(
            tr("Off: photos that already have a description by a person are left alone and listed.")
        )
        self.boxes_combo = QComboBox(self)
        self.boxes_combo.setAccessibleName(tr("Export boxes"))
        self.boxes_combo.addItem(tr("None"), None)
        self.boxes_combo.addItem(
            tr("COCO JSON ({0})").format(DEFAULT_BOXES_OUT[BoxFormat.COCO]), BoxFormat.COCO.value
        )
        self.boxes_combo.addItem(
            tr("YOLO labels ({0}/)").format(DEFAULT_BOXES_OUT[BoxFormat.YOLO]), BoxFormat.YOLO.value
        )
        self.boxes_combo.setToolTip(
            tr("The boxes in the answers (e.g. the Find objects preset), in the photos' pixels.")
        )
        xmp_label = QLabel(tr("Write to photo &metadata:"), self)
        xmp_label.setBuddy(self.xmp_combo)
        boxes_label = QLabel(tr("Sa&ve boxes as:"), self)
        boxes_label.setBuddy(self.boxes_combo)
        form = QFormLayout(self)
        form.addRow(xmp_label, self.xmp_combo)
        form.addRow("", self.overwrite_check)
        form.addRow(boxes_label, self.boxes_combo)
        self.xmp_combo.currentIndexChanged.connect(self._update)
        self._update()

    def fill(self, previous: BatchOptions | None) -> None:
        """Start from an earlier job's choices (off and none without one)."""
        xmp = previous.xmp.value if previous is not None and previous.xmp else None
        boxes = previous.boxes.value if previous is not None and previous.boxes else None
        self.xmp_combo.setCurrentIndex(max(0, self.xmp_combo.findData(xmp)))
        self.overwrite_check.setChecked(previous is not None and previous.xmp_overwrite)
        self.boxes_combo.setCurrentIndex(max(0, self.boxes_combo.findData(boxes)))
        self._update()

    def values(self) -> dict[str, Any]:
        """The :class:`BatchOptions` fields as chosen."""
        xmp = self.xmp_combo.currentData()
        boxes = self.boxes_combo.currentData()
        return {
            "xmp": MetadataMode(xmp) if xmp else None,
            "xmp_overwrite": bool(xmp) and self.overwrite_check.isChecked(),
            "boxes": BoxFormat(boxes) if boxes else None,
        }

    def _update(self) -> None:
        self.overwrite_check.setEnabled(self.xmp_combo.currentData() is not None)
