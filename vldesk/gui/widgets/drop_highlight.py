"""A frame over the window while files are dragged onto it: this is where they can go."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QWidget

#: How long a drag may be between two watched widgets (a leave, then an enter) before the
#: highlight goes: it does not flicker while the pointer crosses the window.
LEAVE_GRACE_MS = 80


class DropHighlight(QWidget):
    """Covers its parent, lets every mouse event through, and paints a tinted frame with a
    line of text while :meth:`set_dragging` says files are over the window."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._area = parent
        self.setObjectName("dropHighlight")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.setInterval(LEAVE_GRACE_MS)
        self._hide_timer.timeout.connect(self.hide)
        parent.installEventFilter(self)
        self.hide()

    def set_dragging(self, dragging: bool) -> None:
        if dragging:
            self._hide_timer.stop()
            self.setGeometry(self._area.rect())
            self.raise_()
            self.show()
        else:
            self._hide_timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._area and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._area.rect())
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        tint = QColor(accent)
        tint.setAlpha(40)
        painter.fillRect(self.rect(), tint)
        painter.setPen(QPen(accent, 3, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(self.rect().adjusted(4, 4, -5, -5), 8, 8)
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        painter.setFont(font)
        text = self.tr("Drop images or folders to open them")
        # On a plate of the window's colour, so what lies under the frame does not show through.
        box = painter.fontMetrics().boundingRect(text).adjusted(-16, -10, 16, 10)
        box.moveCenter(self.rect().center())
        painter.setPen(QPen(accent, 2))
        painter.setBrush(self.palette().color(QPalette.ColorRole.Window))
        painter.drawRoundedRect(box, 8, 8)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
