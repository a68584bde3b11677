"""The Describe Folder dialog's group for caption files and reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from vldesk.core.batch import BatchOptions, CaptionMode, ReportPaths
from vldesk.core.batch.options import DEFAULT_CAPTION_EXTENSION

#: Report file names, in the chosen reports folder.
REPORT_NAME = "vldesk-captions"
#: (key, label, file suffix) of the report kinds.
REPORT_KINDS: tuple[tuple[str, str, str], ...] = (
    ("jsonl", "JSONL", ".jsonl"),
    ("csv", "CSV", ".csv"),
    ("markdown", "Markdown", ".md"),
)


class CaptionOutputsBox(QGroupBox):
    """The caption file's extension, what to do with an existing one, prefix and suffix, and
    which reports to write where: the same :class:`BatchOptions` fields as ``vldesk batch``'s
    ``--ext --mode --prefix --suffix --jsonl --csv --markdown``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        tr = self.tr
        self.setTitle(tr("Caption files and reports"))
        #: The image folder, where reports go unless another folder is entered.
        self.image_folder = ""
        self.extension_edit = QLineEdit(self)
        self.extension_edit.setAccessibleName(tr("Caption file extension"))
        self.extension_edit.setToolTip(tr("photo.jpg gets photo.txt with .txt; e.g. .caption"))
        self.extension_edit.setMaximumWidth(120)
        self.mode_buttons = QButtonGroup(self)
        self.mode_radios: dict[CaptionMode, QRadioButton] = {}
        modes_row = QVBoxLayout()
        modes_row.setSpacing(2)
        for mode, text in (
            (CaptionMode.SKIP, tr("S&kip the image")),
            (CaptionMode.OVERWRITE, tr("&Overwrite the file")),
            (CaptionMode.APPEND, tr("Appe&nd the new caption")),
        ):
            radio = QRadioButton(text, self)
            self.mode_radios[mode] = radio
            self.mode_buttons.addButton(radio)
            modes_row.addWidget(radio)
        self.prefix_edit = QLineEdit(self)
        self.prefix_edit.setAccessibleName(tr("Caption prefix"))
        self.prefix_edit.setPlaceholderText(tr("Optional, e.g. a trigger word and a comma"))
        self.suffix_edit = QLineEdit(self)
        self.suffix_edit.setAccessibleName(tr("Caption suffix"))
        self.suffix_edit.setPlaceholderText(tr("Optional"))

        self.report_checks: dict[str, QCheckBox] = {}
        reports_row = QHBoxLayout()
        for key, label, _suffix in REPORT_KINDS:
            check = QCheckBox(label, self)
            check.setAccessibleName(tr("Write a {0} report").format(label))
            self.report_checks[key] = check
            reports_row.addWidget(check)
        reports_row.addStretch(1)
        self.reports_edit = QLineEdit(self)
        self.reports_edit.setAccessibleName(tr("Reports folder"))
        self.reports_edit.setPlaceholderText(tr("The image folder"))
        self.reports_browse_button = QPushButton(tr("Bro&wse…"), self)
        self.reports_browse_button.setAccessibleName(tr("Choose the reports folder"))
        self.reports_browse_button.clicked.connect(self._browse_reports)
        reports_folder_row = QHBoxLayout()
        reports_folder_row.addWidget(self.reports_edit, 1)
        reports_folder_row.addWidget(self.reports_browse_button)

        form = QFormLayout(self)
        form.addRow(self._label(tr("E&xtension:"), self.extension_edit), self.extension_edit)
        form.addRow(tr("If a caption file exists:"), modes_row)
        form.addRow(self._label(tr("P&refix:"), self.prefix_edit), self.prefix_edit)
        form.addRow(self._label(tr("S&uffix:"), self.suffix_edit), self.suffix_edit)
        form.addRow(tr("Reports:"), reports_row)
        form.addRow(self._label(tr("Reports fo&lder:"), self.reports_edit), reports_folder_row)

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    def fill(self, previous: BatchOptions | None) -> None:
        """Start from an earlier job's choices (the defaults without one)."""
        if previous is None:
            self.extension_edit.setText(DEFAULT_CAPTION_EXTENSION)
            self.mode_radios[CaptionMode.SKIP].setChecked(True)
            return
        self.extension_edit.setText(previous.caption_extension)
        self.mode_radios[previous.mode].setChecked(True)
        self.prefix_edit.setText(previous.prefix)
        self.suffix_edit.setText(previous.suffix)
        reports = previous.reports
        saved = {"jsonl": reports.jsonl, "csv": reports.csv, "markdown": reports.markdown}
        for key, path in saved.items():
            self.report_checks[key].setChecked(path is not None)
            if path is not None and path.parent != previous.folder:
                self.reports_edit.setText(str(path.parent))

    def values(self, folder: Path) -> dict[str, Any]:
        """The :class:`BatchOptions` fields as chosen; reports go to ``folder`` by default."""
        mode = next(m for m, radio in self.mode_radios.items() if radio.isChecked())
        reports_dir = Path(self.reports_edit.text().strip() or folder).expanduser()
        paths = {
            key: reports_dir / f"{REPORT_NAME}{suffix}"
            if self.report_checks[key].isChecked()
            else None
            for key, _label, suffix in REPORT_KINDS
        }
        return {
            "caption_extension": self.extension_edit.text().strip() or DEFAULT_CAPTION_EXTENSION,
            "mode": mode,
            "prefix": self.prefix_edit.text(),
            "suffix": self.suffix_edit.text(),
            "reports": ReportPaths(paths["jsonl"], paths["csv"], paths["markdown"]),
        }

    def _browse_reports(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self,
            self.tr("Choose where the reports go"),
            self.reports_edit.text() or self.image_folder,
        )
        if chosen:
            self.reports_edit.setText(chosen)
