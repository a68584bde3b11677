"""Model → Connect to a Server / Disconnect: chat with a model that answers on another machine,
connected again at the next start."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QObject, Qt, Slot

from vldesk.core.errors import VldeskError, WriteError
from vldesk.core.inference.remote import Endpoint
from vldesk.core.inference.remote.saved import ChatServer, SavedServers
from vldesk.core.models.catalog import Family
from vldesk.gui.controllers.models import ModelController, ModelState
from vldesk.gui.dialogs.connect_dialog import ConnectDialog
from vldesk.gui.main_window import MainWindow
from vldesk.gui.widgets.message_banner import Level
from vldesk.gui.workers.remote import ConnectRequest

log = logging.getLogger(__name__)


def _tr(text: str) -> str:
    return QCoreApplication.translate("DesktopApp", text)


class ServerController(QObject):
    """Opens the connect dialog, remembers the server (its key only when asked), and hands the
    choice to the :class:`ModelController`, whose worker then answers through the server.

    The server the chat is connected to when the app closes is connected to again at the next
    start, in the background (:meth:`reconnect`); if that fails, the local model loads.
    """

    def __init__(
        self,
        models: ModelController,
        saved: SavedServers,
        window: MainWindow,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._models = models
        self._saved = saved
        self._window = window
        self._dialog: ConnectDialog | None = None
        #: The server being connected to again at start, until it answers or fails.
        self._reconnecting: ChatServer | None = None
        #: That server did not answer and the local model took over: it is tried again at the
        #: next start, unless another model is chosen meanwhile.
        self._fell_back: ChatServer | None = None
        #: The local model the fall-back asked for is still loading.
        self._falling_back = False
        #: The key each server was connected with (``None``: none), to tell at quit whether
        #: the next start would have it.
        self._keys_used: dict[str, str | None] = {}
        window.connect_server_action.triggered.connect(lambda: self.open_dialog())
        window.disconnect_server_action.triggered.connect(models.disconnect_server)
        models.state_changed.connect(self._on_model_state)

    def open_dialog(self) -> ConnectDialog:
        """Model → Connect to a Server (not modal; asked again, it comes to the front)."""
        dialog = self._dialog
        if dialog is None:
            dialog = ConnectDialog(self._saved, self._window)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.accepted.connect(self._on_accepted)
            dialog.finished.connect(self._on_closed)
            self._dialog = dialog
        if dialog.isVisible():  # asked for again: bring it to the front
            dialog.raise_()
            dialog.activateWindow()
        dialog.show()
        return dialog

    @Slot()
    def _on_accepted(self) -> None:
        dialog = self._dialog
        request = dialog.request if dialog is not None else None
        if dialog is None or request is None:
            return
        url = request.endpoint.display
        try:
            self._saved.remember(url)
            if dialog.remember_key_check.isChecked():
                if dialog.typed_key:
                    self._saved.save_key(url, dialog.typed_key)
            else:
                self._saved.save_key(url, None)
        except WriteError as exc:
            self._window.show_message(
                _tr("The server could not be remembered: {0}").format(exc), Level.WARNING
            )
        self._keys_used[url] = request.endpoint.api_key
        self._models.connect_server(request)

    @Slot(int)
    def _on_closed(self, _result: int) -> None:
        self._dialog = None

    def reconnect(self) -> bool:
        """At start: connect the chat again to the server it answered on when the app closed
        (with the key saved for it, or ``VLDESK_API_KEY``). False if there was none."""
        chat = self._saved.chat_server()
        if chat is None:
            return False
        try:
            endpoint = Endpoint.parse(chat.url, self._saved.key_for(chat.url))
        except VldeskError as exc:
            log.warning("not connecting to the last server again: %s", exc)
            return False
        log.info("connecting to %s again, as when vldesk closed", endpoint.display)
        self._keys_used[endpoint.display] = endpoint.api_key
        self._reconnecting = chat
        if not self._models.connect_server(ConnectRequest(endpoint, chat.model, chat.family)):
            self._reconnecting = None
            return False
        return True

    def shut_down(self) -> None:
        """The app is closing: keep the server the chat answers on for the next start (none:
        the local model then), unless its key would be missing then (typed but not remembered,
        and not ``VLDESK_API_KEY``): it would refuse every start. A connection still being made
        at start is kept as it was."""
        info = self._models.info
        chat: ChatServer | None = None
        if info is not None and info.server is not None:
            used = self._keys_used.get(info.server)
            if used is not None and self._saved.key_for(info.server) != used:
                log.info(
                    "%s is not connected again at the next start: its key is not kept", info.server
                )
            else:
                known = {member.value: member for member in Family}
                chat = ChatServer(info.server, info.name, known.get(info.family))
        elif self._reconnecting is not None or self._fell_back is not None:
            return  # it did not answer this time: it is tried again
        try:
            self._saved.set_chat_server(chat)
        except WriteError as exc:
            log.warning("the server is not connected again at the next start: %s", exc)

    @Slot(object)
    def _on_model_state(self, state: ModelState) -> None:
        self._window.disconnect_server_action.setEnabled(self._models.server is not None)
        if self._reconnecting is not None:
            if state is not ModelState.LOADING:
                self._reconnected(self._reconnecting, state)
        elif self._falling_back:
            self._falling_back = state is ModelState.LOADING
        elif state is ModelState.LOADING:
            self._fell_back = None  # another model was chosen: it is the one from now on

    def _reconnected(self, chat: ChatServer, state: ModelState) -> None:
        """The connection made at start answered, or failed: then the local model loads (the
        banner says why; with none installed, the model manager opens in its first-run form),
        unless one was chosen meanwhile."""
        self._reconnecting = None
        if state is not ModelState.FAILED or self._models.ref is not None:
            return
        reason = self._models.failure or ""
        self._window.show_message(
            _tr("{0} could not be reached again, so the model on this computer is used. {1}")
            .format(chat.url, reason)
            .strip(),
            Level.WARNING,
        )
        self._fell_back = chat
        self._falling_back = True
        self._models.load_initial_model()
        self._falling_back = self._models.state is ModelState.LOADING  # none to load: done
        if self._models.ref is None:  # nothing to load: offer to download or import one
            self._models.open_model_dialog(first_run=True)
