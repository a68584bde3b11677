"""A folder setting: the path, editable, and a button to browse for it."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget


class FolderField(QWidget):
    """Shows ``folder``; empty text means ``placeholder`` (the default folder)."""

    def __init__(
        self, folder: str | None, placeholder: str, title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._title = title
        self.edit = QLineEdit(folder or "", self)
        self.edit.setPlaceholderText(placeholder)
        self.edit.setAccessibleName(title)
        self.edit.setClearButtonEnabled(True)
        self.browse_button = QPushButton(self.tr("&Browse…"), self)
        self.browse_button.clicked.connect(self._browse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.browse_button)

    def folder(self) -> str | None:
        """The chosen folder, or ``None`` for the default."""
        return self.edit.text().strip() or None

    def _browse(self) -> None:
        start = self.folder() or self.edit.placeholderText()
        chosen = QFileDialog.getExistingDirectory(self, self._title, start)
        if chosen:
            self.edit.setText(chosen)
