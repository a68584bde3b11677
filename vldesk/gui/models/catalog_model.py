"""A table of the catalog and imported models with their state on this machine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from vldesk.core.inference.cpu.quantized_weights import WeightFormat
from vldesk.core.models.catalog import CATALOG, ModelSpec, Precision
from vldesk.core.models.machine import Fit, FitHint, fit_hint
from vldesk.core.models.store import InstallState, ModelStore
from vldesk.core.units import format_bytes
from vldesk.gui.i18n import mark_translatable
from vldesk.gui.models.gguf_rows import show_gguf_rows, variant_rows, variant_summary

Index = QModelIndex | QPersistentModelIndex


def _tr(text: str) -> str:
    return QCoreApplication.translate("CatalogModel", text)


#: The catalog's one-line summaries, for translation (a test keeps them in step with the catalog).
CATALOG_SUMMARIES = (
    mark_translatable("Catalog", "Small, fast and good at OCR: the default, runs on most laptops."),
    mark_translatable(
        "Catalog", "Noticeably better descriptions and reasoning; wants 16 GB of RAM on CPU."
    ),
    mark_translatable("Catalog", "The most capable; best on a GPU with 24 GB."),
    mark_translatable("Catalog", "The previous generation, well tested; strong at documents."),
    mark_translatable("Catalog", "The previous generation's large model."),
    mark_translatable("Catalog", "Tiny and quick: short captions on modest machines."),
    mark_translatable("Catalog", "Newest small model with hybrid linear attention."),
)


def hint_text(hint: FitHint) -> str:
    """A fit hint in the interface language (the core's text is English)."""
    if hint.fit is Fit.UNKNOWN or not hint.weights:
        return _tr("Memory size unknown.")
    figures = {
        "need": format_bytes(hint.need_bytes),
        "precision": hint.weights,
        "have": format_bytes(hint.have_bytes),
    }
    if hint.on_gpu:
        texts = {
            Fit.TOO_BIG: _tr("Too big: needs ~{need} ({precision}) of {have} GPU memory."),
            Fit.TIGHT: _tr(
                "Tight: needs ~{need} ({precision}) of {have} GPU memory; close other programs."
            ),
            Fit.FITS: _tr("Fits: needs ~{need} ({precision}) of {have} GPU memory."),
        }
    else:
        texts = {
            Fit.TOO_BIG: _tr("Too big: needs ~{need} ({precision}) of {have} RAM."),
            Fit.TIGHT: _tr(
                "Tight: needs ~{need} ({precision}) of {have} RAM; close other programs."
            ),
            Fit.FITS: _tr("Fits: needs ~{need} ({precision}) of {have} RAM."),
        }
    return texts[hint.fit].format(**figures)


@dataclass(frozen=True)
class ModelRow:
    """One line of the table: a catalog entry or an imported folder, as plain data."""

    ref: str
    title: str
    summary: str
    download_bytes: int | None
    state: InstallState
    size_on_disk: int
    hint: FitHint | None
    spec: ModelSpec | None = None
    path: Path | None = None
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.state is InstallState.INSTALLED

    @property
    def imported(self) -> bool:
        return self.spec is None


def collect_rows(
    store: ModelStore,
    ram: int | None,
    vram: int | None,
    cpu_precision: Precision = Precision.FLOAT32,
    all_gguf: bool | None = None,
    cpu_weights: WeightFormat = WeightFormat.FULL,
) -> list[ModelRow]:
    """Read the state of every catalog model and imported folder (local files only); memory
    fit against ``vram`` when the model runs on a GPU, else ``ram`` at ``cpu_precision`` with
    ``cpu_weights``.

    GGUF variants follow their model: every quantization where ``all_gguf`` (by default, where
    llama.cpp is installed and faster on this CPU), else those on disk."""
    rows = []
    show_all = show_gguf_rows() if all_gguf is None else all_gguf
    for spec in CATALOG:
        status = store.status(spec)
        rows.append(
            ModelRow(
                ref=spec.id,
                title=spec.display_name + (_tr(" (default)") if spec.default else ""),
                summary=QCoreApplication.translate("Catalog", spec.summary),
                download_bytes=spec.download_bytes,
                state=status.state,
                size_on_disk=status.size_on_disk,
                hint=fit_hint(spec, ram, vram, cpu_precision, cpu_weights=cpu_weights),
                spec=spec,
                path=status.path,
                problem=status.problem,
            )
        )
        for variant, state, size, problem, hint in variant_rows(
            store, spec, ram, vram, cpu_precision, show_all
        ):
            rows.append(
                ModelRow(
                    ref=variant.ref,
                    title=variant.display_name + _tr(" (llama.cpp)"),
                    summary=variant_summary(variant),
                    download_bytes=variant.download_bytes,
                    state=state,
                    size_on_disk=size,
                    hint=hint,
                    spec=variant,
                    path=store.folder_for(variant),
                    problem=problem,
                )
            )
    for entry in store.imported():
        rows.append(
            ModelRow(
                ref=entry.name,
                title=entry.name,
                summary=_tr("Imported from {path}").format(path=entry.path),
                download_bytes=None,
                state=InstallState.INSTALLED,
                size_on_disk=0,
                hint=None,
                path=entry.path,
            )
        )
    return rows


class CatalogModel(QAbstractTableModel):
    """Columns: model, download size, fits this machine?, state on disk."""

    COLUMNS = (
        mark_translatable("CatalogModel", "Model"),
        mark_translatable("CatalogModel", "Download"),
        mark_translatable("CatalogModel", "This machine"),
        mark_translatable("CatalogModel", "State"),
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ModelRow] = []
        self._progress: dict[str, float] = {}

    def set_rows(self, rows: list[ModelRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> ModelRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, ref: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.ref == ref), -1)

    def set_progress(self, ref: str, fraction: float | None) -> None:
        """Show a running download's percentage in the State column (``None`` clears it)."""
        if fraction is None:
            self._progress.pop(ref, None)
        else:
            self._progress[ref] = fraction
        row = self.row_of(ref)
        if row >= 0:
            cell = self.index(row, 3)
            self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DisplayRole])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.COLUMNS)
        ):
            return _tr(self.COLUMNS[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 2 and row.hint is not None:
                return hint_text(row.hint)
            if column == 3 and row.problem:
                return row.problem
            return row.summary
        if role == Qt.ItemDataRole.UserRole:
            return row.ref
        return None

    def _display(self, row: ModelRow, column: int) -> str:
        if column == 0:
            return row.title
        if column == 1:
            return format_bytes(row.download_bytes) if row.download_bytes else "—"
        if column == 2:
            if row.hint is None:
                return "—"
            return {
                Fit.FITS: _tr("Fits"),
                Fit.TIGHT: _tr("Tight"),
                Fit.TOO_BIG: _tr("Too big"),
                Fit.UNKNOWN: _tr("Unknown"),
            }[row.hint.fit]
        if row.ref in self._progress:
            return _tr("Downloading {percent:.0f}%").format(percent=self._progress[row.ref] * 100)
        if row.imported:
            return _tr("Imported")
        if row.state is InstallState.PARTIAL and row.download_bytes:
            share = min(99.0, 100 * row.size_on_disk / row.download_bytes)
            return _tr("Partial ({percent:.0f}%)").format(percent=share)
        return {
            InstallState.INSTALLED: _tr("Installed"),
            InstallState.NOT_INSTALLED: _tr("Not downloaded"),
            InstallState.PARTIAL: _tr("Partial"),
            InstallState.DAMAGED: _tr("Damaged"),
        }[row.state]
