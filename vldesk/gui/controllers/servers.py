"""Model → Connect to a Server / Disconnect: chat with a model that answers on another machine."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QObject, Qt, Slot

from vldesk.core.errors import WriteError
from vldesk.core.inference.remote.saved import SavedServers
from vldesk.gui.controllers.models import ModelController, ModelState
from vldesk.gui.dialogs.connect_dialog import ConnectDialog
from vldesk.gui.main_window import MainWindow
from vldesk.gui.widgets.message_banner import Level

log = logging.getLogger(__name__)


def _tr(text: str) -> str:
    return QCoreApplication.translate("DesktopApp", text)


class ServerController(QObject):
    """Opens the connect dialog, remembers the server (its key only when asked), and hands the
    choice to the :class:`ModelController`, whose worker then answers through the server."""

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
        self._models.connect_server(request)

    @Slot(int)
    def _on_closed(self, _result: int) -> None:
        self._dialog = None

    @Slot(object)
    def _on_model_state(self, state: ModelState) -> None:
        self._window.disconnect_server_action.setEnabled(self._models.server is not None)
