"""A readable error dialog with the technical details behind a button and a way to copy them."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)


class ErrorDialog(QDialog):
    """Says what went wrong in one sentence, where the log is, and offers the details."""

    def __init__(
        self,
        message: str,
        details: str,
        log_file: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("vldesk — unexpected error"))
        self._details_text = details

        icon = QLabel(self)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(size)
        )
        self.message_label = QLabel(message, self)
        self.message_label.setWordWrap(True)
        self.message_label.setAccessibleName(self.tr("Error message"))
        hint = self.tr("vldesk keeps running; your settings and history are untouched.")
        if log_file is not None:
            hint += " " + self.tr("The details were written to {0}.").format(log_file)
        hint_label = QLabel(hint, self)
        hint_label.setWordWrap(True)

        self.details = QPlainTextEdit(details, self)
        self.details.setReadOnly(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setAccessibleName(self.tr("Error details"))
        self.details.setVisible(False)
        self.details.setMinimumHeight(200)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton(self.tr("Copy details"), self)
        self.copy_button.setAccessibleName(self.tr("Copy the error details"))
        self.show_button = QPushButton(self.tr("Show details"), self)
        self.show_button.setCheckable(True)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.show_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_details)
        self.show_button.toggled.connect(self.details.setVisible)
        buttons.rejected.connect(self.reject)

        text = QVBoxLayout()
        text.addWidget(self.message_label)
        text.addWidget(hint_label)
        top = QHBoxLayout()
        top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
        self.resize(560, 200)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self._details_text)
