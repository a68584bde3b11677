"""Model → Connect to a Server: an address, an optional API key, and one of the served models."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vldesk.core.errors import VldeskError
from vldesk.core.inference.remote import Endpoint
from vldesk.core.inference.remote.saved import API_KEY_ENV, SavedServers, env_api_key
from vldesk.core.models.catalog import Family
from vldesk.gui.i18n import error_text, translated
from vldesk.gui.workers.model_listing import ModelListing, ServerModels
from vldesk.gui.workers.remote import ConnectRequest

#: An address as the placeholder shows it (an address, the same in every language).
EXAMPLE_URL = "http://127.0.0.1:8000/v1"
#: The family choices: shown name, value (``None``: read from the served model's name).
FAMILY_CHOICES: tuple[tuple[str, Family | None], ...] = (
    ("Qwen2.5-VL", Family.QWEN2_5_VL),
    ("Qwen3-VL", Family.QWEN3_VL),
    ("Qwen3.5", Family.QWEN3_5),
)


class ConnectDialog(QDialog):
    """Lists a server's models in the background and returns a :class:`ConnectRequest`.

    The key typed here (or saved for the address, or in ``VLDESK_API_KEY``) is sent to that
    address only; it is saved only when "Remember the key" is ticked, in a private file.
    """

    def __init__(self, saved: SavedServers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectDialog")
        self.setWindowTitle(self.tr("Connect to a Server"))
        self._saved = saved
        self._listing = ModelListing("vldesk-list-models", self)
        #: Set when Connect was pressed.
        self.request: ConnectRequest | None = None
        tr = self.tr

        self.address_combo = QComboBox(self)
        self.address_combo.setEditable(True)
        self.address_combo.setAccessibleName(tr("Server address"))
        self.address_combo.addItems(saved.recent())
        line = self.address_combo.lineEdit()
        assert line is not None  # the combo is editable
        line.setPlaceholderText(EXAMPLE_URL)
        self.key_edit = QLineEdit(self)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setAccessibleName(tr("API key"))
        self.key_edit.setPlaceholderText(
            tr("From {0}").format(API_KEY_ENV) if env_api_key() else tr("Optional")
        )
        self.remember_key_check = QCheckBox(tr("&Remember the key on this computer"), self)
        self.remember_key_check.setToolTip(
            tr("Kept in a file only you can read, never in the settings, history or logs.")
        )
        self.list_button = QPushButton(tr("&List Models"), self)
        self.model_combo = QComboBox(self)
        self.model_combo.setAccessibleName(tr("Served model"))
        self.model_combo.setEnabled(False)
        self.family_combo = QComboBox(self)
        self.family_combo.setAccessibleName(tr("Model family"))
        self.family_combo.addItem(tr("From the model's name"), None)
        for label, family in FAMILY_CHOICES:
            self.family_combo.addItem(label, family)
        self.warning_label = QLabel(self)
        self.warning_label.setObjectName("plainHttpWarning")
        self.warning_label.setWordWrap(True)
        self.warning_label.hide()
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName(tr("Server status"))
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        address_row = QHBoxLayout()
        address_row.addWidget(self.address_combo, 1)
        address_row.addWidget(self.list_button)
        form = QFormLayout()
        form.addRow(self._label(tr("&Address:"), self.address_combo), address_row)
        form.addRow(self._label(tr("API &key:"), self.key_edit), self.key_edit)
        form.addRow("", self.remember_key_check)
        form.addRow(self._label(tr("&Model:"), self.model_combo), self.model_combo)
        form.addRow(self._label(tr("&Family:"), self.family_combo), self.family_combo)
        note = QLabel(
            tr(
                "Any OpenAI-compatible server: vLLM, SGLang, llama.cpp, LM Studio, Ollama, or "
                "another computer running vldesk serve."
            ),
            self,
        )
        note.setWordWrap(True)
        self.buttons = QDialogButtonBox(self)
        self.connect_button = self.buttons.addButton(
            tr("&Connect"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.connect_button.setEnabled(False)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())

        self._listing.listed.connect(self._on_listed)
        self.list_button.clicked.connect(self.list_models)
        line.returnPressed.connect(self.list_models)
        self.address_combo.currentTextChanged.connect(self._address_changed)
        self.key_edit.textChanged.connect(self._update_warning)
        self.model_combo.currentIndexChanged.connect(self._update_connect)
        self._address_changed(self.address_combo.currentText())

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    # -- what was entered --------------------------------------------------------------------

    def endpoint(self) -> Endpoint:
        """The address and the key to use with it (typed, else saved, else the env var's).

        Raises:
            VldeskError: the address is not an http(s) URL.
        """
        text = self.address_combo.currentText().strip()
        if not text:
            raise VldeskError(self.tr("Enter the server's address, e.g. {0}").format(EXAMPLE_URL))
        typed = self.key_edit.text().strip()
        endpoint = Endpoint.parse(text, api_key=typed or None)
        if endpoint.api_key is None:
            endpoint = Endpoint.parse(text, api_key=self._saved.key_for(endpoint.display))
        return endpoint

    @property
    def family(self) -> Family | None:
        data = self.family_combo.currentData()
        return data if isinstance(data, Family) else None

    @Slot(str)
    def _address_changed(self, text: str) -> None:
        self._listing.forget()  # an answer for the old address no longer counts
        self.list_button.setEnabled(True)
        self.model_combo.clear()
        self.model_combo.setEnabled(False)
        self.status_label.clear()
        try:
            url = Endpoint.parse(text).display if text.strip() else ""
        except VldeskError:
            url = ""
        saved = bool(url) and self._saved.has_saved_key(url)
        self.remember_key_check.setChecked(saved)
        self._update_warning()

    @Slot()
    def _update_warning(self) -> None:
        try:
            endpoint = self.endpoint()
        except VldeskError:
            self.warning_label.hide()
            return
        if endpoint.plain_http_warning() is None:
            self.warning_label.hide()
            return
        if endpoint.api_key:
            text = self.tr(
                "Plain http:// to another computer: the images and the API key cross the "
                "network unencrypted. Use https:// (or an SSH tunnel) where the network is "
                "not yours."
            )
        else:
            text = self.tr(
                "Plain http:// to another computer: the images cross the network unencrypted. "
                "Use https:// (or an SSH tunnel) where the network is not yours."
            )
        self.warning_label.setText("⚠ " + text)
        self.warning_label.show()

    # -- listing -----------------------------------------------------------------------------

    @Slot()
    def list_models(self) -> None:
        """Ask the server for its models in the background; the answer fills the model list."""
        try:
            endpoint = self.endpoint()
        except VldeskError as exc:
            self.status_label.setText(error_text(exc))
            return
        self.status_label.setText(self.tr("Asking {0} for its models…").format(endpoint.display))
        self.list_button.setEnabled(False)
        self._listing.start([endpoint])

    @Slot(object)
    def _on_listed(self, answers: list[ServerModels]) -> None:
        self.list_button.setEnabled(True)
        self.model_combo.clear()
        ((_url, outcome),) = answers
        if isinstance(outcome, str):
            self.status_label.setText(translated(outcome))
        elif not outcome:
            self.status_label.setText(self.tr("The server serves no model (yet)."))
        else:
            self.model_combo.addItems(outcome)
            self.status_label.setText(self.tr("Models on this server: {0}.").format(len(outcome)))
        self.model_combo.setEnabled(self.model_combo.count() > 0)
        self._update_connect()

    @Slot()
    def _update_connect(self) -> None:
        self.connect_button.setEnabled(bool(self.model_combo.currentText()))

    # -- closing -----------------------------------------------------------------------------

    def accept(self) -> None:
        model = self.model_combo.currentText()
        try:
            endpoint = self.endpoint()
        except VldeskError as exc:
            self.status_label.setText(error_text(exc))
            return
        if not model:
            self.list_models()
            return
        self.request = ConnectRequest(endpoint, model, self.family)
        self._stop_listing()
        super().accept()

    @property
    def typed_key(self) -> str | None:
        """The key typed in the dialog (to save when asked); ``None`` when none was typed."""
        return self.key_edit.text().strip() or None

    def reject(self) -> None:
        self._stop_listing()
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop_listing()
        super().closeEvent(event)

    def _stop_listing(self) -> None:
        self._listing.stop()
