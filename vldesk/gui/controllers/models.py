"""The model lifecycle: choosing, loading, unloading and reloading, the Model menu and manager."""

from __future__ import annotations

import logging
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from vldesk.core.errors import VldeskError
from vldesk.core.inference.cpu.quantized_weights import WeightFormat, weight_format
from vldesk.core.inference.device import expected_cpu_precision
from vldesk.core.inference.engine import LoadRequest
from vldesk.core.inference.engine_choice import choose_engine
from vldesk.core.models.catalog import Precision
from vldesk.core.models.store import ModelStore
from vldesk.core.paths import app_paths
from vldesk.gui.controllers.batch import BatchController
from vldesk.gui.controllers.preferences import Preferences
from vldesk.gui.dialogs.model_dialog import ModelDialog
from vldesk.gui.i18n import error_text
from vldesk.gui.main_window import MainWindow
from vldesk.gui.model_choice import menu_ref, model_entries, no_model_text
from vldesk.gui.widgets.message_banner import Level
from vldesk.gui.workers.download import DownloadWorker
from vldesk.gui.workers.inference import ModelLoadedInfo
from vldesk.gui.workers.inference_client import InferenceClient
from vldesk.gui.workers.remote import ConnectRequest

log = logging.getLogger(__name__)


def _tr(text: str) -> str:
    return QCoreApplication.translate("DesktopApp", text)


class ModelState(str, Enum):
    #: No model was chosen (none installed, or none could be found).
    NONE = "none"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"
    UNLOADED = "unloaded"


