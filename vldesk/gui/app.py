"""The composition root: builds settings, stores, workers, controllers and the window; wires
what no single controller owns."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QSettings, Qt
from PySide6.QtWidgets import QApplication

from vldesk.core.batch import BatchSummary
from vldesk.core.errors import VldeskError
from vldesk.core.history import HistoryStore
from vldesk.core.inference.engine import EngineLoader, load_engine
from vldesk.core.inference.remote.saved import SavedServers
from vldesk.core.models.store import ModelStore
from vldesk.core.paths import AppPaths, app_paths
from vldesk.core.presets import PRESETS
from vldesk.core.settings import Settings, load_settings
from vldesk.gui.appearance import apply_appearance
from vldesk.gui.controllers.batch import BatchController
from vldesk.gui.controllers.batch_panel import BatchPanel
from vldesk.gui.controllers.chat import ChatController
from vldesk.gui.controllers.folder import FolderController
from vldesk.gui.controllers.grounding import GroundingController
from vldesk.gui.controllers.history import HistoryController
from vldesk.gui.controllers.images import ImageController
from vldesk.gui.controllers.models import ModelController
from vldesk.gui.controllers.photo_caption import PhotoCaptionController
from vldesk.gui.controllers.preferences import Preferences
from vldesk.gui.controllers.servers import ServerController
from vldesk.gui.controllers.serving import ServeController
from vldesk.gui.dialogs.about_dialog import AboutDialog
from vldesk.gui.dialogs.folder_reveal import reveal_folder
from vldesk.gui.dialogs.settings_dialog import SettingsDialog
from vldesk.gui.dialogs.shortcuts_dialog import ShortcutsDialog
from vldesk.gui.i18n import current_language, error_text
from vldesk.gui.main_window import MainWindow
from vldesk.gui.session import ChatSession
from vldesk.gui.widgets.message_banner import Level
from vldesk.gui.workers.download import DownloadWorker
from vldesk.gui.workers.inference_client import InferenceClient

log = logging.getLogger(__name__)

#: How long closing the app waits for a cancelled download to stop (its thread is a daemon).


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
        settings = settings if settings is not None else load_settings(base.settings_file)
        self.paths = (paths or app_paths(settings.models_dir)).ensure()
        self.preferences = Preferences(settings, self.paths.settings_file, self)
        apply_appearance(_qt_app(), settings.theme, settings.font_size)
        self._closed = False
        #: "Restart now" was chosen: the launcher starts vldesk again once this one has exited.
        self.restart_requested = False

        store: HistoryStore | None = None
        history_problem = None
        try:
            store = HistoryStore(self.paths.history_db)
        except VldeskError as exc:
            history_problem = error_text(exc)
            log.error("history unavailable: %s", exc)

        self.inference = InferenceClient(self, load_engine=engine_loader)
        try:
            self._build(store)
        except BaseException:
            self.inference.shut_down()  # never leave the worker thread running
            raise
        if history_problem:
            self.window.show_message(
                _tr("History is not available: {0}").format(history_problem), Level.WARNING
            )

    @property
    def settings(self) -> Settings:
        return self.preferences.settings

    def _build(self, store: HistoryStore | None) -> None:
        prefs = self.preferences
        self.window = w = MainWindow()
        self.session = ChatSession(self.inference, store, self)
        self.store = ModelStore(self.paths.models_dir)
        self.downloads = DownloadWorker(self.store, self)
        history_db = self.paths.history_db if store is not None else None
        self.batch = BatchController(self.inference, history_db, self)
        self.models = ModelController(
            self.store, self.inference, self.downloads, self.batch, prefs, w, self
        )
        self.images = ImageController(self.session, prefs, w, self)
        saved_servers = SavedServers(self.paths.config_dir)
        self.servers = ServerController(self.models, saved_servers, w, self)
        self.serving = ServeController(self.inference, prefs, w, self)
        self.chat = ChatController(
            self.session,
            self.inference,
            self.models,
            self.batch,
            prefs,
            w,
            has_image=lambda: self.images.current is not None,
            parent=self,
        )
        self.grounding = GroundingController(self.session, self.models, self.images, w, self)
        self.images.changed.connect(self.chat.update_can_ask)
        self.images.changed.connect(self.chat.show_placeholder)
        self.history = HistoryController(store, self.session, self.chat, self.images, w, self)
        self.folder = FolderController(self.images, w, parent=self)
        self._wire_folder()
        self.photo_caption = PhotoCaptionController(self.session, prefs, w, self)
        self._layout_settings = QSettings(
            str(self.paths.config_dir / "window.ini"), QSettings.Format.IniFormat
        )
        self.batch_panel = BatchPanel(
            self.batch,
            self.models,
            self.chat,
            self.images,
            self.history,
            prefs,
            w,
            self._layout_settings,
            self,
            saved_servers=saved_servers,
        )
        # Titles follow the interface; the prompts they send, the "Preset language" setting.
        w.prompt_panel.set_presets(PRESETS, self.settings.preset_language, current_language())
        w.prompt_panel.set_system_prompt(self.settings.system_prompt)
        self._restore_layout()
        self._wire()
        self.models.refresh_menu()
        self.images.refresh_recent_files()
        self.history.model.refresh()
        self.chat.update_can_ask()
        self.chat.show_placeholder()

    def _wire(self) -> None:
        """What belongs to no controller: the window's own actions, settings and help."""
        w = self.window
        self.preferences.save_failed.connect(lambda text: w.show_message(text, Level.WARNING))
        w.closing.connect(self.shut_down)
        w.settings_action.triggered.connect(self.open_settings)
        w.quit_action.triggered.connect(w.close)
        w.copy_answer_action.triggered.connect(w.answer_view.copy_answer)
        w.copy_alt_text_action.triggered.connect(w.answer_view.copy_alt_text)
        w.zoom_in_action.triggered.connect(w.viewer.zoom_in)
        w.zoom_out_action.triggered.connect(w.viewer.zoom_out)
        w.fit_action.triggered.connect(w.viewer.fit_to_window)
        w.actual_size_action.triggered.connect(w.viewer.actual_size)
        w.about_action.triggered.connect(self._about)
        w.shortcuts_action.triggered.connect(self._show_shortcuts)
        w.open_data_folder_action.triggered.connect(
            lambda: reveal_folder(self.paths.data_dir, self.window)
        )
        w.open_log_folder_action.triggered.connect(
            lambda: reveal_folder(self.paths.log_dir, self.window)
        )
        w.answer_view.copied.connect(
            lambda _text: w.statusBar().showMessage(_tr("Copied to the clipboard."), 3000)
        )

    def _wire_folder(self) -> None:
        """Folder batches end in the folder panel: their history entry and "View" open it."""
        self.history.folder_requested.connect(self._open_folder)
        self.window.batch_view.view_requested.connect(
            lambda folder: self.folder.open_folder(folder)
        )
        self.batch.finished.connect(self._review_batch)

    def _review_batch(self, summary: BatchSummary) -> None:
        """A finished batch's captions land in the folder panel, ready for review (a folder
        without images leaves the panel as it was)."""
        plan = self.batch.plan
        if plan is not None and not self._closed and not summary.found_no_images:
            self.folder.open_folder(plan.options.folder)

    def _open_folder(self, folder: object) -> None:
        self.images.open_paths([str(folder)])
        self.folder.open_folder(Path(str(folder)))

    # -- start-up and shutdown ---------------------------------------------------------------

    def start(self, paths: Sequence[str] = ()) -> None:
        """After the window is shown: load the model in the background (or connect again to
        the server the chat used when the app closed), open given images."""
        if not self.servers.reconnect():
            self.models.load_initial_model()
            if self.models.ref is None:  # nothing to load: offer to download or import one
                self.models.open_model_dialog(first_run=True)
        if paths:
            self.open_paths(list(paths))

    def open_paths(self, paths: list[str]) -> None:
        """Open files or folders (the command line, the desktop's Open With)."""
        self.images.open_paths(paths)
        self.folder.open_if_folder(paths)

    def shut_down(self) -> None:
        """Save window state, stop the workers and close history; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.models.closing = self.batch_panel.closing = True
        self._save_layout()
        self.preferences.remember(system_prompt=self.window.prompt_panel.system_prompt())
        self.servers.shut_down()  # the chat's server, if any, is connected again at next start
        self.serving.shut_down()  # before the worker: requests still waiting get 503
        self.inference.shut_down()  # cancels a folder batch too; it stays resumable
        self.batch.shut_down()  # a batch on servers: cancelled, bounded wait, resumable
        # The stopped answer's result is still queued for this thread: deliver it now, so
        # what was on screen is saved to history before it closes.
        QCoreApplication.sendPostedEvents()
        # Each waits a bounded time: a decode or read that cannot be interrupted is left behind.
        self.downloads.shut_down()  # partial files are kept: the next download resumes them
        self.images.shut_down()
        self.folder.shut_down()
        self.photo_caption.shut_down()
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

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self.models.entries(), self.window)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        self.apply_settings(dialog.settings())

    def apply_settings(self, new: Settings) -> None:
        old = self.settings
        self.preferences.remember(**{name: getattr(new, name) for name in _EDITABLE})
        if new.preset_language != old.preset_language:
            self.window.prompt_panel.set_presets(PRESETS, new.preset_language, current_language())
        if new.models_dir != old.models_dir:
            self.models.set_models_folder(new.models_dir)
        if (new.theme, new.font_size) != (old.theme, old.font_size):
            apply_appearance(_qt_app(), new.theme, new.font_size)
        if new.ui_language != old.ui_language:
            self.window.show_message(
                _tr("The new interface language is used from the next start of vldesk."),
                Level.INFO,
                [(_tr("Restart now"), self.restart)],
            )
        new_ref = new.last_model or new.model
        old_ref = old.last_model or old.model
        loading = (new_ref, new.device, new.dtype, new.weights)
        if loading != (old_ref, old.device, old.dtype, old.weights):
            self.models.load_model(new_ref)

    def restart(self) -> None:
        """Close the window (saving everything as on quit); the launcher starts vldesk again."""
        self.restart_requested = True
        if not self.window.close():  # the user kept the window open (a batch is running)
            self.restart_requested = False

    # -- help --------------------------------------------------------------------------------

    def _about(self) -> AboutDialog:
        """Versions, folders and the models' disk use (window-modal, not blocking)."""
        # The models folder may have changed since the start (Settings, the first run).
        paths = dataclasses.replace(self.paths, models_dir=self.store.models_dir)
        dialog = AboutDialog(paths, self.window)
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
    "models_dir",
    "theme",
    "font_size",
)


def _qt_app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app
