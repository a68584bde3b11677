"""The folder batch as the window shows it: its dialog, the progress dock and status button."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QSettings, Qt, Slot
from PySide6.QtWidgets import QApplication

from vldesk.core.batch import BatchOptions, BatchProgress, BatchSummary
from vldesk.core.errors import VldeskError
from vldesk.core.inference.remote.saved import SavedServers
from vldesk.core.presets import PRESETS
from vldesk.core.settings import LastBatch
from vldesk.gui.controllers.batch import BatchController, BatchPlan, BatchState
from vldesk.gui.controllers.chat import ChatController
from vldesk.gui.controllers.history import HistoryController
from vldesk.gui.controllers.images import ImageController
from vldesk.gui.controllers.models import ModelController
from vldesk.gui.controllers.preferences import Preferences
from vldesk.gui.dialogs.batch_dialog import BatchDialog
from vldesk.gui.dialogs.run_on_box import RunOnBox
from vldesk.gui.i18n import translated
from vldesk.gui.main_window import MainWindow
from vldesk.gui.widgets.message_banner import Level

log = logging.getLogger(__name__)

#: Where versions before the settings file's ``last_batch`` kept it, in window.ini.
_LEGACY_OPTIONS_KEY = "batch/options"
_LEGACY_SIZE_KEY = "batch/batch_size"


def _tr(text: str) -> str:
    return QCoreApplication.translate("DesktopApp", text)


class BatchPanel(QObject):
    """Starts batches from File → Describe Folder and follows the :class:`BatchController`.

    The latest batch's options are kept in the settings file, to start the next one from;
    ``legacy`` is the window.ini where earlier versions kept them: read once, then removed.
    """

    def __init__(
        self,
        batch: BatchController,
        models: ModelController,
        chat: ChatController,
        images: ImageController,
        history: HistoryController,
        preferences: Preferences,
        window: MainWindow,
        legacy: QSettings,
        parent: QObject | None = None,
        *,
        saved_servers: SavedServers | None = None,
    ) -> None:
        super().__init__(parent)
        self._saved_servers = saved_servers
        self._batch = batch
        self._models = models
        self._chat = chat
        self._images = images
        self._history = history
        self._preferences = preferences
        self._window = window
        self._move_legacy_options(legacy)
        self._dialog: BatchDialog | None = None
        #: The app is closing: the end of the batch is not announced.
        self.closing = False
        panel = window.prompt_panel
        self._prompt_hints = (panel.prompt_edit.placeholderText(), panel.send_button.toolTip())

        view = window.batch_view
        view.pause_requested.connect(batch.pause)
        view.resume_requested.connect(self._resume)
        view.cancel_requested.connect(batch.cancel)
        view.retry_requested.connect(self._retry_failed)
        view.view_requested.connect(lambda folder: images.open_paths([str(folder)]))
        window.batch_status.clicked.connect(window.show_batch_view)
        window.describe_folder_action.triggered.connect(lambda: self.open_dialog())
        batch.started.connect(self._on_started)
        batch.progress.connect(self._on_progress)
        batch.state_changed.connect(self._on_state)
        batch.finished.connect(self._on_finished)
        batch.failed.connect(self._on_failed)

    def _model_id(self) -> str | None:
        """The loaded model as batch jobs record it (a folder by its absolute path, as the CLI)."""
        ref = self._models.ref
        info = self._models.info
        if info is not None and info.server is not None:
            return info.name  # a served model, as `vldesk batch --server` records it
        if ref is None or info is None:
            return None
        return str(Path(ref).resolve()) if Path(ref).is_absolute() else ref

    def open_dialog(self) -> BatchDialog | None:
        """File → Describe Folder: the dialog, or the progress view while a batch runs."""
        if self._batch.running:
            self._window.show_batch_view()
            return None
        model = self._model_id()
        info = self._models.info
        if (model is None or info is None) and self._saved_servers is None:
            self._window.show_message(
                _tr(
                    "Load a model first: folders are described with the loaded model (Model menu)."
                ),
                Level.INFO,
            )
            return None
        if self._dialog is not None:
            return self._dialog
        previous, batch_size = self._last_batch()
        current = self._images.sequence.current
        dialog = BatchDialog(
            model=model or "",
            model_name=info.name if info is not None else _tr("the model the servers serve"),
            settings=self._chat.generation_settings(),
            presets=PRESETS,
            language=self._preferences.settings.preset_language,
            system_prompt=self._window.prompt_panel.system_prompt(),
            folder=current.parent if current is not None else None,
            previous=previous,
            batch_size=batch_size,
            parent=self._window,
            run_on=self._run_on_box(),
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._on_dialog_accepted)
        dialog.finished.connect(self._on_dialog_closed)
        self._dialog = dialog
        dialog.open()
        return dialog

    def _run_on_box(self) -> RunOnBox | None:
        """This computer or servers: the connected server, else the latest batch's servers."""
        saved = self._saved_servers
        if saved is None:
            return None
        info = self._models.info
        server = self._models.server
        local = info.name if info is not None and server is None else None
        return RunOnBox(
            saved,
            local_model=local,
            servers=[server] if server is not None else saved.batch_servers(),
            use_servers=server is not None,
        )

    @Slot()
    def _on_dialog_accepted(self) -> None:
        dialog = self._dialog
        plan = dialog.plan if dialog is not None else None
        if plan is None:
            return
        if plan.servers is not None and self._saved_servers is not None:
            try:
                self._saved_servers.remember(*plan.servers.urls, batch=True)
            except VldeskError as exc:
                log.warning("the batch's servers are not remembered: %s", exc)
        self._preferences.remember(last_batch=LastBatch(plan.options, plan.batch_size))
        self._batch.start(plan)

    @Slot(int)
    def _on_dialog_closed(self, _result: int) -> None:
        self._dialog = None

    def _last_batch(self) -> tuple[BatchOptions | None, int | None]:
        """The options and batch size of the latest batch started here, to start from."""
        last = self._preferences.settings.last_batch
        if last is None:
            return None, None
        return last.options, last.batch_size

    def _move_legacy_options(self, legacy: QSettings) -> None:
        """Earlier versions kept the last batch in window.ini: move it to the settings file."""
        if not legacy.contains(_LEGACY_OPTIONS_KEY):
            return
        if self._preferences.settings.last_batch is None:
            try:
                options = BatchOptions.from_dict(
                    json.loads(str(legacy.value(_LEGACY_OPTIONS_KEY, "")))
                )
                batch_size = int(str(legacy.value(_LEGACY_SIZE_KEY, 0))) or None
                self._preferences.remember(last_batch=LastBatch(options, batch_size))
            except (VldeskError, ValueError, TypeError, AttributeError) as exc:
                log.info("ignoring the last batch options in window.ini: %s", exc)
        legacy.remove(_LEGACY_OPTIONS_KEY)
        legacy.remove(_LEGACY_SIZE_KEY)
        legacy.sync()

    def _same_model(self) -> bool:
        plan = self._batch.plan
        if plan is not None and (
            plan.servers is not None or plan.options.model == self._model_id()
        ):
            return True  # servers travel with the plan: no local model is needed
        self._window.show_message(
            _tr("This batch was started with {0}: load it again to continue the batch.").format(
                plan.options.model if plan is not None else "?"
            ),
            Level.INFO,
        )
        return False

    def _resume(self) -> None:
        """Resume after a pause, or continue a batch that was cancelled or stopped."""
        batch = self._batch
        if batch.state in (BatchState.PAUSING, BatchState.PAUSED):
            batch.resume()
        elif batch.can_continue and self._same_model():
            batch.continue_job()

    def _retry_failed(self) -> None:
        if self._batch.can_retry_failed and self._same_model():
            self._batch.retry_failed()

    # -- batch signals -----------------------------------------------------------------------

    @Slot(object)
    def _on_started(self, plan: BatchPlan) -> None:
        self._window.batch_view.begin(plan)
        self._window.show_batch_view()

    @Slot(object)
    def _on_progress(self, event: BatchProgress) -> None:
        self._window.batch_view.show_progress(event)
        self._window.batch_status.show_progress(event)

    @Slot(object)
    def _on_state(self, state: BatchState) -> None:
        w = self._window
        w.batch_view.set_state(state)
        w.batch_status.set_state(state)
        panel = w.prompt_panel
        placeholder, tip = self._prompt_hints
        if not self._batch.holds_model:  # idle, or on servers: the local model answers
            panel.prompt_edit.setPlaceholderText(placeholder)
            panel.send_button.setToolTip(tip)
        else:
            busy = _tr(
                "The model is busy describing a folder: questions can be asked again when the "
                "batch finishes or is cancelled. Images can still be viewed."
            )
            panel.prompt_edit.setPlaceholderText(busy)
            panel.send_button.setToolTip(busy)
        self._chat.update_can_ask()

    @Slot(object)
    def _on_finished(self, summary: BatchSummary) -> None:
        batch = self._batch
        self._window.batch_view.finish(
            summary, can_continue=batch.can_continue, can_retry=batch.can_retry_failed
        )
        self._history.refresh()
        if self.closing:
            return
        folder = batch.plan.options.folder.name if batch.plan is not None else ""
        if summary.found_no_images and not summary.cancelled and summary.warnings:
            # Not "finished: 0 captioned": there was nothing to do, and the warning says why.
            self._window.show_message(translated(summary.warnings[-1]), Level.WARNING)
            return
        if summary.cancelled:
            text = _tr("Describing {0} was cancelled: {1} of {2} images done.").format(
                folder, summary.done, summary.total
            )
        else:
            text = _tr("Finished describing {0}: {1} captioned, {2} failed, {3} skipped.").format(
                folder, summary.captioned, summary.failed, summary.skipped
            )
        self._window.show_message(text, Level.INFO, [(_tr("Show"), self._window.show_batch_view)])
        QApplication.alert(self._window)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._window.batch_view.fail(message, can_continue=self._batch.can_continue)
        self._history.refresh()
        if not self.closing:
            self._window.show_batch_view()
            self._window.show_message(_tr("Describing the folder stopped: {0}").format(message))
