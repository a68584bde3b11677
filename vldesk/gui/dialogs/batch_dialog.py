"""Describe a folder: which images, the prompt, generation settings, caption files and reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from enum import Enum
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vldesk.core.batch import BatchOptions, JobSummary, find_job
from vldesk.core.errors import VldeskError
from vldesk.core.generation import GenerationSettings
from vldesk.core.images import MIN_IMAGE_TOKENS
from vldesk.core.presets import Preset
from vldesk.gui.controllers.batch import BatchPlan
from vldesk.gui.dialogs.caption_outputs_box import CaptionOutputsBox
from vldesk.gui.dialogs.photo_outputs_box import PhotoOutputsBox
from vldesk.gui.dialogs.run_on_box import RunOnBox
from vldesk.gui.i18n import current_language, error_text

#: (label, extensions) of the image type check boxes.
IMAGE_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("JPEG", (".jpg", ".jpeg", ".jfif")),
    ("PNG", (".png",)),
    ("WebP", (".webp",)),
    ("GIF", (".gif",)),
    ("BMP", (".bmp",)),
    ("TIFF", (".tif", ".tiff")),
    ("PPM/PGM/TGA/ICO", (".ppm", ".pgm", ".tga", ".ico")),
)


class EarlierJob(str, Enum):
    """What to do with an earlier run of the same job."""

    RESUME = "resume"
    RETRY_FAILED = "retry_failed"
    START_OVER = "start_over"


def ask_about_earlier_job(parent: QWidget, job: JobSummary) -> EarlierJob | None:
    """Offer to continue an earlier run with the same options; ``None`` when the user backs out.

    An interrupted run is offered Resume or Start Over; a finished one with failures Retry
    Failed or Start Over; a finished one without failures Start Over only.
    """
    box = QMessageBox(parent)
    box.setObjectName("earlierJobBox")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(box.tr("Describe Folder"))
    when = datetime.fromtimestamp(job.updated).strftime("%Y-%m-%d %H:%M") if job.updated else ""
    counts = box.tr("{0} images done ({1} captioned, {2} failed, {3} skipped)").format(
        job.done, job.captioned, job.failed, job.skipped
    )
    choices: dict[object, EarlierJob] = {}
    if not job.finished:
        box.setText(box.tr("This folder was being described with these options and stopped."))
        box.setInformativeText(
            box.tr(
                "{0}, last active {1}. Resume it, or start over and describe every image again?"
            ).format(counts, when)
        )
        resume = box.addButton(box.tr("&Resume"), QMessageBox.ButtonRole.AcceptRole)
        choices[resume] = EarlierJob.RESUME
        box.setDefaultButton(resume)
    elif job.failed:
        box.setText(box.tr("This folder was already described with these options."))
        box.setInformativeText(
            box.tr("{0}, on {1}. Retry the failed images, or start over?").format(counts, when)
        )
        retry = box.addButton(box.tr("Retry &Failed"), QMessageBox.ButtonRole.AcceptRole)
        choices[retry] = EarlierJob.RETRY_FAILED
        box.setDefaultButton(retry)
    else:
        box.setText(box.tr("This folder was already described with these options."))
        box.setInformativeText(box.tr("{0}, on {1}. Describe it again?").format(counts, when))
    again = box.addButton(box.tr("&Start Over"), QMessageBox.ButtonRole.DestructiveRole)
    choices[again] = EarlierJob.START_OVER
    box.addButton(QMessageBox.StandardButton.Cancel)
    if job.finished and not job.failed:
        box.setDefaultButton(again)
    box.exec()
    return choices.get(box.clickedButton())


class BatchDialog(QDialog):
    """Collects a :class:`BatchPlan`; Start checks the options and for an earlier run of them.

    Args:
        model: The loaded model's reference (recorded with the job, part of its identity);
            with servers chosen in ``run_on``, the model they serve is recorded instead.
        model_name: How the model is shown.
        settings: The generation settings the batch starts from (sampling etc.).
        presets: Ready-made prompts (titled in the interface's language).
        folder: The folder to suggest when there is no earlier batch.
        previous: The options of the latest batch, to start from.
        batch_size: The batch size of the latest batch (``None``: automatic).
        run_on: Where the batch may run (this computer or servers); ``None``: this computer.
    """

    def __init__(
        self,
        *,
        model: str,
        model_name: str,
        settings: GenerationSettings,
        presets: Sequence[Preset],
        language: str,
        system_prompt: str = "",
        folder: Path | None = None,
        previous: BatchOptions | None = None,
        batch_size: int | None = None,
        parent: QWidget | None = None,
        run_on: RunOnBox | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("batchDialog")
        self.setWindowTitle(self.tr("Describe Folder"))
        self._model = model
        self._settings = settings
        self._presets = list(presets)
        self._language = language
        #: Set when Start succeeded.
        self.plan: BatchPlan | None = None
        tr = self.tr

        # -- images ----------------------------------------------------------------------------
        self.folder_edit = QLineEdit(self)
        self.folder_edit.setAccessibleName(tr("Folder"))
        self.folder_edit.setPlaceholderText(tr("The folder of images to describe"))
        self.browse_button = QPushButton(tr("&Browse…"), self)
        self.browse_button.setAccessibleName(tr("Choose the folder"))
        self.browse_button.clicked.connect(self._browse_folder)
        self.recursive_check = QCheckBox(tr("Include subfol&ders"), self)
        self.type_checks: list[tuple[QCheckBox, tuple[str, ...]]] = []
        types_row = QHBoxLayout()
        types_row.setSpacing(12)
        for label, extensions in IMAGE_TYPES:
            check = QCheckBox(label, self)
            check.setChecked(True)
            check.setToolTip(" ".join(extensions))
            check.setAccessibleName(tr("Include {0} images").format(label))
            self.type_checks.append((check, extensions))
            types_row.addWidget(check)
        types_row.addStretch(1)

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        images_box = QGroupBox(tr("Images"), self)
        images_form = QFormLayout(images_box)
        images_form.addRow(self._label(tr("&Folder:"), self.folder_edit), folder_row)
        images_form.addRow("", self.recursive_check)
        images_form.addRow(tr("Types:"), types_row)

        # -- prompt ----------------------------------------------------------------------------
        self.preset_combo = QComboBox(self)
        self.preset_combo.setAccessibleName(tr("Preset"))
        for preset in self._presets:  # titled in the interface's language, as the buttons
            self.preset_combo.addItem(preset.title(current_language()), preset.name)
        self.preset_combo.addItem(tr("Your own prompt"), "")
        self.prompt_edit = QPlainTextEdit(self)
        self.prompt_edit.setAccessibleName(tr("Prompt"))
        self.prompt_edit.setTabChangesFocus(True)
        self.prompt_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        self.prompt_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.prompt_edit.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.system_edit = QLineEdit(self)
        self.system_edit.setAccessibleName(tr("System prompt"))
        self.system_edit.setPlaceholderText(tr("Optional, e.g. “Answer in French.”"))
        prompt_box = QGroupBox(tr("Prompt"), self)
        prompt_form = QFormLayout(prompt_box)
        prompt_form.addRow(self._label(tr("Pr&eset:"), self.preset_combo), self.preset_combo)
        prompt_form.addRow(self._label(tr("&Prompt:"), self.prompt_edit), self.prompt_edit)
        prompt_form.addRow(self._label(tr("S&ystem prompt:"), self.system_edit), self.system_edit)

        # -- generation ------------------------------------------------------------------------
        self.max_tokens_spin = QSpinBox(self)
        self.max_tokens_spin.setRange(1, 32768)
        self.max_tokens_spin.setAccessibleName(tr("Maximum new tokens per caption"))
        self.image_tokens_spin = QSpinBox(self)
        self.image_tokens_spin.setRange(MIN_IMAGE_TOKENS, 16384)
        self.image_tokens_spin.setSingleStep(64)
        self.image_tokens_spin.setAccessibleName(tr("Image token budget"))
        self.image_tokens_spin.setToolTip(
            tr("More tokens keep more detail (small text) but describe more slowly.")
        )
        self.batch_size_spin = QSpinBox(self)
        self.batch_size_spin.setRange(0, 256)
        self.batch_size_spin.setSpecialValueText(tr("Auto"))
        self.batch_size_spin.setAccessibleName(tr("Batch size"))
        self.batch_size_spin.setToolTip(
            tr(
                "Images per model call. Auto chooses from free memory; 1 shows each caption as "
                "it is written and pauses at once."
            )
        )
        generation_box = QGroupBox(tr("Generation"), self)
        generation_form = QFormLayout(generation_box)
        generation_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        generation_form.addRow(
            self._label(tr("Max new &tokens:"), self.max_tokens_spin), self.max_tokens_spin
        )
        generation_form.addRow(
            self._label(tr("&Image token budget:"), self.image_tokens_spin), self.image_tokens_spin
        )
        generation_form.addRow(
            self._label(tr("B&atch size:"), self.batch_size_spin), self.batch_size_spin
        )
        model_note = QLabel(
            tr("Model: {0}. Sampling settings come from Settings.").format(model_name), self
        )
        model_note.setWordWrap(True)
        generation_form.addRow(model_note)

        self.outputs_box = CaptionOutputsBox(self)
        self.photo_outputs_box = PhotoOutputsBox(self)

        # -- bottom ----------------------------------------------------------------------------
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setAccessibleName(tr("Problem"))
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(self)
        self.start_button = self.buttons.addButton(
            tr("&Start"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.start_button.setAccessibleName(tr("Start describing the folder"))
        self.start_button.setDefault(True)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        # Two columns, what to describe and how on the left, where it goes on the right: one
        # column of every group is taller than a 768-pixel laptop screen.
        left = QVBoxLayout()
        left.addWidget(images_box)
        left.addWidget(prompt_box)
        left.addWidget(generation_box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.outputs_box)
        right.addWidget(self.photo_outputs_box)
        self.run_on = run_on
        if run_on is not None:
            run_on.setParent(self)
            right.addWidget(run_on)
        right.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

        self.preset_combo.currentIndexChanged.connect(self._preset_chosen)
        self.prompt_edit.textChanged.connect(self._prompt_edited)
        self.folder_edit.textChanged.connect(self._folder_edited)
        self._fill(previous, folder, system_prompt, batch_size)

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    # -- filling in ------------------------------------------------------------------------------

    def _fill(
        self,
        previous: BatchOptions | None,
        folder: Path | None,
        system_prompt: str,
        batch_size: int | None,
    ) -> None:
        settings = self._settings
        self.photo_outputs_box.fill(previous)
        self.outputs_box.fill(previous)
        if previous is None:
            self.folder_edit.setText(str(folder) if folder is not None else "")
            self.preset_combo.setCurrentIndex(0)
            self._preset_chosen(0)
            self.system_edit.setText(system_prompt)
            self.image_tokens_spin.setValue(settings.max_image_tokens)
            self.batch_size_spin.setValue(batch_size or 0)
            return
        self.folder_edit.setText(str(previous.folder))
        self.recursive_check.setChecked(previous.recursive)
        for check, extensions in self.type_checks:
            check.setChecked(any(ext in previous.types for ext in extensions))
        self.prompt_edit.setPlainText(previous.prompt)  # picks the preset it came from
        self.system_edit.setText(previous.system or "")
        self.max_tokens_spin.setValue(previous.settings.max_new_tokens)
        self.image_tokens_spin.setValue(previous.settings.max_image_tokens)
        self.batch_size_spin.setValue(batch_size or 0)

    def _preset_chosen(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        preset = next((p for p in self._presets if p.name == name), None)
        if preset is None:
            return
        self.prompt_edit.blockSignals(True)
        self.prompt_edit.setPlainText(preset.prompt(self._language))
        self.prompt_edit.blockSignals(False)
        self.max_tokens_spin.setValue(max(preset.max_new_tokens, 1))

    def _prompt_edited(self) -> None:
        text = self.prompt_edit.toPlainText().strip()
        match = next(
            (p.name for p in self._presets if p.prompt(self._language).strip() == text), ""
        )
        index = self.preset_combo.findData(match)
        self.preset_combo.blockSignals(True)
        self.preset_combo.setCurrentIndex(index)
        self.preset_combo.blockSignals(False)

    def _folder_edited(self, text: str) -> None:
        self.outputs_box.image_folder = text

    def _browse_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self, self.tr("Choose a folder of images"), self.folder_edit.text()
        )
        if chosen:
            self.folder_edit.setText(chosen)

    # -- the result ------------------------------------------------------------------------------

    def options(self) -> BatchOptions:
        """The options as entered.

        Raises:
            VldeskError: something entered cannot be used (the message says what).
        """
        text = self.folder_edit.text().strip()
        if not text:
            raise VldeskError(self.tr("Choose the folder of images to describe."))
        folder = Path(text).expanduser()
        if not folder.is_dir():
            raise VldeskError(self.tr("The folder {0} does not exist.").format(folder))
        types = tuple(ext for check, exts in self.type_checks if check.isChecked() for ext in exts)
        if not types:
            raise VldeskError(self.tr("Choose at least one image type."))
        prompt = self.prompt_edit.toPlainText().strip()
        if not prompt:
            raise VldeskError(self.tr("Enter a prompt, or choose a preset."))
        settings = replace(
            self._settings,
            max_new_tokens=self.max_tokens_spin.value(),
            max_image_tokens=self.image_tokens_spin.value(),
        )
        return BatchOptions(
            folder=folder,
            prompt=prompt,
            model=self._served_model() or self._model,
            settings=settings,
            system=self.system_edit.text().strip() or None,
            recursive=self.recursive_check.isChecked(),
            types=types,
            **self.outputs_box.values(folder),
            **self.photo_outputs_box.values(),
        )

    def _served_model(self) -> str | None:
        """The model the chosen servers serve; ``None`` on this computer.

        Raises:
            VldeskError: servers are chosen but were not checked yet.
        """
        if self.run_on is None or not self.run_on.uses_servers:
            return None
        model = self.run_on.served_model
        if model is None:
            raise VldeskError(
                self.tr("Check the servers first: the job uses the model they serve.")
            )
        return model

    @property
    def batch_size(self) -> int | None:
        return self.batch_size_spin.value() or None

    def accept(self) -> None:
        """Start: check the options; offer to resume an earlier run of the same job."""
        run_on = self.run_on
        if run_on is not None and run_on.uses_servers and run_on.served_model is None:
            self.error_label.hide()
            run_on.check(then=self.accept)  # the job is named after the served model
            return
        try:
            options = self.options()
            servers = run_on.target() if run_on is not None else None
        except VldeskError as exc:
            self._show_error(error_text(exc))
            return
        try:
            earlier = find_job(options)
        except VldeskError:  # an unreadable earlier run: starting afresh replaces it
            earlier = None
        resume = retry = False
        if earlier is not None and earlier.done:
            choice = ask_about_earlier_job(self, earlier)
            if choice is None:
                return
            resume = choice is not EarlierJob.START_OVER
            retry = choice is EarlierJob.RETRY_FAILED
        self.plan = BatchPlan(
            options,
            resume=resume,
            retry_failed=retry,
            batch_size=self.batch_size,
            servers=servers,
        )
        if run_on is not None:
            run_on.stop()
        super().accept()

    def done(self, result: int) -> None:
        if self.run_on is not None:
            self.run_on.stop()
        super().done(result)

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()