class ModelController(QObject):
    """Which model is chosen and where its load stands; the worker loads it.

    Signals:
        state_changed(ModelState): loading started, the model is ready, failed or unloaded.
            LOADING comes twice per load: when it is asked for, and when the worker starts it
            (the old model is gone from then on).
    """

    state_changed = Signal(object)

    def __init__(
        self,
        store: ModelStore,
        inference: InferenceClient,
        downloads: DownloadWorker,
        batch: BatchController,
        preferences: Preferences,
        window: MainWindow,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self._inference = inference
        self._downloads = downloads
        self._batch = batch
        self._preferences = preferences
        self._window = window
        self.state = ModelState.NONE
        #: The chosen model (catalog id, imported name or folder); ``None`` before any.
        self.ref: str | None = None
        #: The loaded model; ``None`` unless :attr:`state` is READY.
        self.info: ModelLoadedInfo | None = None
        #: Why the latest load or connection failed (the message shown); ``None`` unless FAILED.
        self.failure: str | None = None
        #: The device of the next load when it differs from the settings' (a retry on the CPU).
        self._device_override: str | None = None
        self._dialog: ModelDialog | None = None
        #: The app is closing: a download that ends now is not loaded.
        self.closing = False
        inference.model_loading.connect(self._on_loading)
        inference.model_loaded.connect(self._on_loaded)
        inference.model_failed.connect(self._on_failed)
        inference.model_unloaded.connect(self._on_unloaded)
        downloads.finished.connect(self._on_download_finished)
        window.model_group.triggered.connect(self._model_chosen)
        window.reload_model_action.triggered.connect(self.reload)
        window.unload_model_action.triggered.connect(self.unload_model)
        window.open_model_folder_action.triggered.connect(lambda: self.open_model_folder())
        window.manage_models_action.triggered.connect(lambda: self.open_model_dialog())
        # Models imported or downloaded elsewhere (the command line) show up when it opens.
        window.model_menu.aboutToShow.connect(self.refresh_menu)
        self._update_model_actions()

    def _set_state(self, state: ModelState) -> None:
        self.state = state
        self._update_model_actions()
        self.state_changed.emit(state)

    def _update_model_actions(self) -> None:
        """Reload and Unload act on a loaded model only."""
        loaded = self.state is ModelState.READY
        self._window.reload_model_action.setEnabled(loaded)
        self._window.unload_model_action.setEnabled(loaded)

    @property
    def loaded_name(self) -> str | None:
        return self.info.name if self.info is not None else None

    @property
    def on_cpu(self) -> bool:
        return self.info is not None and self.info.device == "cpu"

    @property
    def server(self) -> str | None:
        """The server the loaded model answers on; ``None`` for a local model."""
        return self.info.server if self.info is not None else None

    @property
    def on_gpu(self) -> bool:
        return self.info is not None and self.info.device.startswith("cuda")

    def entries(self) -> list[tuple[str, str]]:
        return model_entries(self.store, self.ref)

    def _menu_ref(self) -> str | None:
        if self.server is not None:
            return None  # no local model is the one answering
        return menu_ref(self.store, self.ref)

    def refresh_menu(self) -> None:
        self._window.set_model_entries(self.entries(), self._menu_ref())

    # -- loading -----------------------------------------------------------------------------

    def load_initial_model(self) -> None:
        """Load the model used last time; else the configured one; else any installed one."""
        settings = self._preferences.settings
        wanted = settings.last_model or settings.model
        try:
            choose_engine(self.store, wanted, setting=settings.engine, weights=settings.weights)
        except VldeskError as exc:
            installed = self.entries()
            if not installed:
                log.info("no model at start-up: %s", exc)
                self._window.answer_view.set_placeholder(no_model_text(error_text(exc)))
                return
            wanted = installed[0][1]
        self.load_model(wanted)

    def load_model(self, ref: str, *, device: str | None = None) -> bool:
        """Resolve ``ref`` (catalog id, imported name or folder) and load it in the background;
        ``device`` overrides the settings' for this model until another is chosen."""
        self._device_override = device
        if self._batch_blocks():
            return False
        settings = self._preferences.settings
        try:
            # The engine setting (or, under "auto", this CPU) may pick the model's GGUF variant.
            choice = choose_engine(
                self.store,
                ref,
                setting=settings.engine,
                weights=settings.weights,
                device=device or settings.device,
            )
        except VldeskError as exc:
            self._window.show_message(error_text(exc))
            if self.info is None:
                self._window.answer_view.set_placeholder(no_model_text(error_text(exc)))
            return False
        self.ref = ref
        folder = choice.folder
        name = Path(ref).name if Path(ref).is_absolute() else choice.name
        self._inference.load_model(
            LoadRequest(folder, name, device or settings.device, settings.dtype, settings.weights)
        )
        self._set_state(ModelState.LOADING)
        self.refresh_menu()
        return True

    def connect_server(self, request: ConnectRequest) -> bool:
        """Answer with a model on a server from now on; the local model is unloaded (and
        loaded again by choosing it, or Model → Disconnect)."""
        if self._batch_blocks():
            return False
        self._inference.connect_server(request)
        self._set_state(ModelState.LOADING)
        self.refresh_menu()
        return True

    def disconnect_server(self) -> None:
        """Back to the local model chosen before connecting (or the configured one)."""
        if self.server is None and not self._inference.loading:
            return
        self.reload()

    def reload(self, *, device: str | None = None) -> None:
        """Load the chosen model again (the same device override unless one is given)."""
        if self.ref is not None:
            self.load_model(self.ref, device=device or self._device_override)
        else:
            self.load_initial_model()

    def unload_model(self) -> None:
        if not self._batch_blocks():
            self._inference.unload_model()

    @Slot(QAction)
    def _model_chosen(self, action: QAction) -> None:
        ref = action.data()
        if isinstance(ref, str) and (ref != self.ref or self.info is None or self.server):
            self.load_model(ref)

    def open_model_folder(self, folder: Path | None = None) -> bool:
        """Use a local model folder (checked first); it is remembered in the Model menu."""
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(
                self._window, _tr("Choose a model folder"), str(Path.home())
            )
            if not chosen:
                return False
            folder = Path(chosen)
        check = self.store.validate_model_folder(folder)
        if not check.ok:
            self._window.show_message(
                _tr("{0} cannot be used as a model: {1}").format(folder, check.reason)
            )
            return False
        ref = str(folder.resolve())
        try:
            ref = self.store.import_folder(folder).name
        except VldeskError as exc:  # e.g. the name is taken: load it by path instead
            log.info("not registering %s: %s", folder, exc)
        return self.load_model(ref)

    def _batch_blocks(self) -> bool:
        """While a batch runs on the loaded model its worker serves only it: say so and refuse
        (a batch on servers does not need the local model: it may change meanwhile)."""
        if not self._batch.holds_model:
            return False
        self._window.show_message(
            _tr(
                "The model is busy describing a folder. Cancel the batch or wait for it to "
                "finish, then try again."
            ),
            Level.INFO,
        )
        self.refresh_menu()  # undo the menu's check mark
        return True

    # -- worker signals ----------------------------------------------------------------------

    @Slot(str)
    def _on_loading(self, name: str) -> None:
        self.info = None
        self.failure = None
        w = self._window
        w.status_panel.set_loading(name)
        w.status_panel.set_generation(None, None, None)  # figures of the model being replaced
        w.load_progress.setVisible(True)
        w.statusBar().showMessage(_tr("Loading {0}…").format(name))
        self._set_state(ModelState.LOADING)

    @Slot(object)
    def _on_loaded(self, info: ModelLoadedInfo) -> None:
        self.info = info
        w = self._window
        w.load_progress.setVisible(False)
        w.status_panel.set_model(
            info.name, info.device, info.dtype, info.reason, info.weights, info.backend
        )
        w.status_panel.set_memory(info.memory_bytes)
        if info.server is not None:
            w.statusBar().showMessage(
                _tr("Connected: {0} on {1}.").format(info.name, info.server), 5000
            )
            self.refresh_menu()
            self._set_state(ModelState.READY)
            return
        w.statusBar().showMessage(
            _tr("{0} is ready ({1:.1f} s).").format(info.name, info.load_seconds), 5000
        )
        if self.ref is not None:
            self._preferences.remember(last_model=self.ref)
            self._register_folder(self.ref)
        self.refresh_menu()
        self._set_state(ModelState.READY)

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
    def _on_failed(self, message: str) -> None:
        self.info = None
        self.failure = message
        w = self._window
        w.load_progress.setVisible(False)
        w.status_panel.set_model(None)
        w.statusBar().clearMessage()
        w.show_message(message)
        w.answer_view.set_placeholder(no_model_text(message))
        self._set_state(ModelState.FAILED)

    @Slot()
    def _on_unloaded(self) -> None:
        self.info = None
        w = self._window
        w.status_panel.set_model(None)
        w.status_panel.set_memory(None)
        w.status_panel.set_generation(None, None, None)
        w.statusBar().showMessage(_tr("The model was unloaded."), 5000)
        self._set_state(ModelState.UNLOADED)

    # -- model manager -----------------------------------------------------------------------

    def open_model_dialog(self, *, first_run: bool = False) -> ModelDialog:
        """Show the model manager, not modal; a download goes on when it is closed."""
        dialog = self._dialog
        if dialog is None:
            vram, cpu_precision, cpu_weights = self._memory_basis()
            dialog = ModelDialog(
                self.store,
                self._downloads,
                vram_bytes=vram,
                cpu_precision=cpu_precision,
                cpu_weights=cpu_weights,
                first_run=first_run,
                parent=self._window,
            )
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.model_chosen.connect(self._use_managed_model)
            dialog.models_folder_chosen.connect(self.set_models_folder)
            dialog.finished.connect(self._on_dialog_closed)
            self._dialog = dialog
        if dialog.isVisible():  # asked for again: bring it to the front
            dialog.raise_()
            dialog.activateWindow()
        dialog.show()
        return dialog

    @Slot(str)
    def set_models_folder(self, folder: str | None) -> None:
        """Keep models in ``folder`` from now on (``None``: the default folder): the setting,
        the store the downloads and the menus use, and the open model manager."""
        self.store.models_dir = app_paths(folder).models_dir
        self._preferences.remember(models_dir=folder)
        self.refresh_menu()
        if self._dialog is not None:
            self._dialog.show_models_folder()

    def _memory_basis(self) -> tuple[int | None, Precision, WeightFormat]:
        """What the model manager compares models with: the memory of the GPU a model runs
        on, else RAM at the precision and weight format the CPU runs (the loaded model's, or
        the ones the settings will pick)."""
        info = self.info
        if info is not None and info.device_total_bytes:
            return info.device_total_bytes, Precision.BFLOAT16, WeightFormat.FULL
        if info is not None:  # the CPU, or Apple's GPU, which shares the RAM
            return None, Precision(info.dtype), weight_format(info.weights)
        settings = self._preferences.settings
        return None, expected_cpu_precision(settings.dtype), weight_format(settings.weights)

    @Slot(int)
    def _on_dialog_closed(self, _result: int) -> None:
        self._dialog = None
        self.refresh_menu()  # models may have been imported or removed

    @Slot(str)
    def _use_managed_model(self, ref: str) -> None:
        """Load a model chosen in the model manager and make it the configured model."""
        if self.load_model(ref):
            self._preferences.remember(model=ref, last_model=ref)

    @Slot(str, str)
    def _on_download_finished(self, model_id: str, _folder: str) -> None:
        self.refresh_menu()
        if self.closing or self.state in (ModelState.LOADING, ModelState.READY):
            self._window.statusBar().showMessage(
                _tr("{0} is downloaded; choose it in the Model menu.").format(model_id), 8000
            )
            return
        self._use_managed_model(model_id)  # nothing was loaded: use it right away
