"""Model → Serve on This Computer…: the address, port and key, start and stop, where to connect."""

from __future__ import annotations

import html
import secrets

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vldesk.server.addresses import ServerAddresses
from vldesk.server.config import DEFAULT_HOST, DEFAULT_PORT, is_loopback

#: Listens on every network: phones and other computers on the network can connect.
ALL_NETWORKS = "0.0.0.0"


def new_api_key() -> str:
    """A key nobody can guess (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


class ServeDialog(QDialog):
    """Asks where to listen and shows where clients connect; the controller starts and stops.

    Signals:
        start_requested(str, int, str): host, port and API key ("" for none).
        stop_requested(): stop serving.
    """

    start_requested = Signal(str, int, str)
    stop_requested = Signal()

    def __init__(self, lan: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Serve on This Computer"))
        self.setObjectName("ServeDialog")
        self._serving = False

        intro = QLabel(
            self.tr(
                "Other programs (OpenAI or Ollama clients) and a web browser can use the model "
                "loaded in vldesk. Their questions take turns with yours."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.host_box = QComboBox(self)
        self.host_box.setEditable(True)
        self.host_box.setAccessibleName(self.tr("Address to listen on"))
        self.host_box.addItems([DEFAULT_HOST, ALL_NETWORKS, *([lan] if lan else [])])
        self.host_hint = QLabel(self)
        self.host_hint.setWordWrap(True)
        self.port_box = QSpinBox(self)
        self.port_box.setRange(0, 65535)
        self.port_box.setSpecialValueText(self.tr("Any free port"))
        self.port_box.setValue(DEFAULT_PORT)
        self.port_box.setAccessibleName(self.tr("Port"))
        self.key_edit = QLineEdit(self)
        self.key_edit.setAccessibleName(self.tr("API key"))
        self.key_edit.setPlaceholderText(self.tr("Needed for any address but 127.0.0.1"))
        self.generate_button = QPushButton(self.tr("&Generate"), self)
        self.generate_button.setToolTip(self.tr("Make a new random key"))
        self.copy_key_button = QPushButton(self.tr("Copy &Key"), self)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.generate_button)
        key_row.addWidget(self.copy_key_button)

        form = QFormLayout()
        form.addRow(self.tr("&Address:"), self.host_box)
        form.addRow("", self.host_hint)
        form.addRow(self.tr("&Port:"), self.port_box)
        key_label = QLabel(self.tr("API &key:"), self)
        key_label.setBuddy(self.key_edit)  # a row holding a layout gets no buddy by itself
        form.addRow(key_label, key_row)

        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        self.status_label.setOpenExternalLinks(True)
        self.status_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction
            | Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.hide()

        self.start_button = QPushButton(self.tr("&Start"), self)
        self.start_button.setDefault(True)
        self.copy_address_button = QPushButton(self.tr("Copy A&ddress"), self)
        self.copy_address_button.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.start_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_address_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.status_label)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

        self._address = ""
        self.host_box.currentTextChanged.connect(self._host_changed)
        self.generate_button.clicked.connect(lambda: self.key_edit.setText(new_api_key()))
        self.copy_key_button.clicked.connect(lambda: _copy(self.key_edit.text()))
        self.copy_address_button.clicked.connect(lambda: _copy(self._address))
        self.start_button.clicked.connect(self._start_or_stop)
        self._host_changed(self.host_box.currentText())
        self.show_stopped()
        self.setMinimumWidth(560)

    def host(self) -> str:
        return self.host_box.currentText().strip() or DEFAULT_HOST

    def port(self) -> int:
        return self.port_box.value()

    def api_key(self) -> str:
        return self.key_edit.text().strip()

    def _host_changed(self, host: str) -> None:
        local = is_loopback(host.strip() or DEFAULT_HOST)
        if local:
            self.host_hint.setText(self.tr("Only programs on this computer can connect."))
        else:
            self.host_hint.setText(
                self.tr(
                    "Other computers and phones on your network can connect: they need the API key."
                )
            )
            if not self.api_key():
                self.key_edit.setText(new_api_key())

    def _start_or_stop(self) -> None:
        self.error_label.hide()
        if self._serving:
            self.stop_requested.emit()
        else:
            self.start_requested.emit(self.host(), self.port(), self.api_key())

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def show_serving(self, addresses: ServerAddresses, has_key: bool) -> None:
        self._serving = True
        self.start_button.setText(self.tr("S&top"))
        for field in (self.host_box, self.port_box, self.key_edit, self.generate_button):
            field.setEnabled(False)
        local = addresses.local
        lines = [
            self.tr("Serving at {0}").format(_link(local)),
            self.tr("OpenAI API: {0}  ·  Ollama API: {1}").format(
                html.escape(f"{local}/v1"), html.escape(local)
            ),
        ]
        if addresses.network:
            lines.append(
                self.tr("On a phone or another computer on this network, open {0}").format(
                    _link(f"{addresses.network}/")
                )
            )
        if has_key:
            lines.append(
                html.escape(self.tr("Clients send the key as “Authorization: Bearer <key>”."))
            )
        self.status_label.setText("<br>".join(lines))
        self._address = addresses.network or local
        self.copy_address_button.setEnabled(True)

    def show_stopped(self) -> None:
        self._serving = False
        self.start_button.setText(self.tr("&Start"))
        for field in (self.host_box, self.port_box, self.key_edit, self.generate_button):
            field.setEnabled(True)
        self.status_label.setText(html.escape(self.tr("Not serving.")))
        self._address = ""
        self.copy_address_button.setEnabled(False)


def _link(url: str) -> str:
    escaped = html.escape(url)
    return f'<a href="{escaped}">{escaped}</a>'


def _copy(text: str) -> None:
    if text:
        QGuiApplication.clipboard().setText(text)
