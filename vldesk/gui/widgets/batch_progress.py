"""The progress of a folder batch: counts, speed, ETA, the caption streaming, failures, controls."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vldesk.core.batch import BatchEventKind, BatchProgress, BatchSummary
from vldesk.core.units import format_duration
from vldesk.gui.controllers.batch import BatchPlan, BatchState
from vldesk.gui.i18n import translated


class BatchProgressView(QWidget):
    """Shows one batch at a time; it holds no logic and only emits what the user asks for.

    Signals:
        pause_requested(): pause after the current caption.
        resume_requested(): go on after a pause, or continue a cancelled batch.
        cancel_requested(): stop; what is done is kept and the batch can be resumed.
        retry_requested(): run the failed images again.
        view_requested(Path): open the batch's folder in the image viewer.
    """

    pause_requested = Signal()
    resume_requested = Signal()
    cancel_requested = Signal()
    retry_requested = Signal()
    view_requested = Signal(Path)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchProgressView")
        self._folder: Path | None = None
        self._state = BatchState.IDLE
        self._can_continue = False
        self._can_retry = False
        self._last: BatchProgress | None = None
        self._last_image: str | None = None
        tr = self.tr

        self.title_label = QLabel(tr("No folder is being described."), self)
        bold = QFont(self.title_label.font())
        bold.setBold(True)
        self.title_label.setFont(bold)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title_label.setAccessibleName(tr("Batch"))

        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setAccessibleName(tr("Images done"))
        self.stats_label = QLabel(self)
        self.stats_label.setAccessibleName(tr("Speed and time left"))
        self.stats_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.current_label = QLabel(self)
        self.current_label.setAccessibleName(tr("Current image"))
        self.current_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption_view = QPlainTextEdit(self)
        self.caption_view.setReadOnly(True)
        self.caption_view.setAccessibleName(tr("Caption of the current image"))
        self.caption_view.setPlaceholderText(tr("Captions appear here as they are written."))
        self.caption_view.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.caption_view.setTabChangesFocus(True)
        self.caption_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.caption_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.failures_label = QLabel(tr("Failed images"), self)
        self.failures = QTreeWidget(self)
        self.failures.setColumnCount(2)
        self.failures.setHeaderLabels([tr("Image"), tr("Reason")])
        self.failures.setRootIsDecorated(False)
        self.failures.setUniformRowHeights(True)
        self.failures.setAccessibleName(tr("Failed images"))
        self.failures.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.failures.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.failures.header().setStretchLastSection(True)
        self.failures.setColumnWidth(0, 220)
        rows = self.fontMetrics().lineSpacing() + 4
        self.failures.setMinimumHeight(rows * 4)
        self.failures.setMaximumHeight(rows * 8)
        self.failures_label.setBuddy(self.failures)
        self.failures_label.hide()
        self.failures.hide()

        self.notice_label = QLabel(self)
        self.notice_label.setWordWrap(True)
        self.notice_label.setAccessibleName(tr("Batch notice"))
        self.notice_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice_label.hide()

        self.pause_button = QPushButton(tr("&Pause"), self)
        self.pause_button.setToolTip(tr("Pause after the current caption"))
        self.pause_button.setAccessibleName(tr("Pause the batch"))
        self.resume_button = QPushButton(tr("&Resume"), self)
        self.resume_button.setAccessibleName(tr("Resume the batch"))
        self.cancel_button = QPushButton(tr("C&ancel"), self)
        self.cancel_button.setToolTip(
            tr("Stop the batch. Finished captions are kept; it can be resumed later.")
        )
        self.cancel_button.setAccessibleName(tr("Cancel the batch"))
        self.retry_button = QPushButton(tr("Re&try Failed"), self)
        self.retry_button.setToolTip(tr("Describe the images that failed again"))
        self.retry_button.setAccessibleName(tr("Retry the failed images"))
        self.view_button = QPushButton(tr("View &Images"), self)
        self.view_button.setToolTip(tr("Browse the folder's images in the viewer"))
        self.view_button.setAccessibleName(tr("View the folder's images"))
        self.pause_button.clicked.connect(self.pause_requested)
        self.resume_button.clicked.connect(self.resume_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.retry_button.clicked.connect(self.retry_requested)
        self.view_button.clicked.connect(self._view)

        buttons = QHBoxLayout()
        for button in (self.pause_button, self.resume_button, self.cancel_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.view_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.stats_label)
        layout.addWidget(self.current_label)
        layout.addWidget(self.caption_view)
        layout.addWidget(self.failures_label)
        layout.addWidget(self.failures)
        layout.addWidget(self.notice_label)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self._update_buttons()

    # -- what the app tells it ---------------------------------------------------------------

    def begin(self, plan: BatchPlan) -> None:
        """A batch was started (or resumed, or its failures retried)."""
        self._folder = plan.options.folder
        self.title_label.setText(self._title(plan))
        self.progress_bar.setRange(0, 0)  # busy until the folder is scanned
        self._last = None
        self._last_image = None
        self.stats_label.setText(self.tr("Looking for images…"))
        self.current_label.clear()
        self.caption_view.clear()
        self.failures.clear()
        self._show_failures()
        self.notice_label.hide()
        self._can_continue = False
        self._can_retry = False
        self._update_buttons()

    def _title(self, plan: BatchPlan) -> str:
        folder = str(plan.options.folder)
        if plan.retry_failed:
            return self.tr("Retrying the failed images in {0}").format(folder)
        if plan.resume:
            return self.tr("Resuming {0}").format(folder)
        return self.tr("Describing {0}").format(folder)

    def show_progress(self, event: BatchProgress) -> None:
        kind = event.kind
        if event.total or kind is not BatchEventKind.WARNING:
            self._last = event
            self._show_counts(event)
        if kind is BatchEventKind.BATCH_STARTED and event.batch:
            if len(event.batch) == 1:
                self.current_label.setText(self.tr("Now: {0}").format(event.batch[0]))
            else:
                self.current_label.setText(
                    self.tr("Now: {0} images at once, from {1}").format(
                        len(event.batch), event.batch[0]
                    )
                )
        elif kind is BatchEventKind.CAPTION_TEXT and event.caption is not None:
            self.current_label.setText(self.tr("Now: {0}").format(event.image))
            self.caption_view.setPlainText(event.caption)
            bar = self.caption_view.verticalScrollBar()
            bar.setValue(bar.maximum())  # follow the text as it is written
        elif kind is BatchEventKind.IMAGE_DONE and event.caption is not None:
            self._last_image = event.image
            self.current_label.setText(self.tr("Last: {0}").format(event.image))
            self.caption_view.setPlainText(event.caption)
        elif kind is BatchEventKind.IMAGE_FAILED:
            self._add_failure(event.image or "", translated(event.error or ""))
        elif kind is BatchEventKind.WARNING and event.error:
            self._add_failure(self.tr("(warning)"), translated(event.error))

    def _show_counts(self, event: BatchProgress) -> None:
        total = max(event.total, 0)
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(min(event.done, max(total, 1)))
        self.progress_bar.setFormat(self.tr("{0} of {1}").format(event.done, total))
        parts = [self.tr("{0} of {1} images").format(event.done, total)]
        state = self._state_text()
        if state:
            parts.insert(0, state)
        # A paused batch has no speed and no time left: its last figures would be stale.
        running = self._state not in (
            BatchState.PAUSING,
            BatchState.PAUSED,
            BatchState.CANCELLING,
        )
        if event.images_per_minute and running:
            parts.append(self.tr("{0:.1f} images/min").format(event.images_per_minute))
        if event.eta_s is not None and event.done < total and running:
            parts.append(self.tr("about {0} left").format(format_duration(event.eta_s)))
        if event.failed:
            parts.append(self.tr("{0} failed").format(event.failed))
        if event.skipped:
            parts.append(self.tr("{0} skipped (caption file exists)").format(event.skipped))
        self.stats_label.setText("  ·  ".join(parts))

    def set_state(self, state: BatchState) -> None:
        self._state = state
        if self._last is not None:
            self._show_counts(self._last)
        self._update_buttons()

    def _state_text(self) -> str:
        return {
            BatchState.PAUSING: self.tr("Pausing after the current caption…"),
            BatchState.PAUSED: self.tr("Paused"),
            BatchState.CANCELLING: self.tr("Cancelling…"),
        }.get(self._state, "")

    def finish(self, summary: BatchSummary, *, can_continue: bool, can_retry: bool) -> None:
        """The batch ended: the final counts, every failure and what can be done next."""
        self.progress_bar.setRange(0, max(summary.total, 1))
        self.progress_bar.setValue(min(summary.done, max(summary.total, 1)))
        self.progress_bar.setFormat(self.tr("{0} of {1}").format(summary.done, summary.total))
        self.failures.clear()
        for image, reason in summary.failures:
            self._add_failure(image, translated(reason))
        for warning in summary.warnings:
            self._add_failure(self.tr("(warning)"), translated(warning))
        counts = self.tr("{0} captioned, {1} failed, {2} skipped of {3} images").format(
            summary.captioned, summary.failed, summary.skipped, summary.total
        )
        if summary.cancelled:
            title = self.tr("Cancelled")
            text = self.tr(
                "Cancelled: {0}. Finished captions are kept; Resume continues where it stopped."
            ).format(counts)
        else:
            title = self.tr("Finished")
            text = self.tr("Finished: {0} in {1}.").format(
                counts, format_duration(summary.elapsed_s)
            )
            if summary.failed:
                text += " " + self.tr("Retry Failed describes the failed images again.")
        if summary.reports:
            text += "\n" + self._reports_text(summary.reports)
        self.title_label.setText(
            self.tr("{0} — {1}").format(title, self._folder) if self._folder else title
        )
        self.current_label.setText(
            self.tr("Last caption: {0}").format(self._last_image) if self._last_image else ""
        )
        self._show_notice(text)
        self._state = BatchState.IDLE
        self.stats_label.setText(counts)
        self._can_continue = can_continue
        self._can_retry = can_retry
        self._update_buttons()

    def _reports_text(self, reports: tuple[Path, ...]) -> str:
        folders = {path.parent for path in reports}
        names = ", ".join(path.name for path in reports)
        if len(folders) == 1:
            return self.tr("Reports in {0}: {1}").format(folders.pop(), names)
        return self.tr("Reports: {0}").format(", ".join(str(path) for path in reports))

    def fail(self, message: str, *, can_continue: bool) -> None:
        """The batch could not start, or stopped on an error."""
        self.progress_bar.setRange(0, max(self.progress_bar.maximum(), 1))
        self.current_label.clear()
        text = self.tr("The batch stopped: {0}").format(message)
        if can_continue:
            text += " " + self.tr("What was done is kept; Resume tries again.")
        self._show_notice(text)
        self._state = BatchState.IDLE
        if self._last is not None:
            self._show_counts(self._last)
        self._can_continue = can_continue
        self._can_retry = False
        self._update_buttons()

    # -- inside --------------------------------------------------------------------------------

    @property
    def failure_rows(self) -> list[tuple[str, str]]:
        """(image, reason) of every row in the failures list."""
        rows = []
        for index in range(self.failures.topLevelItemCount()):
            item = self.failures.topLevelItem(index)
            if item is not None:
                rows.append((item.text(0), item.text(1)))
        return rows

    @property
    def notice(self) -> str:
        return self.notice_label.text() if not self.notice_label.isHidden() else ""

    def _add_failure(self, image: str, reason: str) -> None:
        item = QTreeWidgetItem([image, reason])
        item.setToolTip(1, reason)
        self.failures.addTopLevelItem(item)
        self._show_failures()

    def _show_failures(self) -> None:
        count = self.failures.topLevelItemCount()
        self.failures_label.setText(self.tr("Failed images ({0})").format(count))
        self.failures_label.setVisible(count > 0)
        self.failures.setVisible(count > 0)

    def _show_notice(self, text: str) -> None:
        self.notice_label.setText(text)
        self.notice_label.show()

    def _view(self) -> None:
        if self._folder is not None:
            self.view_requested.emit(self._folder)

    def _update_buttons(self) -> None:
        state = self._state
        self.pause_button.setEnabled(state is BatchState.RUNNING)
        paused = state in (BatchState.PAUSING, BatchState.PAUSED)
        self.resume_button.setEnabled(paused or (state is BatchState.IDLE and self._can_continue))
        self.resume_button.setToolTip(
            self.tr("Go on where the batch stopped")
            if paused or self._can_continue
            else self.tr("Resume a paused or cancelled batch")
        )
        self.cancel_button.setEnabled(
            state in (BatchState.RUNNING, BatchState.PAUSING, BatchState.PAUSED)
        )
        self.retry_button.setEnabled(state is BatchState.IDLE and self._can_retry)
        self.view_button.setEnabled(self._folder is not None)


class BatchStatusButton(QToolButton):
    """A status bar button that shows a running batch's progress; clicking shows the view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAutoRaise(True)
        self.setAccessibleName(self.tr("Folder batch progress"))
        self.setToolTip(self.tr("Show the folder batch"))
        self._state = BatchState.IDLE
        self._counts = ""
        self.hide()

    def set_state(self, state: BatchState) -> None:
        self._state = state
        if state is BatchState.IDLE:
            self.hide()
            self._counts = ""
            return
        self._render()
        self.show()

    def show_progress(self, event: BatchProgress) -> None:
        if event.total:
            self._counts = self.tr("{0} of {1}").format(event.done, event.total)
            self._render()

    def _render(self) -> None:
        what = {
            BatchState.PAUSING: self.tr("Pausing folder batch"),
            BatchState.PAUSED: self.tr("Folder batch paused"),
            BatchState.CANCELLING: self.tr("Cancelling folder batch"),
        }.get(self._state, self.tr("Describing folder"))
        self.setText(f"{what}: {self._counts}" if self._counts else what)
