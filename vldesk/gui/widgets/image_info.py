"""The line under the image: its name and figures, the name shortened to fit the width."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QGuiApplication, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

#: Between the name and each figure ("photo.jpg  ·  2.1 MB  ·  4000 × 3000 px").
SEPARATOR = "  ·  "


class ImageInfoLabel(QLabel):
    """One line of "name · size · pixels · zoom · n of m". ``text()`` stays the whole line; what
    is drawn shortens the file name in the middle so the figures stay readable and a long name
    never holds the window wider (nor wraps the line at large font sizes)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        # The drawn text may be shortened, so copying is an action rather than a selection.
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy = QAction(self.tr("Copy"), self)
        copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(self.text()))
        self.addAction(copy)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(0, super().sizeHint().height())

    def shown_text(self) -> str:
        """The line as drawn in the label's current width."""
        text = self.text()
        metrics = self.fontMetrics()
        width = self.contentsRect().width()
        if metrics.horizontalAdvance(text) <= width:
            return text
        name, _sep, figures = text.partition(SEPARATOR)
        if figures:
            room = width - metrics.horizontalAdvance(SEPARATOR + figures)
            if room >= metrics.horizontalAdvance("M" * 6):
                shortened = metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, room)
                return shortened + SEPARATOR + figures
        return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        self.style().drawItemText(
            painter,
            self.contentsRect(),
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            self.shown_text(),
            self.foregroundRole(),
        )
