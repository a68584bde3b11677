"""An inline message strip for problems the user should see but need not dismiss a dialog for."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QToolButton,
    QWidget,
)

#: A button on the banner: its label and what it does.
BannerAction = tuple[str, Callable[[], None]]


class Level(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_ICONS = {
    Level.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
    Level.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Level.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
}


class MessageBanner(QFrame):
    """Icon, text, optional action buttons and a close button; colours come from the palette."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.level = Level.INFO
        self._icon = QLabel(self)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName(self.tr("Message"))
        self._actions: list[QPushButton] = []
        self._close = QToolButton(self)
        self._close.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        self._close.setAutoRaise(True)
        self._close.setToolTip(self.tr("Dismiss"))
        self._close.setAccessibleName(self.tr("Dismiss the message"))
        self._close.clicked.connect(self.hide)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 4, 4)
        self._layout.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        self._layout.addWidget(self.label, 1)
        self._layout.addWidget(self._close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(
        self,
        text: str,
        level: Level = Level.ERROR,
        actions: list[BannerAction] | None = None,
    ) -> None:
        """Show ``text``; each action is a (button label, callback) and hides the banner."""
        self.level = level
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self._icon.setPixmap(self.style().standardIcon(_ICONS[level]).pixmap(size, size))
        self.label.setText(text)
        for button in self._actions:
            self._layout.removeWidget(button)
            button.deleteLater()
        self._actions = []
        for label, callback in actions or []:
            button = QPushButton(label, self)
            button.clicked.connect(self.hide)
            button.clicked.connect(callback)
            self._layout.insertWidget(
                self._layout.count() - 1, button, 0, Qt.AlignmentFlag.AlignTop
            )
            self._actions.append(button)
        self.show()

    @property
    def text(self) -> str:
        return self.label.text()

    @property
    def action_buttons(self) -> list[QPushButton]:
        return list(self._actions)
