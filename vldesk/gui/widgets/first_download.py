"""The first run's offer: download the default model into a folder the user can change."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPushButton, QWidget

from vldesk.core.models.catalog import ModelSpec
from vldesk.core.models.files import free_space
from vldesk.core.units import format_bytes


class FirstDownloadPanel(QWidget):
    """One button that says what it downloads, how big it is, where it goes and how much room
    is there; another to choose the folder.

    Signals:
        download_requested(): the big button was pressed.
        folder_chosen(str): the user picked another models folder.
    """

    download_requested = Signal()
    folder_chosen = Signal(str)

    def __init__(self, spec: ModelSpec, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._spec = spec
        self._folder = folder
        self.download_button = QPushButton(self)
        self.download_button.setObjectName("firstDownloadButton")
        self.download_button.setDefault(True)
        bold = QFont(self.download_button.font())
        bold.setBold(True)
        self.download_button.setFont(bold)  # the one thing to do on a first run
        self.folder_button = QPushButton(self.tr("Choose &folder…"), self)
        self.folder_button.setToolTip(self.tr("Keep the models in another folder or disk"))
        self.download_button.clicked.connect(self.download_requested)
        self.folder_button.clicked.connect(self._choose_folder)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.download_button, 1)
        layout.addWidget(self.folder_button)
        self.set_folder(folder)

    def set_folder(self, folder: Path) -> None:
        """Show where the download goes, measuring the free space there again."""
        self._folder = folder
        free = free_space(folder)
        # A deep folder is shortened in the middle; the tool tip has all of it.
        shown = self.fontMetrics().elidedText(str(folder), Qt.TextElideMode.ElideMiddle, 320)
        values = {
            "model": self._spec.display_name,
            "size": format_bytes(self._spec.download_bytes),
            "folder": shown,
        }
        if free is None:
            text = self.tr("Download {model} ({size}) to {folder}").format(**values)
        else:
            text = self.tr("Download {model} ({size}) to {folder}, {free} free").format(
                free=format_bytes(free), **values
            )
        self.download_button.setText(text)
        self.download_button.setAccessibleName(text)
        self.download_button.setToolTip(str(folder))
        # Too little room: still offered (the download says so precisely), but not the default.
        self.download_button.setDefault(free is None or free > self._spec.download_bytes)

    @property
    def folder(self) -> Path:
        return self._folder

    def _choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self, self.tr("Choose the models folder"), str(self._folder)
        )
        if chosen:
            self.folder_chosen.emit(chosen)
