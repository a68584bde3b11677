"""Serving the loaded model to other programs: the dialog, the server's life, the status bar."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Slot
from PySide6.QtWidgets import QToolButton

from vldesk.core.errors import VldeskError
from vldesk.gui.controllers.preferences import Preferences
from vldesk.gui.dialogs.serve_dialog import ServeDialog
from vldesk.gui.main_window import MainWindow
from vldesk.gui.workers.inference import ModelLoadedInfo
from vldesk.gui.workers.inference_client import InferenceClient
from vldesk.gui.workers.shared_engine import EngineFacts, SharedEngine
from vldesk.server.addresses import ServerAddresses, addresses_for, lan_address
from vldesk.server.config import is_loopback

if TYPE_CHECKING:
    from vldesk.server.runner import Server

log = logging.getLogger(__name__)

#: How long stopping waits for each part (the answer under way, uvicorn's connections).
STOP_TIMEOUT_S = 3.0
#: How often the status bar's count of requests is refreshed.
STATUS_INTERVAL_MS = 500


def _tr(text: str) -> str:
    return QCoreApplication.translate("ServeController", text)


class ServeController(QObject):
    """Starts and stops the server (uvicorn on its own thread) and lends it whichever model the
    app has loaded, as a :class:`SharedEngine` whose calls take turns with the window's."""

    def __init__(
        self,
        inference: InferenceClient,
        preferences: Preferences,
        window: MainWindow,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._inference = inference
        self._preferences = preferences
        self._window = window
        self.server: Server | None = None
        self._addresses: ServerAddresses | None = None
        self._facts: EngineFacts | None = None
        self._lent: SharedEngine | None = None
        #: Why requests get 503 while no model is lent (English: it goes to API clients).
        self._unavailable = "No model is loaded in vldesk; load one in the app first."
        self.dialog: ServeDialog | None = None
        self.status_button = QToolButton(window)
        self.status_button.setAutoRaise(True)
        self.status_button.setAccessibleName(_tr("Serving status"))
        self.status_button.clicked.connect(self.open_dialog)
        self.status_button.hide()
        window.statusBar().addPermanentWidget(self.status_button)
        self._timer = QTimer(self)
        self._timer.setInterval(STATUS_INTERVAL_MS)
        self._timer.timeout.connect(self.refresh_status)
        inference.model_loaded.connect(self._on_loaded)
        inference.model_loading.connect(self._on_loading)
        inference.model_failed.connect(self._on_failed)
        inference.model_unloaded.connect(self._on_unloaded)
        window.serve_action.triggered.connect(self.open_dialog)

    @property
    def serving(self) -> bool:
        return self.server is not None

    def open_dialog(self) -> ServeDialog:
        if self.dialog is None:
            self.dialog = ServeDialog(lan_address(), self._window)
            self.dialog.start_requested.connect(self.start)
            self.dialog.stop_requested.connect(self.stop)
            self._show_state()
        if self.dialog.isVisible():
            self.dialog.raise_()
            self.dialog.activateWindow()
        else:
            self.dialog.show()
        return self.dialog

    @Slot(str, int, str)
    def start(self, host: str, port: int, api_key: str) -> bool:
        """Listen on ``host``:``port``; False (the reason shown in the dialog) when refused."""
        if self.server is not None:
            return True
        if not is_loopback(host) and not api_key:
            return self._refuse(
                _tr(
                    "Listening on {0} lets other computers use the model: set an API key "
                    "first (Generate makes one)."
                ).format(host)
            )
        from vldesk.server.config import ServerConfig
        from vldesk.server.runner import Server

        language = self._preferences.settings.preset_language
        try:
            config = ServerConfig(host=host, port=port, api_key=api_key or None, language=language)
            server = Server(config)
        except VldeskError as exc:
            return self._refuse(str(exc))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return self._refuse(_tr("Cannot listen on {0}:{1}: {2}").format(host, port, reason))
        try:
            server.start()
        except RuntimeError as exc:
            server.stop(STOP_TIMEOUT_S)
            return self._refuse(_tr("The server did not start: {0}").format(exc))
        self.server = server
        self._addresses = addresses_for(host, server.port)
        self._lend()
        log.info("serving on %s", server.url)
        self._show_state()
        return True

    @Slot()
    def stop(self) -> None:
        """Stop serving: waiting requests get 503, the answer under way is cancelled; bounded."""
        server, self.server = self.server, None
        if server is None:
            return
        self._take_back()
        server.stop(STOP_TIMEOUT_S)
        if server.running:
            log.warning("the server's thread did not end within %.0f s", STOP_TIMEOUT_S)
        log.info("stopped serving on %s", server.url)
        self._show_state()

    def shut_down(self) -> None:
        """The app is closing: stop serving (bounded)."""
        self.stop()
        self._timer.stop()

    def _refuse(self, message: str) -> bool:
        if self.dialog is not None:
            self.dialog.show_error(message)
        else:
            self._window.show_message(message)
        return False

    # -- the model the server gets -----------------------------------------------------------

    @Slot(object)
    def _on_loaded(self, info: ModelLoadedInfo) -> None:
        self._facts = info.facts
        self._lend()

    @Slot(str)
    def _on_loading(self, name: str) -> None:
        self._withdraw(f"The model '{name}' is loading in vldesk; try again shortly.")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._withdraw(f"The model could not be loaded in vldesk: {message}")

    @Slot()
    def _on_unloaded(self) -> None:
        self._withdraw("No model is loaded in vldesk; load one in the app first.")

    def _withdraw(self, reason: str) -> None:
        self._facts = None
        self._unavailable = reason
        self._lend()

    def _lend(self) -> None:
        """Give the server the app's current model, or none (then it answers 503)."""
        if self.server is None:
            return
        self._take_back()
        if self._facts is None:
            self.server.scheduler.detach(self._unavailable)
            return
        self._lent = SharedEngine(self._facts, self._inference.call_engine)
        self.server.scheduler.attach(self._lent)

    def _take_back(self) -> None:
        if self._lent is not None:
            self._lent.unload()  # calls still waiting in the worker's queue now get 503
            self._lent = None

    # -- what the window shows ---------------------------------------------------------------

    def _show_state(self) -> None:
        server = self.server
        if server is None:
            self._timer.stop()
            self.status_button.hide()
            if self.dialog is not None:
                self.dialog.show_stopped()
            return
        self._timer.start()
        self.refresh_status()
        self.status_button.show()
        if self.dialog is not None and self._addresses is not None:
            self.dialog.show_serving(self._addresses, bool(server.config.api_key))

    @Slot()
    def refresh_status(self) -> None:
        server, addresses = self.server, self._addresses
        if server is None or addresses is None:
            return
        count = server.scheduler.in_flight()
        text = _tr("Serving") if count == 0 else _tr("Serving · {0} in flight").format(count)
        self.status_button.setText(text)
        self.status_button.setToolTip(
            _tr("Serving the model at {0}").format(addresses.network or addresses.local)
        )
