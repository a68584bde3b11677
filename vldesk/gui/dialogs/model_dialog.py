"""The model manager: download, resume, cancel, import, remove and choose a model."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from vldesk.core.errors import VldeskError
from vldesk.core.inference.cpu.quantized_weights import WeightFormat
from vldesk.core.inference.engine_choice import suggested_download
from vldesk.core.models.catalog import Precision, default_model
from vldesk.core.models.downloads import DownloadProgress
from vldesk.core.models.machine import Fit, total_memory_bytes
from vldesk.core.models.store import InstallState, ModelStore
from vldesk.core.units import format_bytes, format_duration
from vldesk.gui.i18n import error_text
from vldesk.gui.models.catalog_model import CatalogModel, ModelRow, collect_rows, hint_text
from vldesk.gui.models.gguf_rows import cpu_speed_text
from vldesk.gui.widgets.first_download import FirstDownloadPanel
from vldesk.gui.workers.download import DownloadWorker


def progress_text(progress: DownloadProgress) -> str:
    """``1.2 GB of 4.3 GB · 11.0 MB/s · 4m10s left · model.safetensors``"""
    translate = QCoreApplication.translate
    parts = [
        translate("ModelDialog", "{done} of {total}").format(
            done=format_bytes(progress.bytes_done), total=format_bytes(progress.bytes_total)
        )
    ]
    if progress.speed > 0:
        parts.append(f"{format_bytes(progress.speed)}/s")
    if progress.eta is not None:
        parts.append(
            translate("ModelDialog", "{time} left").format(time=format_duration(progress.eta))
        )
    if progress.current_file:
        parts.append(progress.current_file)
    return " · ".join(parts)


class ModelDialog(QDialog):
    """Lists the catalog with sizes and a fits-this-machine hint, and manages downloads.

    The download runs in a :class:`DownloadWorker`; closing the dialog does not stop it.

    Signals:
        model_chosen(str): a reference :meth:`ModelStore.resolve` accepts (catalog id or
            imported name), when the user picks an installed model.
    """

    model_chosen = Signal(str)
    #: The first run's panel picked another models folder (the app saves and uses it).
    models_folder_chosen = Signal(str)

    def __init__(
        self,
        store: ModelStore,
        worker: DownloadWorker,
        *,
        vram_bytes: int | None = None,
        cpu_precision: Precision = Precision.FLOAT32,
        cpu_weights: WeightFormat = WeightFormat.FULL,
        first_run: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._worker = worker
        #: A download's notice (e.g. the other ModelScope site is used), kept in view.
        self._notice: str | None = None
        self._ram = total_memory_bytes()
        self._vram = vram_bytes
        self._cpu_precision = cpu_precision
        self._cpu_weights = cpu_weights
        self.setWindowTitle(self.tr("Models"))
        self.setObjectName("modelDialog")
        self.resize(820, 460)

        intro = QLabel(
            self.tr(
                "No model is installed yet. Choose one to download (once; afterwards everything "
                "runs offline), or import a model folder you already have."
            )
            if first_run
            else self.tr("Download, import or choose the model vldesk answers with.")
        )
        intro.setWordWrap(True)
        self.first_download: FirstDownloadPanel | None = None
        # The GGUF version where llama.cpp is installed and the faster engine on this CPU.
        self._first_model = suggested_download(default_model())
        if first_run:
            self.first_download = FirstDownloadPanel(self._first_model, store.models_dir, self)
            self.first_download.download_requested.connect(self._download_default)
            self.first_download.folder_chosen.connect(self.models_folder_chosen)

        self.model = CatalogModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName(self.tr("Available models"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.doubleClicked.connect(lambda _index: self._use())

        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        #: What decode speed to expect on this kind of CPU, and the faster engine here.
        self.cpu_speed = QLabel(cpu_speed_text(), self)
        self.cpu_speed.setObjectName("cpuSpeed")
        self.cpu_speed.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName(self.tr("Download progress"))
        self.progress_label = QLabel(self)
        # Errors are long sentences (the offline one named both ModelScope sites): wrapped, they
        # no longer widen the dialog.
        self.progress_label.setWordWrap(True)
        self.progress.hide()
        self.progress_label.hide()

        self.download_button = QPushButton(self.tr("&Download"), self)
        self.cancel_button = QPushButton(self.tr("&Cancel download"), self)
        self.remove_button = QPushButton(self.tr("&Remove…"), self)
        self.import_button = QPushButton(self.tr("&Import folder…"), self)
        self.use_button = QPushButton(self.tr("&Use this model"), self)
        self.close_button = QPushButton(self.tr("Close"), self)
        self.use_button.setDefault(True)
        self.download_button.clicked.connect(self._download)
        self.cancel_button.clicked.connect(self._worker.cancel)
        self.remove_button.clicked.connect(self._remove)
        self.import_button.clicked.connect(self._import)
        self.use_button.clicked.connect(self._use)
        self.close_button.clicked.connect(self.reject)

        buttons = QHBoxLayout()
        for button in (self.download_button, self.cancel_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (self.import_button, self.use_button, self.close_button):
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        if self.first_download is not None:
            layout.addWidget(self.first_download)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.cpu_speed)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addLayout(buttons)

        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.refresh()
        self.table.selectRow(0)

    # -- state ---------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read what is on disk, keeping the selection."""
        selected = self.selected_row()
        self.model.set_rows(
            collect_rows(
                self._store,
                self._ram,
                self._vram,
                self._cpu_precision,
                cpu_weights=self._cpu_weights,
            )
        )
        if self._worker.model_id:
            self.model.set_progress(self._worker.model_id, self.progress.value() / 1000)
        if selected is not None:
            self.select(selected.ref)
        self._update_buttons()

    def select(self, ref: str) -> None:
        row = self.model.row_of(ref)
        if row >= 0:
            self.table.selectRow(row)

    def selected_row(self) -> ModelRow | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.model.row_at(rows[0].row()) if rows else None

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.selected_row()
        busy = self._worker.busy
        downloading_this = row is not None and self._worker.model_id == row.ref
        can_download = row is not None and row.spec is not None and not row.usable and not busy
        self.download_button.setEnabled(can_download)
        self.download_button.setText(
            self.tr("Resume &download")
            if row is not None and row.state in (InstallState.PARTIAL, InstallState.DAMAGED)
            else self.tr("&Download")
        )
        self.cancel_button.setEnabled(busy)
        self.remove_button.setEnabled(
            row is not None
            and not downloading_this
            and (row.imported or row.state is not InstallState.NOT_INSTALLED)
        )
        self.use_button.setEnabled(row is not None and row.usable)
        if row is None:
            self.details.clear()
            return
        lines = [row.summary]
        if row.hint is not None:
            lines.append(hint_text(row.hint))
        if row.problem:
            lines.append(row.problem)
        if row.path is not None and (row.usable or row.state is not InstallState.NOT_INSTALLED):
            lines.append(self.tr("Folder: {path}").format(path=row.path))
        self.details.setText("\n".join(lines))

    # -- actions -------------------------------------------------------------------------------

    def _download(self) -> None:
        row = self.selected_row()
        if row is None or row.spec is None:
            return
        if row.hint is not None and row.hint.fit is Fit.TOO_BIG:
            answer = QMessageBox.question(
                self,
                self.tr("Model may not fit"),
                self.tr("{hint}\n\nDownload it anyway?").format(hint=hint_text(row.hint)),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        if self._worker.start(row.spec):
            self.progress.setValue(0)
            self.progress.show()
            self.progress_label.setText(self.tr("Connecting to ModelScope…"))
            self.progress_label.show()
            self.model.set_progress(row.ref, 0.0)
        self._update_buttons()

    def _download_default(self) -> None:
        self.select(self._first_model.ref)
        self._download()

    def show_models_folder(self) -> None:
        """The store's models folder changed: list what is there, offer the download there."""
        if self.first_download is not None:
            self.first_download.set_folder(self._store.models_dir)
        self.refresh()

    def _remove(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        question = (
            self.tr("Forget the imported model “{name}”? Its folder is not deleted.")
            if row.imported
            else self.tr("Delete {name} ({size}) from this computer?")
        ).format(name=row.title, size=format_bytes(row.size_on_disk))
        if QMessageBox.question(self, self.tr("Remove model"), question) != (
            QMessageBox.StandardButton.Yes
        ):
            return
        try:
            self._store.remove(row.ref)
        except VldeskError as exc:
            QMessageBox.warning(self, self.tr("Remove model"), error_text(exc))
        self.refresh()

    def _import(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Import a model folder"))
        if folder:
            self.import_folder(Path(folder))

    def import_folder(self, folder: Path) -> bool:
        """Check and register ``folder``; say why when it is refused."""
        try:
            entry = self._store.import_folder(folder)
        except VldeskError as exc:
            QMessageBox.warning(self, self.tr("Import model"), error_text(exc))
            return False
        self.refresh()
        self.select(entry.name)
        return True

    def _use(self) -> None:
        row = self.selected_row()
        if row is not None and row.usable:
            self.model_chosen.emit(row.ref)
            self.accept()

    # -- worker signals ------------------------------------------------------------------------

    def _on_progress(self, progress: DownloadProgress) -> None:
        if progress.notice:
            # Said once (e.g. the other ModelScope site is used): kept in view until the end.
            self._notice = progress.notice
        self.progress.show()
        self.progress_label.show()
        self.progress.setValue(int(progress.fraction * 1000))
        self.progress_label.setText(self._with_notice(progress_text(progress)))
        self.model.set_progress(progress.model_id, progress.fraction)

    def _with_notice(self, text: str) -> str:
        return f"{text}\n{self._notice}" if self._notice else text

    def _finish(self, model_id: str, message: str) -> None:
        self.model.set_progress(model_id, None)
        self.progress.hide()
        self.progress_label.setText(self._with_notice(message))
        self._notice = None
        self.refresh()

    def _on_finished(self, model_id: str, _folder: str) -> None:
        self._finish(model_id, self.tr("{model} is ready.").format(model=model_id))
        self.select(model_id)

    def _on_failed(self, model_id: str, message: str) -> None:
        # The failure names every site it tried: the "trying the other site" notice would say
        # the same again under it.
        self._notice = None
        self._finish(model_id, message)

    def _on_cancelled(self, model_id: str) -> None:
        self._finish(
            model_id,
            self.tr("Download stopped. What was downloaded is kept: Resume continues it."),
        )
