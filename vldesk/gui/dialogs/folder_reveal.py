"""Show a folder in the file manager, or where it is when no file manager can open it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from vldesk.gui.dialogs.about_dialog import open_folder


class FolderPathMessage(QMessageBox):
    """The folder's path, selectable, with a button that copies it."""

    def __init__(self, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.setIcon(QMessageBox.Icon.Information)
        self.setWindowTitle(self.tr("Folder"))
        self.setText(self.tr("No file manager could open the folder. It is here:"))
        self.setInformativeText(str(folder))
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = self.addButton(self.tr("Copy Path"), QMessageBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_path)
        self.addButton(QMessageBox.StandardButton.Close)

    def copy_path(self) -> None:
        QGuiApplication.clipboard().setText(str(self.folder))


def reveal_folder(folder: Path, parent: QWidget | None = None) -> FolderPathMessage | None:
    """Open ``folder`` in the desktop's file manager; where that fails (none is installed),
    show its path with a Copy Path button (window-modal, not blocking) and return that."""
    if open_folder(folder):
        return None
    message = FolderPathMessage(folder, parent)
    message.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    message.open()
    return message
