"""The batch dialog's "Run on" group: this computer's model, or OpenAI-compatible servers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vldesk.core.errors import VldeskError
from vldesk.core.inference.remote import Endpoint
from vldesk.core.inference.remote.saved import API_KEY_ENV, SavedServers, env_api_key
from vldesk.gui.i18n import error_text, translated
from vldesk.gui.workers.model_listing import ModelListing, ServerModels
from vldesk.gui.workers.remote import ServerTarget

#: Addresses as the placeholder shows them (the same in every language).
EXAMPLE_URLS = "http://gpu1:8000/v1\nhttp://gpu2:8000/v1"
#: The most requests in flight per server one can ask for here.
MAX_CONCURRENCY = 256


class RunOnBox(QGroupBox):
    """Where the batch runs. With servers, :meth:`check` lists the served models in the
    background (the job is named after the model they serve) and :meth:`target` says how to
    reach them; keys are typed, saved for a server, or from ``VLDESK_API_KEY``.

    Signals:
        checked(): a check of the servers ended (:attr:`served_model` is set if one answered).
    """

    checked = Signal()

    def __init__(
        self,
        saved: SavedServers,
        *,
        local_model: str | None,
        servers: Sequence[str] = (),
        use_servers: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Run on"))
        self.setObjectName("runOnBox")
        self._saved = saved
        self._listing = ModelListing("vldesk-check-servers", self)
        self._then: Callable[[], None] | None = None
        tr = self.tr

        local_text = (
            tr("&This computer ({0})").format(local_model)
            if local_model
            else tr("&This computer (no model is loaded)")
        )
        self.local_radio = QRadioButton(local_text, self)
        self.local_radio.setEnabled(local_model is not None)
        self.servers_radio = QRadioButton(tr("Ser&vers (OpenAI-compatible):"), self)
        group = QButtonGroup(self)
        group.addButton(self.local_radio)
        group.addButton(self.servers_radio)
        self.servers_edit = QPlainTextEdit(self)
        self.servers_edit.setAccessibleName(tr("Server addresses, one per line"))
        self.servers_edit.setPlaceholderText(EXAMPLE_URLS)
        self.servers_edit.setTabChangesFocus(True)
        self.servers_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        self.servers_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.servers_edit.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.servers_edit.setPlainText("\n".join(servers))
        self.key_edit = QLineEdit(self)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setAccessibleName(tr("API key"))
        self.key_edit.setPlaceholderText(
            tr("From {0}").format(API_KEY_ENV) if env_api_key() else tr("Optional")
        )
        self.concurrency_spin = QSpinBox(self)
        self.concurrency_spin.setRange(0, MAX_CONCURRENCY)
        self.concurrency_spin.setSpecialValueText(tr("Auto"))
        self.concurrency_spin.setAccessibleName(tr("Requests in flight per server"))
        self.concurrency_spin.setToolTip(
            tr(
                "Auto measures each server with a few tiny requests, then adapts: fewer while "
                "a server says it is busy or slows down, more while it keeps up."
            )
        )
        self.check_button = QPushButton(tr("C&heck Servers"), self)
        self.model_combo = QComboBox(self)
        self.model_combo.setAccessibleName(tr("Served model"))
        self.model_combo.setEnabled(False)
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName(tr("Server status"))
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.server_fields = QWidget(self)
        form = QFormLayout(self.server_fields)
        form.setContentsMargins(24, 0, 0, 0)
        form.addRow(tr("Addresses:"), self.servers_edit)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(QLabel(tr("In flight per server:"), self))
        key_row.addWidget(self.concurrency_spin)
        form.addRow(tr("API key:"), key_row)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.check_button)
        form.addRow(tr("Model:"), model_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.local_radio)
        layout.addWidget(self.servers_radio)
        layout.addWidget(self.server_fields)
        layout.addWidget(self.status_label)

        (self.servers_radio if use_servers or local_model is None else self.local_radio).setChecked(
            True
        )
        self._listing.listed.connect(self._on_answered)
        self.check_button.clicked.connect(lambda: self.check())
        self.servers_radio.toggled.connect(self._update_enabled)
        self.servers_edit.textChanged.connect(self._servers_edited)
        self._update_enabled()

    # -- what was chosen ---------------------------------------------------------------------

    @property
    def uses_servers(self) -> bool:
        return self.servers_radio.isChecked()

    @property
    def served_model(self) -> str | None:
        return self.model_combo.currentText() or None

    def endpoints(self) -> tuple[Endpoint, ...]:
        """Each address with its key: typed here, else saved for it, else the env var's.

        Raises:
            VldeskError: no address, or one that is not an http(s) URL.
        """
        lines = [line.strip() for line in self.servers_edit.toPlainText().splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise VldeskError(self.tr("Enter at least one server address."))
        typed = self.key_edit.text().strip() or None
        endpoints = []
        for line in lines:
            endpoint = Endpoint.parse(line, api_key=typed)
            if endpoint.api_key is None:
                endpoint = Endpoint.parse(line, api_key=self._saved.key_for(endpoint.display))
            endpoints.append(endpoint)
        return tuple(dict.fromkeys(endpoints))

    def target(self) -> ServerTarget | None:
        """The servers to run on; ``None`` for this computer.

        Raises:
            VldeskError: an address cannot be used.
        """
        if not self.uses_servers:
            return None
        return ServerTarget(self.endpoints(), self.concurrency_spin.value() or None)

    def warnings(self) -> list[str]:
        """Plain http:// to another computer, one line per such server."""
        try:
            endpoints = self.endpoints()
        except VldeskError:
            return []
        plain = [e.host for e in endpoints if e.plain_http_warning() is not None]
        if not plain:
            return []
        return [
            self.tr(
                "⚠ Plain http:// to another computer ({0}): the images and any API key cross "
                "the network unencrypted; use https:// or an SSH tunnel."
            ).format(", ".join(plain))
        ]

    # -- checking ----------------------------------------------------------------------------

    def check(self, then: Callable[[], None] | None = None) -> None:
        """List each server's models in the background; ``then`` runs once a model is known."""
        try:
            endpoints = self.endpoints()
        except VldeskError as exc:
            self.status_label.setText(error_text(exc))
            return
        self._then = then
        self.check_button.setEnabled(False)
        self.status_label.setText(self.tr("Asking the servers for their models…"))
        self._listing.start(endpoints)

    @Slot(object)
    def _on_answered(self, answers: list[ServerModels]) -> None:
        self.check_button.setEnabled(True)
        lists = [names for _url, names in answers if isinstance(names, list)]
        # Only a model every answering server serves can run the whole job.
        common = [name for name in (lists[0] if lists else []) if all(name in n for n in lists)]
        lines = [
            self.tr("{0}: {1}").format(
                url, translated(names) if isinstance(names, str) else ", ".join(names)
            )
            for url, names in answers
        ]
        if lists and not common:
            lines.append(self.tr("The servers serve no model in common."))
        lines += self.warnings()
        self.status_label.setText("\n".join(lines))
        previous = self.model_combo.currentText()
        self.model_combo.clear()
        self.model_combo.addItems(common)
        if previous in common:
            self.model_combo.setCurrentText(previous)
        self.model_combo.setEnabled(bool(common))
        then, self._then = self._then, None
        self.checked.emit()
        if then is not None and common:
            then()

    @Slot()
    def _servers_edited(self) -> None:
        self._listing.forget()  # an answer about other addresses no longer counts
        self._then = None
        self.check_button.setEnabled(True)
        self.model_combo.clear()
        self.model_combo.setEnabled(False)
        self.status_label.setText("\n".join(self.warnings()))

    @Slot()
    def _update_enabled(self) -> None:
        self.server_fields.setEnabled(self.uses_servers)

    def stop(self) -> None:
        """Stop listening for a check still running (the dialog is closing)."""
        self._listing.stop()
