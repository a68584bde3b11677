"""The composition root: builds settings, stores, workers, models and the window; wires them."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QSettings, QStandardPaths, Qt, QUrl, Slot
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QDockWidget, QFileDialog, QMessageBox

from vldesk.core.batch import BatchOptions, BatchProgress, BatchSummary
from vldesk.core.errors import VldeskError
from vldesk.core.export import ExportEntry, export_entries, render_markdown
from vldesk.core.generation import GenerationResult, GenerationSettings, StopReason
from vldesk.core.history import ConversationSummary, HistoryStore, StoredConversation
from vldesk.core.images import IMAGE_EXTENSIONS
from vldesk.core.inference.device import expected_cpu_precision
from vldesk.core.inference.engine import EngineLoader, LoadRequest, load_engine
from vldesk.core.models.catalog import Precision
from vldesk.core.models.store import ModelStore
from vldesk.core.paths import AppPaths, app_paths
from vldesk.core.presets import PRESETS, get_preset
from vldesk.core.settings import Settings, load_settings, save_settings
from vldesk.gui.controllers.batch import BatchController, BatchPlan, BatchState
from vldesk.gui.dialogs.about_dialog import AboutDialog, open_folder
from vldesk.gui.dialogs.batch_dialog import BatchDialog
from vldesk.gui.dialogs.model_dialog import ModelDialog
from vldesk.gui.dialogs.settings_dialog import SettingsDialog
from vldesk.gui.dialogs.shortcuts_dialog import ShortcutsDialog
from vldesk.gui.exporting import ask_export_path, conversation_entry, export_stem
from vldesk.gui.main_window import MainWindow
from vldesk.gui.model_choice import menu_ref, model_entries, no_model_text
from vldesk.gui.models.history_model import HistoryListModel
from vldesk.gui.navigation import ImageSequence
from vldesk.gui.session import ChatSession, SessionImage
from vldesk.gui.widgets.answer_view import Exchange
from vldesk.gui.widgets.batch_progress import BatchProgressView, BatchStatusButton
from vldesk.gui.widgets.file_drop import local_files
from vldesk.gui.widgets.message_banner import BannerAction, Level
from vldesk.gui.widgets.status_panel import format_bytes
from vldesk.gui.workers.download import DownloadWorker
from vldesk.gui.workers.image_loader import DecodedImage, ImageLoader
from vldesk.gui.workers.inference import InferenceClient, ModelLoadedInfo

log = logging.getLogger(__name__)

#: The smallest image budget a retry after running out of memory goes down to.
MIN_RETRY_IMAGE_TOKENS = 64
#: How long closing the app waits for a cancelled download to stop (its thread is a daemon).
DOWNLOAD_STOP_S = 5.0


def _tr(text: str) -> str:
    return QCoreApplication.translate("DesktopApp", text)


class DesktopApp(QObject):
    """Owns every part of the running app; the only place that knows all of them.

    Args:
        paths: Where settings, history, logs and models live (default: :func:`app_paths`).
        settings: Start with these settings instead of reading the settings file (tests).
        engine_loader: How the inference worker loads a model (tests put a stand-in here).
    """

    def __init__(
        self,
        paths: AppPaths | None = None,
        *,
        settings: Settings | None = None,
        engine_loader: EngineLoader = load_engine,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        base = paths or app_paths()
        self.settings = settings if settings is not None else load_settings(base.settings_file)
        self.paths = (paths or app_paths(self.settings.models_dir)).ensure()
        self.store = ModelStore(self.paths.models_dir)
        self._closed = False
        self._model_ref: str | None = None
        self._model_info: ModelLoadedInfo | None = None
        self._restore: tuple[int, StoredConversation] | None = None
        self._retry_after_load: GenerationSettings | None = None
        self._device_override: str | None = None
        self._stream_started: float | None = None
        self._current_image: DecodedImage | None = None
        self._offering_retry = False
        #: A model load was asked for and has not finished (or failed) yet.
        self._loading = False
        self._model_dialog: ModelDialog | None = None
        self._batch_dialog: BatchDialog | None = None

        self.history: HistoryStore | None = None
        history_problem = None
        try:
            self.history = HistoryStore(self.paths.history_db)
        except VldeskError as exc:
            history_problem = str(exc)
            log.error("history unavailable: %s", exc)

        self.inference = InferenceClient(self, load_engine=engine_loader)
        try:
            self._build()
        except BaseException:
            self.inference.shut_down()  # never leave the worker thread running
            raise
        if history_problem:
            self.show_message(
                _tr("History is not available: {0}").format(history_problem), Level.WARNING
            )

    def _build(self) -> None:
        self.images = ImageLoader(self)
        self.history_model = HistoryListModel(self._history_page, parent=self)
        self.session = ChatSession(self.inference, self.history, self)
        self.sequence = ImageSequence()
        self.window = MainWindow()
        self.window.history_panel.set_model(self.history_model)
        self.downloads = DownloadWorker(self.store, self)
        self.batch = BatchController(
            self.inference, self.paths.history_db if self.history is not None else None, self
        )
        self.window.prompt_panel.set_presets(PRESETS, self.settings.preset_language)
        self.window.prompt_panel.set_system_prompt(self.settings.system_prompt)
        self._layout_settings = QSettings(
            str(self.paths.config_dir / "window.ini"), QSettings.Format.IniFormat
        )
        self._restore_layout()
        self._build_batch()
        self._wire()
        self._refresh_models_menu()
        self._refresh_recent_files()
        self.history_model.refresh()
        self._update_can_ask()
        self._show_placeholder()

    # -- wiring ------------------------------------------------------------------------------

    def _wire(self) -> None:
        w = self.window
        w.files_dropped.connect(self.open_paths)
        w.closing.connect(self.shut_down)
        w.open_action.triggered.connect(lambda: self.open_image_dialog())
        w.paste_action.triggered.connect(self.paste)
        w.next_action.triggered.connect(lambda: self.step_image(1))
        w.previous_action.triggered.connect(lambda: self.step_image(-1))
        w.export_answer_action.triggered.connect(lambda: self.export_answer())
        w.export_conversation_action.triggered.connect(lambda: self.export_conversation())
        w.export_history_action.triggered.connect(lambda: self.export_history())
        w.settings_action.triggered.connect(self.open_settings)
        w.quit_action.triggered.connect(w.close)
        w.copy_answer_action.triggered.connect(w.answer_view.copy_answer)
        w.copy_conversation_action.triggered.connect(self.copy_conversation)
        w.copy_alt_text_action.triggered.connect(w.answer_view.copy_alt_text)
        w.new_conversation_action.triggered.connect(self.session.new_conversation)
        w.focus_prompt_action.triggered.connect(
            lambda: w.prompt_panel.prompt_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        )
        w.zoom_in_action.triggered.connect(w.viewer.zoom_in)
        w.zoom_out_action.triggered.connect(w.viewer.zoom_out)
        w.fit_action.triggered.connect(w.viewer.fit_to_window)
        w.actual_size_action.triggered.connect(w.viewer.actual_size)
        w.viewer.zoom_changed.connect(lambda _zoom: self._update_image_info())
        w.search_history_action.triggered.connect(self._focus_history_search)
        w.model_group.triggered.connect(self._model_chosen)
        w.open_model_folder_action.triggered.connect(lambda: self.open_model_folder())
        w.reload_model_action.triggered.connect(self._reload_model)
        w.unload_model_action.triggered.connect(self.unload_model)
        w.manage_models_action.triggered.connect(lambda: self.open_model_dialog())
        w.describe_folder_action.triggered.connect(lambda: self.open_batch_dialog())
        self.downloads.finished.connect(self._on_download_finished)
        w.about_action.triggered.connect(self._about)
        w.shortcuts_action.triggered.connect(self._show_shortcuts)
        w.open_data_folder_action.triggered.connect(lambda: open_folder(self.paths.data_dir))
        w.open_log_folder_action.triggered.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.paths.log_dir)))
        )
        w.answer_view.copied.connect(
            lambda _text: w.statusBar().showMessage(_tr("Copied to the clipboard."), 3000)
        )

        panel = w.prompt_panel
        panel.preset_clicked.connect(self.ask_preset)
        panel.prompt_submitted.connect(self.ask)
        panel.stop_requested.connect(self.session.stop)
        panel.prompt_edit.image_pasted.connect(self.paste)
        panel.prompt_edit.textChanged.connect(self._read_ahead)

        history = w.history_panel
        history.search_changed.connect(self.history_model.reload)
        history.open_requested.connect(self.open_history_entry)
        history.delete_requested.connect(self.delete_history_entries)
        history.export_requested.connect(lambda ids: self.export_history(ids))

        self.images.loaded.connect(self._on_image_loaded)
        self.images.failed.connect(self._on_image_failed)

        worker = self.inference.worker
        worker.model_loading.connect(self._on_model_loading)
        worker.model_loaded.connect(self._on_model_loaded)
        worker.model_failed.connect(self._on_model_failed)
        worker.model_unloaded.connect(self._on_model_unloaded)
        worker.token_count.connect(self._on_token_count)

        s = self.session
        s.answer_started.connect(self._on_answer_started)
        s.answer_text.connect(w.answer_view.append_text)
        s.answer_finished.connect(self._on_answer_finished)
        s.answer_failed.connect(self._on_answer_failed)
        s.out_of_memory.connect(self._on_out_of_memory)
        s.busy_changed.connect(panel.set_busy)
        s.busy_changed.connect(lambda _busy: self._update_actions())
        s.conversation_reset.connect(w.answer_view.clear)
        s.conversation_reset.connect(self._update_actions)
        s.history_changed.connect(self._refresh_history)
        s.history_error.connect(
            lambda text: self.show_message(
                _tr("The answer could not be saved to history: {0}").format(text), Level.WARNING
            )
        )

    # -- start-up and shutdown ---------------------------------------------------------------

    def start(self, paths: Sequence[str] = ()) -> None:
        """After the window is shown: load the model in the background, open given images."""
        self.load_initial_model()
        if self._model_ref is None:  # nothing to load: offer to download or import one
            self.open_model_dialog(first_run=True)
        if paths:
            self.open_paths(list(paths))

    def shut_down(self) -> None:
        """Save window state, stop the workers and close history; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._save_layout()
        self._remember(system_prompt=self.window.prompt_panel.system_prompt())
        self.downloads.cancel()  # partial files are kept: the next download resumes them
        self.inference.shut_down()  # cancels a folder batch too; it stays resumable
        # The stopped answer's result is still queued for this thread: deliver it now, so
        # what was on screen is saved to history before it closes.
        QCoreApplication.sendPostedEvents()
        self.images.wait_for_done()
        self.history_model.wait_for_thumbnails()
        if not self.downloads.wait(DOWNLOAD_STOP_S):
            log.warning("the download did not stop within %s s", DOWNLOAD_STOP_S)
        if self.history is not None:
            self.history.close()

    def wait_for_background_work(self) -> None:
        """After :meth:`shut_down`, once the window is gone: wait for a model load that was
        still reading weights (it cannot be interrupted; its model is thrown away)."""
        if self.inference.worker_thread.isRunning():
            log.info("waiting for the model load to return before exiting")
        self.inference.wait_until_stopped()

    def _restore_layout(self) -> None:
        stored = self._layout_settings
        self.window.restore_layout(
            stored.value("geometry"), stored.value("state"), stored.value("splitter")
        )

    def _save_layout(self) -> None:
        geometry, state, splitter = self.window.save_layout()
        self._layout_settings.setValue("geometry", geometry)
        self._layout_settings.setValue("state", state)
        self._layout_settings.setValue("splitter", splitter)
        self._layout_settings.sync()

    # -- settings ----------------------------------------------------------------------------

    def _remember(self, **changes: object) -> None:
        """Change and save settings; a failed save is reported but never loses the old file."""
        updated = self.settings.replace(**changes)
        if updated == self.settings:
            return
        self.settings = updated
        try:
            save_settings(self.settings, self.paths.settings_file)
        except VldeskError as exc:
            self.show_message(str(exc), Level.WARNING)

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self._model_entries(), self.window)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        self.apply_settings(dialog.settings())

    def apply_settings(self, new: Settings) -> None:
        old = self.settings
        self._remember(**{name: getattr(new, name) for name in _EDITABLE})
        if new.preset_language != old.preset_language:
            self.window.prompt_panel.set_presets(PRESETS, new.preset_language)
        if new.ui_language != old.ui_language:
            self.show_message(
                _tr("The new interface language is used from the next start of vldesk."),
                Level.INFO,
            )
        new_ref = new.last_model or new.model
        old_ref = old.last_model or old.model
        loading = (new_ref, new.device, new.dtype, new.weights)
        if loading != (old_ref, old.device, old.dtype, old.weights):
            self._device_override = None
            self.load_model(new_ref)

    # -- messages ----------------------------------------------------------------------------

    def show_message(
        self, text: str, level: Level = Level.ERROR, actions: list[BannerAction] | None = None
    ) -> None:
        """An inline message in the window (never a traceback); also logged."""
        log.log(logging.WARNING if level is Level.ERROR else logging.INFO, "message: %s", text)
        self.window.banner.show_message(text, level, actions)

    def _show_placeholder(self) -> None:
        view = self.window.answer_view
        if self._model_ref is None and self._model_info is None:
            view.set_placeholder(no_model_text())
        elif self._model_info is None:
            view.set_placeholder(_tr("*Loading the model…*"))
        elif self._current_image is not None:
            view.set_placeholder(
                _tr(
                    "Choose a preset below, or type a question about the image and press "
                    "**Enter**. Follow-up questions continue the conversation."
                )
            )
        else:
            view.set_placeholder(
                _tr(
                    "Open an image (**Ctrl+O**), drop one on the window or paste one "
                    "(**Ctrl+V**), then choose a preset or ask a question."
                )
            )

    # -- models ------------------------------------------------------------------------------

    def _model_entries(self) -> list[tuple[str, str]]:
        return model_entries(self.store, self._model_ref)

    def _menu_ref(self) -> str | None:
        return menu_ref(self.store, self._model_ref)

    def _refresh_models_menu(self) -> None:
        self.window.set_model_entries(self._model_entries(), self._menu_ref())

    def load_initial_model(self) -> None:
        """Load the model used last time; else the configured one; else any installed one."""
        wanted = self.settings.last_model or self.settings.model
        try:
            self.store.resolve(wanted)
        except VldeskError as exc:
            installed = self._model_entries()
            if not installed:
                log.info("no model at start-up: %s", exc)
                self.window.answer_view.set_placeholder(no_model_text(str(exc)))
                return
            wanted = installed[0][1]
        self.load_model(wanted)

    def load_model(self, ref: str) -> bool:
        """Resolve ``ref`` (catalog id, imported name or folder) and load it in the background."""
        if self._batch_blocks():
            return False
        try:
            folder = self.store.resolve(ref)
        except VldeskError as exc:
            self.show_message(str(exc))
            if self._model_info is None:
                self.window.answer_view.set_placeholder(no_model_text(str(exc)))
            return False
        self.session.stop()
        self._model_ref = ref
        name = Path(ref).name if Path(ref).is_absolute() else ref
        device = self._device_override or self.settings.device
        self.inference.load_model(
            LoadRequest(folder, name, device, self.settings.dtype, self.settings.weights)
        )
        self._loading = True
        self._refresh_models_menu()
        return True

    def unload_model(self) -> None:
        if not self._batch_blocks():
            self.inference.unload_model()

    def _reload_model(self) -> None:
        if self._model_ref is not None:
            self.load_model(self._model_ref)
        else:
            self.load_initial_model()

    @Slot(QAction)
    def _model_chosen(self, action: QAction) -> None:
        ref = action.data()
        if isinstance(ref, str) and (ref != self._model_ref or self._model_info is None):
            self._device_override = None
            self.load_model(ref)

    def open_model_folder(self, folder: Path | None = None) -> bool:
        """Use a local model folder (checked first); it is remembered in the Model menu."""
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(
                self.window, _tr("Choose a model folder"), str(Path.home())
            )
            if not chosen:
                return False
            folder = Path(chosen)
        check = self.store.validate_model_folder(folder)
        if not check.ok:
            self.show_message(
                _tr("{0} cannot be used as a model: {1}").format(folder, check.reason)
            )
            return False
        ref = str(folder.resolve())
        try:
            ref = self.store.import_folder(folder).name
        except VldeskError as exc:  # e.g. the name is taken: load it by path instead
            log.info("not registering %s: %s", folder, exc)
        self._device_override = None
        return self.load_model(ref)

    @Slot(str)
    def _on_model_loading(self, name: str) -> None:
        self._model_info = None
        self.session.set_model(None)
        self.window.status_panel.set_loading(name)
        self.window.load_progress.setVisible(True)
        self.window.statusBar().showMessage(_tr("Loading {0}…").format(name))
        self._show_placeholder()
        self._update_can_ask()

    @Slot(object)
    def _on_model_loaded(self, info: ModelLoadedInfo) -> None:
        self._model_info = info
        self._loading = False
        self.session.set_model(info.name)
        w = self.window
        w.load_progress.setVisible(False)
        w.status_panel.set_model(info.name, info.device, info.dtype, info.reason, info.weights)
        w.status_panel.set_memory(info.memory_bytes)
        w.statusBar().showMessage(
            _tr("{0} is ready ({1:.1f} s).").format(info.name, info.load_seconds), 5000
        )
        if self._model_ref is not None:
            self._remember(last_model=self._model_ref)
            self._register_folder(self._model_ref)
        self._refresh_models_menu()
        self._show_placeholder()
        self._update_can_ask()
        if self._retry_after_load is not None:
            settings, self._retry_after_load = self._retry_after_load, None
            self.session.retry(settings)

    def _register_folder(self, ref: str) -> None:
        """A folder loaded by path joins the Model menu (as Model → Open Model Folder does)."""
        folder = Path(ref)
        if not folder.is_absolute() or self._menu_ref() != ref:
            return
        try:
            self.store.import_folder(folder)
        except VldeskError as exc:
            log.info("not registering %s: %s", folder, exc)

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        self._model_info = None
        self._loading = False
        self._retry_after_load = None
        self.session.set_model(None)
        self.window.load_progress.setVisible(False)
        self.window.status_panel.set_model(None)
        self.window.statusBar().clearMessage()
        self.show_message(message)
        self.window.answer_view.set_placeholder(no_model_text(message))
        self._update_can_ask()

    @Slot()
    def _on_model_unloaded(self) -> None:
        self._model_info = None
        self.session.set_model(None)
        self.window.status_panel.set_model(None)
        self.window.status_panel.set_memory(None)
        self.window.statusBar().showMessage(_tr("The model was unloaded."), 5000)
        self._update_can_ask()

    # -- model manager -----------------------------------------------------------------------

    def open_model_dialog(self, *, first_run: bool = False) -> ModelDialog:
        """Show the model manager, not modal; a download goes on when it is closed."""
        dialog = self._model_dialog
        if dialog is None:
            vram, cpu_precision = self._memory_basis()
            dialog = ModelDialog(
                self.store,
                self.downloads,
                vram_bytes=vram,
                cpu_precision=cpu_precision,
                first_run=first_run,
                parent=self.window,
            )
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.model_chosen.connect(self._use_managed_model)
            dialog.finished.connect(self._on_model_dialog_closed)
            self._model_dialog = dialog
        if dialog.isVisible():  # asked for again: bring it to the front
            dialog.raise_()
            dialog.activateWindow()
        dialog.show()
        return dialog

    def _memory_basis(self) -> tuple[int | None, Precision]:
        """What the model manager compares models with: the memory of the GPU a model runs
        on, else RAM at the precision the CPU runs (the loaded model's, or the one the
        settings will pick)."""
        info = self._model_info
        if info is not None and info.device_total_bytes:
            return info.device_total_bytes, Precision.BFLOAT16
        if info is not None:  # the CPU, or Apple's GPU, which shares the RAM
            return None, Precision(info.dtype)
        return None, expected_cpu_precision(self.settings.dtype)

    @Slot(int)
    def _on_model_dialog_closed(self, _result: int) -> None:
        self._model_dialog = None
        self._refresh_models_menu()  # models may have been imported or removed

    @Slot(str)
    def _use_managed_model(self, ref: str) -> None:
        """Load a model chosen in the model manager and make it the configured model."""
        self._device_override = None
        if self.load_model(ref):
            self._remember(model=ref, last_model=ref)

    @Slot(str, str)
    def _on_download_finished(self, model_id: str, _folder: str) -> None:
        self._refresh_models_menu()
        if self._closed or self._model_info is not None or self._loading:
            self.window.statusBar().showMessage(
                _tr("{0} is downloaded; choose it in the Model menu.").format(model_id), 8000
            )
            return
        self._use_managed_model(model_id)  # nothing was loaded: use it right away

    # -- folder batch --------------------------------------------------------------------------

    def _build_batch(self) -> None:
        """The batch progress dock (hidden until a batch starts) and its status bar button."""
        w = self.window
        self.batch_view = BatchProgressView()
        self.batch_dock = QDockWidget(_tr("Folder Batch"), w)
        self.batch_dock.setObjectName("BatchDock")
        self.batch_dock.setWidget(self.batch_view)
        w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.batch_dock)
        self.batch_dock.hide()
        toggle = self.batch_dock.toggleViewAction()
        toggle.setText(_tr("Folder &Batch"))
        toggle.setStatusTip(_tr("Show the progress of describing a folder"))
        w.view_menu.addAction(toggle)
        self.batch_status = BatchStatusButton(w)
        w.statusBar().addPermanentWidget(self.batch_status)
        panel = w.prompt_panel
        self._prompt_hints = (panel.prompt_edit.placeholderText(), panel.send_button.toolTip())

        view = self.batch_view
        view.pause_requested.connect(self.batch.pause)
        view.resume_requested.connect(self._resume_batch)
        view.cancel_requested.connect(self.batch.cancel)
        view.retry_requested.connect(self._retry_failed_batch)
        view.view_requested.connect(lambda folder: self.open_paths([str(folder)]))
        self.batch_status.clicked.connect(self.show_batch_view)
        self.batch.started.connect(self._on_batch_started)
        self.batch.progress.connect(self._on_batch_progress)
        self.batch.state_changed.connect(self._on_batch_state)
        self.batch.finished.connect(self._on_batch_finished)
        self.batch.failed.connect(self._on_batch_failed)

    def show_batch_view(self) -> None:
        dock = self.batch_dock
        if dock.isHidden() and not dock.isFloating():
            # As tall as it needs, but never more than about half the window.
            height = min(self.batch_view.sizeHint().height(), self.window.height() // 2)
            dock.show()
            self.window.resizeDocks([dock], [height], Qt.Orientation.Vertical)
        dock.show()
        dock.raise_()

    def _batch_model_id(self) -> str | None:
        """The loaded model as batch jobs record it (a folder by its absolute path, as the CLI)."""
        ref = self._model_ref
        if ref is None or self._model_info is None:
            return None
        return str(Path(ref).resolve()) if Path(ref).is_absolute() else ref

    def open_batch_dialog(self) -> BatchDialog | None:
        """File → Describe Folder: the dialog, or the progress view while a batch runs."""
        if self.batch.running:
            self.show_batch_view()
            return None
        model = self._batch_model_id()
        if model is None or self._model_info is None:
            self.show_message(
                _tr(
                    "Load a model first: folders are described with the loaded model (Model menu)."
                ),
                Level.INFO,
            )
            return None
        if self._batch_dialog is not None:
            return self._batch_dialog
        previous, batch_size = self._last_batch()
        current = self.sequence.current
        dialog = BatchDialog(
            model=model,
            model_name=self._model_info.name,
            settings=self.generation_settings(),
            presets=PRESETS,
            language=self.settings.preset_language,
            system_prompt=self.window.prompt_panel.system_prompt(),
            folder=current.parent if current is not None else None,
            previous=previous,
            batch_size=batch_size,
            parent=self.window,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._on_batch_dialog_accepted)
        dialog.finished.connect(self._on_batch_dialog_closed)
        self._batch_dialog = dialog
        dialog.open()
        return dialog

    @Slot()
    def _on_batch_dialog_accepted(self) -> None:
        dialog = self._batch_dialog
        plan = dialog.plan if dialog is not None else None
        if plan is None:
            return
        stored = self._layout_settings
        stored.setValue("batch/options", json.dumps(plan.options.to_dict(), ensure_ascii=False))
        stored.setValue("batch/batch_size", plan.batch_size or 0)
        self.batch.start(plan)

    @Slot(int)
    def _on_batch_dialog_closed(self, _result: int) -> None:
        self._batch_dialog = None

    def _last_batch(self) -> tuple[BatchOptions | None, int | None]:
        """The options and batch size of the latest batch started here, to start from."""
        stored = self._layout_settings
        try:
            options = BatchOptions.from_dict(json.loads(str(stored.value("batch/options", ""))))
            batch_size = int(str(stored.value("batch/batch_size", 0)))
        except (VldeskError, ValueError, TypeError, AttributeError):
            return None, None
        return options, batch_size or None

    def _batch_blocks(self) -> bool:
        """While a batch runs the worker serves only it: say so and refuse."""
        if not self.batch.running:
            return False
        self.show_message(
            _tr(
                "The model is busy describing a folder. Cancel the batch or wait for it to "
                "finish, then try again."
            ),
            Level.INFO,
        )
        self._refresh_models_menu()  # undo the menu's check mark
        return True

    def _same_batch_model(self) -> bool:
        plan = self.batch.plan
        if plan is not None and plan.options.model == self._batch_model_id():
            return True
        self.show_message(
            _tr("This batch was started with {0}: load it again to continue the batch.").format(
                plan.options.model if plan is not None else "?"
            ),
            Level.INFO,
        )
        return False

    def _resume_batch(self) -> None:
        """Resume after a pause, or continue a batch that was cancelled or stopped."""
        if self.batch.state in (BatchState.PAUSING, BatchState.PAUSED):
            self.batch.resume()
        elif self.batch.can_continue and self._same_batch_model():
            self.batch.continue_job()

    def _retry_failed_batch(self) -> None:
        if self.batch.can_retry_failed and self._same_batch_model():
            self.batch.retry_failed()

    @Slot(object)
    def _on_batch_started(self, plan: BatchPlan) -> None:
        self.batch_view.begin(plan)
        self.show_batch_view()

    @Slot(object)
    def _on_batch_progress(self, event: BatchProgress) -> None:
        self.batch_view.show_progress(event)
        self.batch_status.show_progress(event)

    @Slot(object)
    def _on_batch_state(self, state: BatchState) -> None:
        self.batch_view.set_state(state)
        self.batch_status.set_state(state)
        panel = self.window.prompt_panel
        placeholder, tip = self._prompt_hints
        if state is BatchState.IDLE:
            panel.prompt_edit.setPlaceholderText(placeholder)
            panel.send_button.setToolTip(tip)
        else:
            busy = _tr(
                "The model is busy describing a folder: questions can be asked again when the "
                "batch finishes or is cancelled. Images can still be viewed."
            )
            panel.prompt_edit.setPlaceholderText(busy)
            panel.send_button.setToolTip(busy)
        self._update_can_ask()

    @Slot(object)
    def _on_batch_finished(self, summary: BatchSummary) -> None:
        batch = self.batch
        self.batch_view.finish(
            summary, can_continue=batch.can_continue, can_retry=batch.can_retry_failed
        )
        self._refresh_history()
        if self._closed:
            return
        folder = batch.plan.options.folder.name if batch.plan is not None else ""
        if summary.cancelled:
            text = _tr("Describing {0} was cancelled: {1} of {2} images done.").format(
                folder, summary.done, summary.total
            )
        else:
            text = _tr("Finished describing {0}: {1} captioned, {2} failed, {3} skipped.").format(
                folder, summary.captioned, summary.failed, summary.skipped
            )
        self.show_message(text, Level.INFO, [(_tr("Show"), self.show_batch_view)])
        QApplication.alert(self.window)

    @Slot(str)
    def _on_batch_failed(self, message: str) -> None:
        self.batch_view.fail(message, can_continue=self.batch.can_continue)
        self._refresh_history()
        if not self._closed:
            self.show_batch_view()
            self.show_message(_tr("Describing the folder stopped: {0}").format(message))

    # -- images ------------------------------------------------------------------------------

    def open_image_dialog(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in IMAGE_EXTENSIONS)
        start = str(self.sequence.current.parent) if self.sequence.current else ""
        files, _filter = QFileDialog.getOpenFileNames(
            self.window,
            _tr("Open Image"),
            start
            or QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation),
            _tr("Images ({0});;All files (*)").format(patterns),
        )
        if files:
            self.open_paths(files)

    @Slot(list)
    def open_paths(self, paths: list[str]) -> None:
        """Open dropped or chosen files or folders; the first image is shown."""
        first, skipped = self.sequence.open(paths)
        if skipped:
            names = ", ".join(p.name for p in skipped[:5]) + ("…" if len(skipped) > 5 else "")
            self.show_message(
                _tr("Not image files, skipped: {0}").format(names),
                Level.WARNING if first is not None else Level.ERROR,
            )
        if first is None:
            if not skipped:
                self.show_message(_tr("There are no images there."), Level.WARNING)
            return
        self._restore = None
        self.images.load_file(first)
        self.window.statusBar().showMessage(_tr("Opening {0}…").format(first.name))

    def step_image(self, offset: int) -> None:
        path = self.sequence.step(offset)
        if path is not None:
            self._restore = None
            self.images.load_file(path)

    def paste(self) -> None:
        """Open what the clipboard holds: copied files, or an image."""
        mime = QGuiApplication.clipboard().mimeData()
        files = local_files(mime) if mime is not None else []
        if files:
            self.open_paths(files)
            return
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            self.show_message(_tr("The clipboard holds no image to paste."), Level.WARNING)
            return
        self.paste_image(image)

    def paste_image(self, image: QImage) -> None:
        self._restore = None
        self.sequence.clear()
        self.images.load_pasted(image)

    @Slot(object)
    def _on_image_loaded(self, decoded: DecodedImage) -> None:
        w = self.window
        w.viewer.set_image(decoded.display, decoded.preview)
        if w.banner.level is Level.ERROR:
            w.banner.hide()  # an error about an earlier image or answer no longer applies
        w.statusBar().clearMessage()
        self._current_image = decoded
        image = SessionImage(decoded.loaded, decoded.path, decoded.thumbnail)
        restore = self._restore
        self._restore = None
        if restore is not None and restore[0] == decoded.request_id:
            self._apply_restore(image, restore[1])
        else:
            self.session.set_image(image)
        if decoded.path is not None:
            self._remember_recent(decoded.path)
        w.setWindowTitle(f"{decoded.name} — vldesk")
        self._update_image_info()
        self._update_can_ask()
        self._show_placeholder()

    @Slot(int, str, str)
    def _on_image_failed(self, request_id: int, source: str, message: str) -> None:
        self._restore = None
        self.window.statusBar().clearMessage()
        self.show_message(message)

    def _update_image_info(self) -> None:
        decoded = self._current_image
        if decoded is None:
            self.window.image_info.setText("")
            return
        width, height = decoded.loaded.original_size
        parts = [decoded.name]
        if decoded.file_size is not None:
            parts.append(format_bytes(decoded.file_size))
        parts.append(f"{width} × {height} px")
        parts.append(f"{self.window.viewer.zoom() * 100:.0f}%")
        index, count = self.sequence.position
        if count > 1:
            parts.append(_tr("{0} of {1}").format(index, count))
        self.window.image_info.setText("  ·  ".join(parts))

    def _remember_recent(self, path: Path) -> None:
        self._remember(recent_files=self.settings.with_recent_file(path).recent_files)
        self._refresh_recent_files()

    def _refresh_recent_files(self) -> None:
        for action in self.window.set_recent_files(list(self.settings.recent_files)):
            path = str(action.data())
            action.triggered.connect(lambda _checked=False, path=path: self.open_paths([path]))

    # -- asking ------------------------------------------------------------------------------

    def _update_can_ask(self) -> None:
        self.window.prompt_panel.set_can_ask(self.session.can_ask and not self.batch.running)
        self._update_actions()

    def _update_actions(self) -> None:
        w = self.window
        has_answer = self.session.last_result is not None
        w.export_answer_action.setEnabled(has_answer)
        w.copy_answer_action.setEnabled(has_answer)
        w.copy_alt_text_action.setEnabled(has_answer)
        has_turns = bool(self.session.conversation.turns)
        w.export_conversation_action.setEnabled(has_turns)
        w.copy_conversation_action.setEnabled(has_turns)

    def generation_settings(self, preset_tokens: int | None = None) -> GenerationSettings:
        settings = self.settings.to_generation_settings()
        if preset_tokens is not None and preset_tokens > settings.max_new_tokens:
            # A preset that needs long answers (documents) gets them; the setting is a floor.
            settings = GenerationSettings(**{**settings.to_dict(), "max_new_tokens": preset_tokens})
        return settings

    @Slot(str)
    def ask(self, question: str, preset_tokens: int | None = None) -> bool:
        system = self.window.prompt_panel.system_prompt()
        if system != self.settings.system_prompt:
            self._remember(system_prompt=system)
        if self.session.image is None:
            self.show_message(_tr("Open an image first (Ctrl+O, drop or paste)."), Level.INFO)
            return False
        if self.session.model_name is None:
            self.show_message(_tr("The model is not loaded yet."), Level.INFO)
            return False
        sent = self.session.ask(question, self.generation_settings(preset_tokens), system)
        if sent and preset_tokens is None:
            self.window.prompt_panel.clear_prompt()
        return sent

    @Slot()
    def _read_ahead(self) -> None:
        """While the first question about an image is typed, the CPU reads the image (half a
        minute for a photo on a small one); on a GPU that takes a moment anyway."""
        info = self._model_info
        if info is None or info.device != "cpu" or self.batch.running:
            return
        panel = self.window.prompt_panel
        if panel.prompt_edit.toPlainText().strip():
            self.session.read_ahead(self.generation_settings(), panel.system_prompt())

    @Slot(str)
    def ask_preset(self, name: str) -> bool:
        preset = get_preset(name)
        return self.ask(preset.prompt(self.settings.preset_language), preset.max_new_tokens)

    @Slot(str)
    def _on_answer_started(self, question: str) -> None:
        self.window.banner.hide()
        self._stream_started = None
        self.window.answer_view.begin_answer(question)
        self.window.status_panel.set_generation(None, None, None)

    @Slot(int, int)
    def _on_token_count(self, _request_id: int, tokens: int) -> None:
        self.window.answer_view.set_token_count(tokens)
        now = time.perf_counter()
        if self._stream_started is None:
            self._stream_started = now
            return
        elapsed = now - self._stream_started
        if elapsed > 0.2:
            self.window.status_panel.set_generation(None, None, tokens / elapsed)

    @Slot(object)
    def _on_answer_finished(self, result: GenerationResult) -> None:
        notes = {
            StopReason.CANCELLED: _tr("stopped"),
            StopReason.MAX_TOKENS: _tr("cut off at the token limit (Settings → Max new tokens)"),
        }
        self.window.answer_view.finish_answer(result.text, notes.get(result.stop_reason, ""))
        stats = result.stats
        self.window.status_panel.set_generation(
            stats.image_tokens,
            stats.time_to_first_token_s,
            stats.decode_tokens_per_s,
            stats.reused_tokens,
        )
        if stats.peak_memory_bytes:
            self.window.status_panel.set_memory(stats.peak_memory_bytes)
        self._update_actions()

    @Slot(str)
    def _on_answer_failed(self, message: str) -> None:
        self.window.answer_view.fail_answer()
        if self._offering_retry:
            self._offering_retry = False
            return  # the out-of-memory message with its retry buttons is already shown
        self.show_message(message)

    @Slot(str)
    def _on_out_of_memory(self, message: str) -> None:
        current = self.settings.max_image_tokens
        smaller = max(MIN_RETRY_IMAGE_TOKENS, current // 2)
        actions: list[BannerAction] = []
        if smaller < current:
            actions.append(
                (
                    _tr("Retry with {0} image tokens").format(smaller),
                    lambda: self._retry_smaller(smaller),
                )
            )
        on_gpu = self._model_info is not None and self._model_info.device.startswith("cuda")
        if on_gpu:
            actions.append((_tr("Retry on the CPU"), self._retry_on_cpu))
        self._offering_retry = True
        self.show_message(message, Level.ERROR, actions)

    def _retry_smaller(self, tokens: int) -> None:
        self._remember(max_image_tokens=tokens)
        self.session.retry(self.generation_settings())

    def _retry_on_cpu(self) -> None:
        if self._model_ref is None:
            return
        self._device_override = "cpu"
        self._retry_after_load = self.generation_settings()
        self.load_model(self._model_ref)

    # -- history -----------------------------------------------------------------------------

    def _history_page(
        self, limit: int, offset: int, query: str | None
    ) -> list[ConversationSummary]:
        if self.history is None:
            return []
        try:
            return self.history.list_conversations(limit, offset, query)
        except VldeskError as exc:
            self.show_message(str(exc), Level.WARNING)
            return []

    def _refresh_history(self) -> None:
        """Reload the list and keep the conversation on screen selected in it."""
        self.history_model.refresh()
        if self.session.history_id is not None:
            self.window.history_panel.select_id(self.session.history_id)

    def _focus_history_search(self) -> None:
        self.window.history_dock.show()
        self.window.history_dock.raise_()
        self.window.history_panel.focus_search()

    @Slot(int)
    def open_history_entry(self, conversation_id: int) -> None:
        """Show a past conversation with its image; follow-up questions continue it."""
        if self.history is None:
            return
        try:
            stored = self.history.get_conversation(conversation_id)
        except VldeskError as exc:
            self.show_message(str(exc))
            return
        if stored is None:
            self.history_model.refresh()
            return
        path = Path(stored.image_path) if stored.image_path else None
        if path is not None and path.is_file():
            self.sequence.open([path])
            request_id = self.images.load_file(path)
            self._restore = (request_id, stored)
            return
        # The image is gone (or was pasted): show the conversation and the stored thumbnail.
        self._restore = None
        self._current_image = None
        self._show_placeholder()
        thumbnail = QImage.fromData(stored.thumbnail) if stored.thumbnail else QImage()
        if thumbnail.isNull():
            self.window.viewer.clear()
        else:
            self.window.viewer.set_image(thumbnail)
        self._apply_restore(None, stored)
        self.window.image_info.setText(
            _tr("{0} (only a thumbnail is kept)").format(path.name if path else _tr("pasted image"))
        )
        self.show_message(
            _tr(
                "The image of this conversation is no longer available, so follow-up "
                "questions are not possible."
            ),
            Level.INFO,
        )
        self._update_can_ask()

    def _apply_restore(self, image: SessionImage | None, stored: StoredConversation) -> None:
        turns = [(m.role, m.text) for m in stored.messages]
        self.session.restore(image, turns, stored.id)
        system = next((text for role, text in turns if role == "system"), None)
        if system is not None:
            self.window.prompt_panel.set_system_prompt(system)
        exchanges: list[Exchange] = []
        for role, text in turns:
            if role == "user":
                exchanges.append(Exchange(text))
            elif role == "assistant" and exchanges and not exchanges[-1].answer:
                exchanges[-1].answer = text
        self.window.answer_view.set_exchanges(exchanges)
        self.window.history_panel.select_id(stored.id)
        self._update_actions()

    @Slot(list)
    def delete_history_entries(self, ids: list[int], *, confirm: bool = True) -> None:
        if self.history is None or not ids:
            return
        if confirm:
            answer = QMessageBox.question(
                self.window,
                _tr("Delete from history"),
                _tr("Delete {0} conversation(s) from the history? This cannot be undone.").format(
                    len(ids)
                ),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        try:
            for conversation_id in ids:
                self.history.delete_conversation(conversation_id)
        except VldeskError as exc:
            self.show_message(str(exc))
        if self.session.history_id in ids:
            self.session.history_id = None
        self.history_model.refresh()

    # -- export and copy ---------------------------------------------------------------------

    def _write_export(self, entries: list[ExportEntry], path: Path) -> bool:
        try:
            export_entries(entries, path)
        except VldeskError as exc:
            self.show_message(str(exc))
            return False
        self.window.statusBar().showMessage(_tr("Saved {0}.").format(path), 5000)
        return True

    def export_answer(self, path: Path | None = None) -> bool:
        entry = conversation_entry(self.session, self.generation_settings(), last_only=True)
        if entry is None:
            return False
        path = path or ask_export_path(self.window, _tr("Export Answer"), export_stem(self.session))
        return path is not None and self._write_export([entry], path)

    def export_conversation(self, path: Path | None = None) -> bool:
        entry = conversation_entry(self.session, self.generation_settings())
        if entry is None:
            return False
        path = path or ask_export_path(
            self.window, _tr("Export Conversation"), export_stem(self.session)
        )
        return path is not None and self._write_export([entry], path)

    def export_history(self, ids: list[int] | None = None, path: Path | None = None) -> bool:
        """Export the given history entries (default: all of them) to one file."""
        if self.history is None:
            return False
        try:
            if ids is None:
                count = self.history.count_conversations()
                ids = [c.id for c in self.history.list_conversations(limit=count)]
            entries = self.history.export_entries(ids)
        except VldeskError as exc:
            self.show_message(str(exc))
            return False
        if not entries:
            self.show_message(_tr("There is nothing in the history to export."), Level.INFO)
            return False
        path = path or ask_export_path(self.window, _tr("Export History"), "vldesk-history")
        return path is not None and self._write_export(entries, path)

    def copy_conversation(self) -> None:
        entry = conversation_entry(self.session, self.generation_settings())
        if entry is not None:
            QGuiApplication.clipboard().setText(render_markdown([entry]))
            self.window.statusBar().showMessage(_tr("Copied to the clipboard."), 3000)

    def _about(self) -> AboutDialog:
        """Versions, folders and the models' disk use (window-modal, not blocking)."""
        dialog = AboutDialog(self.paths, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.window.actions(), self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog


#: Settings the dialog edits (everything else is kept as it is).
_EDITABLE = (
    "model",
    "last_model",
    "device",
    "dtype",
    "weights",
    "max_new_tokens",
    "greedy",
    "temperature",
    "top_p",
    "top_k",
    "repetition_penalty",
    "max_image_tokens",
    "preset_language",
    "ui_language",
)
