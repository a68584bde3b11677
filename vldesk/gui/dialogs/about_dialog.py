"""About vldesk: versions of everything that matters, where files live and the models' disk use."""

from __future__ import annotations

from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Qt, QThreadPool, QUrl, Signal, qVersion
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vldesk import __version__
from vldesk.core.models.store import ModelStore
from vldesk.core.paths import AppPaths
from vldesk.core.units import format_bytes
from vldesk.core.versions import component_versions


class _SizeRelay(QObject):
    """Carries the result of the size count from the pool thread to the GUI thread."""

    counted = Signal(object)


class AboutDialog(QDialog):
    """Versions (read from package metadata: torch is not imported for this), the folders
    vldesk uses, and how much disk the models take (counted on a pool thread)."""

    def __init__(self, paths: AppPaths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About vldesk"))
        self.setObjectName("aboutDialog")
        self._paths = paths
        tr = self.tr

        title = QLabel(f"<h2>vldesk {__version__}</h2>", self)
        tagline = QLabel(
            tr("Understand images offline with local Qwen vision-language models."), self
        )
        tagline.setWordWrap(True)

        qt = qVersion()
        self.versions = [
            (name, version if name != "PySide6" else pyside_version)
            for name, version in component_versions(qt)
        ]
        versions_box = QGroupBox(tr("Versions"), self)
        versions_form = QFormLayout(versions_box)
        for name, version in self.versions:
            label = {"CUDA": tr("CUDA (PyTorch build)"), "OS": tr("Operating system")}.get(
                name, name
            )
            versions_form.addRow(f"{label}:", self._value(version, label))

        places_box = QGroupBox(tr("Where files are stored"), self)
        places_form = QFormLayout(places_box)
        self.places = [
            (tr("Settings"), paths.settings_file),
            (tr("History"), paths.history_db),
            (tr("Logs"), paths.log_dir),
            (tr("Models"), paths.models_dir),
        ]
        for name, path in self.places:
            places_form.addRow(tr("{0}:").format(name), self._value(str(path), name))
        self.disk_use = self._value(tr("counting…"), tr("Disk space the models use"))
        places_form.addRow(tr("Models use:"), self.disk_use)

        self.open_data_button = QPushButton(tr("Open &Data Folder"), self)
        self.open_data_button.setToolTip(tr("Show the folder with the history in a file manager"))
        self.open_data_button.clicked.connect(lambda: open_folder(self._paths.data_dir))
        self.open_models_button = QPushButton(tr("Open &Models Folder"), self)
        self.open_models_button.setToolTip(tr("Show the downloaded models in a file manager"))
        self.open_models_button.clicked.connect(lambda: open_folder(self._paths.models_dir))
        self.copy_button = QPushButton(tr("&Copy Details"), self)
        self.copy_button.setToolTip(tr("Copy versions and folders, e.g. for a bug report"))
        self.copy_button.clicked.connect(self.copy_details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        for button in (self.open_data_button, self.open_models_button, self.copy_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(tagline)
        layout.addWidget(versions_box)
        layout.addWidget(places_box)
        layout.addLayout(row)

        # The pool is a child: destroying the dialog waits for the count to end.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _SizeRelay(self)
        self._relay.counted.connect(self._show_disk_use)
        # The store's count: imported folders live elsewhere, the models folder lists them only.
        relay, store = self._relay, ModelStore(paths.models_dir)
        self._pool.start(lambda: relay.counted.emit(store.disk_use()))

    def _value(self, text: str, name: str) -> QLabel:
        label = QLabel(text, self)
        label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        label.setAccessibleName(name)
        return label

    def _show_disk_use(self, size: object) -> None:
        self.disk_use.setText(format_bytes(int(size)) if isinstance(size, int) else "–")

    def wait_for_disk_use(self, msecs: int = 10_000) -> bool:
        return bool(self._pool.waitForDone(msecs))

    def details(self) -> str:
        """Plain text of everything shown, for bug reports."""
        lines = [f"{name}: {version}" for name, version in self.versions]
        lines += [f"{name}: {path}" for name, path in self.places]
        lines.append(f"{self.tr('Models use:')} {self.disk_use.text()}")
        return "\n".join(lines)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details())


def open_folder(folder: Path) -> bool:
    """Show ``folder`` in the desktop's file manager (created first, so it can be shown)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))
