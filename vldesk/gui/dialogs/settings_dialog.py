"""Edit the user's settings: model, device, precision, generation and presets."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vldesk.core.inference.cpu.quantized_weights import WeightFormat
from vldesk.core.inference.device import DEVICE_CHOICES, DTYPE_CHOICES
from vldesk.core.inference.engine_choice import ENGINE_CHOICES
from vldesk.core.inference.sampling import Sampling
from vldesk.core.models.store import ModelStore
from vldesk.core.paths import app_paths
from vldesk.core.settings import FONT_SIZES, Settings
from vldesk.gui.i18n import LANGUAGE_CHOICES
from vldesk.gui.widgets.folder_field import FolderField

_LANGUAGE_NAMES = {"en": "English", "zh": "中文 (简体)"}
#: The sampling settings the dialog edits; ``None`` in the settings follows the model.
_SAMPLING = ("temperature", "top_p", "top_k", "repetition_penalty")


class SettingsDialog(QDialog):
    """Shows a copy of the settings; :meth:`settings` returns the edited copy."""

    def __init__(
        self,
        settings: Settings,
        models: Sequence[tuple[str, str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self._original = settings
        tr = self.tr

        self.model_combo = QComboBox(self)
        self.model_combo.setAccessibleName(tr("Model"))
        for label, ref in models:
            self.model_combo.addItem(label, ref)
        current = settings.last_model or settings.model
        if self.model_combo.findData(current) < 0:
            self.model_combo.addItem(current, current)
        self.model_combo.setCurrentIndex(self.model_combo.findData(current))

        self.device_combo = self._choices(tr("Device"), DEVICE_CHOICES, settings.device)
        self.dtype_combo = self._choices(tr("Precision"), DTYPE_CHOICES, settings.dtype)
        self.weights_combo = QComboBox(self)
        self.weights_combo.setAccessibleName(tr("Weights on the CPU"))
        self.weights_combo.addItem(tr("Full (most accurate)"), WeightFormat.FULL.value)
        self.weights_combo.addItem(
            tr("int8 (faster answers, slightly less accurate)"), WeightFormat.INT8.value
        )
        self.weights_combo.addItem(
            tr("int4 (fastest answers, least accurate)"), WeightFormat.INT4.value
        )
        self.weights_combo.setCurrentIndex(max(0, self.weights_combo.findData(settings.weights)))
        self.weights_combo.setToolTip(
            tr(
                "Stores the language model's weights in 8 or 4 bits on the CPU, so each new "
                "word needs fewer memory reads, at some cost in accuracy. GPUs ignore this "
                "setting."
            )
        )

        self.engine_combo = QComboBox(self)
        self.engine_combo.setAccessibleName(tr("Engine"))
        engine_names = (
            tr("Automatic (the faster one on this CPU)"),
            tr("transformers (safetensors models)"),
            tr("llama.cpp (GGUF models, CPU)"),
        )
        for engine, engine_name in zip(ENGINE_CHOICES, engine_names, strict=True):
            self.engine_combo.addItem(engine_name, engine)
        self.engine_combo.setCurrentIndex(max(0, self.engine_combo.findData(settings.engine)))
        self.engine_combo.setToolTip(
            tr(
                "Automatic runs a model's downloaded GGUF version on llama.cpp where that is "
                "faster: on a CPU without AMX or AVX512-BF16, when llama.cpp is installed."
            )
        )

        self.max_tokens_spin = QSpinBox(self)
        self.max_tokens_spin.setRange(1, 32768)
        self.max_tokens_spin.setValue(settings.max_new_tokens)
        self.max_tokens_spin.setAccessibleName(tr("Maximum new tokens"))
        self.greedy_check = QCheckBox(tr("Greedy decoding (the same answer every time)"), self)
        self.greedy_check.setChecked(settings.greedy)
        # Sampling shows the model's own values (its generation_config.json) until the user
        # changes one; only a changed value becomes the user's.
        self._store = ModelStore(app_paths(settings.models_dir).models_dir)
        self.temperature_spin = self._number(tr("Temperature"), 0.01, 2.0)
        self.top_p_spin = self._number(tr("Top-p"), 0.05, 1.0)
        self.top_k_spin = QSpinBox(self)
        self.top_k_spin.setRange(0, 1000)
        self.top_k_spin.setAccessibleName(tr("Top-k"))
        self.repetition_spin = self._number(tr("Repetition penalty"), 1.0, 2.0)
        self._sampling_spins: dict[str, QSpinBox | QDoubleSpinBox] = {
            "temperature": self.temperature_spin,
            "top_p": self.top_p_spin,
            "top_k": self.top_k_spin,
            "repetition_penalty": self.repetition_spin,
        }
        self._chosen = {name: getattr(settings, name) for name in _SAMPLING}
        self._shown: dict[str, float] = {}
        self.model_sampling_label = QLabel(self)
        self.model_sampling_label.setWordWrap(True)
        self.model_sampling_button = QPushButton(tr("Use the model's &values"), self)
        self.model_sampling_button.clicked.connect(self.use_model_sampling)
        self.model_combo.currentIndexChanged.connect(self._show_model_sampling)
        self._show_model_sampling()
        self.greedy_check.toggled.connect(self._update_sampling)

        self.image_tokens_spin = QSpinBox(self)
        self.image_tokens_spin.setRange(64, 16384)
        self.image_tokens_spin.setSingleStep(64)
        self.image_tokens_spin.setValue(max(64, settings.max_image_tokens))
        self.image_tokens_spin.setAccessibleName(tr("Image token budget"))
        self.image_tokens_spin.setToolTip(
            tr("More tokens keep more detail (small text) but answer more slowly.")
        )

        self.language_combo = QComboBox(self)
        self.language_combo.setAccessibleName(tr("Language of the presets"))
        for code, name in _LANGUAGE_NAMES.items():
            self.language_combo.addItem(name, code)
        self.language_combo.setCurrentIndex(
            max(0, self.language_combo.findData(settings.preset_language))
        )

        self.ui_language_combo = QComboBox(self)
        self.ui_language_combo.setAccessibleName(tr("Interface language"))
        for code, name in LANGUAGE_CHOICES.items():
            self.ui_language_combo.addItem(name or tr("Automatic (system language)"), code)
        if self.ui_language_combo.findData(settings.ui_language) < 0:
            self.ui_language_combo.addItem(settings.ui_language, settings.ui_language)
        self.ui_language_combo.setCurrentIndex(
            self.ui_language_combo.findData(settings.ui_language)
        )

        model_box = QGroupBox(tr("Model"), self)
        model_form = QFormLayout(model_box)
        model_form.addRow(tr("&Model:"), self.model_combo)
        model_form.addRow(tr("&Device:"), self.device_combo)
        model_form.addRow(tr("&Precision:"), self.dtype_combo)
        model_form.addRow(tr("&Weights on the CPU:"), self.weights_combo)
        model_form.addRow(tr("&Engine:"), self.engine_combo)
        answer_box = QGroupBox(tr("Answers"), self)
        answer_form = QFormLayout(answer_box)
        answer_form.addRow(tr("Max new &tokens:"), self.max_tokens_spin)
        answer_form.addRow(self.greedy_check)
        answer_form.addRow(tr("T&emperature:"), self.temperature_spin)
        answer_form.addRow(tr("Top-&p:"), self.top_p_spin)
        answer_form.addRow(tr("Top-&k:"), self.top_k_spin)
        answer_form.addRow(tr("&Repetition penalty:"), self.repetition_spin)
        answer_form.addRow(self.model_sampling_label)
        answer_form.addRow(self.model_sampling_button)
        answer_form.addRow(tr("&Image token budget:"), self.image_tokens_spin)
        answer_form.addRow(tr("Preset &language:"), self.language_combo)
        interface_box = QGroupBox(tr("Interface"), self)
        interface_form = QFormLayout(interface_box)
        interface_form.addRow(tr("Interf&ace language:"), self.ui_language_combo)
        restart_note = QLabel(
            tr("Applied when vldesk starts again; it offers to restart now."), interface_box
        )
        restart_note.setEnabled(False)
        interface_form.addRow(restart_note)
        self.theme_combo = QComboBox(self)
        self.theme_combo.setAccessibleName(tr("Colours"))
        for code, name in (
            ("system", tr("As the system")),
            ("light", tr("Light")),
            ("dark", tr("Dark")),
        ):
            self.theme_combo.addItem(name, code)
        self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(settings.theme)))
        interface_form.addRow(tr("C&olours:"), self.theme_combo)
        self.font_size_spin = QSpinBox(self)
        self.font_size_spin.setAccessibleName(tr("Font size"))
        self.font_size_spin.setRange(FONT_SIZES[1] - 1, FONT_SIZES[2])
        # The value below the range stands for the system's size (stored as 0).
        self.font_size_spin.setSpecialValueText(tr("As the system"))
        self.font_size_spin.setSuffix(tr(" pt"))
        self.font_size_spin.setValue(settings.font_size or FONT_SIZES[1] - 1)
        interface_form.addRow(tr("Font si&ze:"), self.font_size_spin)
        self.models_folder = FolderField(
            settings.models_dir,
            str(app_paths().models_dir),
            tr("Models folder"),
            self,
        )
        model_form.addRow(tr("Models &folder:"), self.models_folder)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(model_box)
        layout.addWidget(answer_box)
        layout.addWidget(interface_box)
        layout.addWidget(buttons)
        self._update_sampling()

    def _font_size(self) -> int:
        size = self.font_size_spin.value()
        return size if size >= FONT_SIZES[1] else 0

    def _choices(self, name: str, choices: Sequence[str], current: str) -> QComboBox:
        combo = QComboBox(self)
        combo.setAccessibleName(name)
        for choice in choices:
            combo.addItem(choice, choice)
        if combo.findData(current) < 0:
            combo.addItem(current, current)  # e.g. "cuda:1"
        combo.setCurrentIndex(combo.findData(current))
        return combo

    def _number(self, name: str, low: float, high: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setRange(low, high)
        spin.setSingleStep(0.05)
        spin.setDecimals(2)
        spin.setAccessibleName(name)
        return spin

    def model_sampling(self) -> Sampling:
        """The sampling the selected model recommends (read from its files, not loaded)."""
        return self._store.recommended_sampling(str(self.model_combo.currentData()))

    def _show_model_sampling(self) -> None:
        """Show the selected model's values in the label, and in each spin box the user has
        not set (a value chosen before, or edited in the dialog, stays)."""
        recommended = self.model_sampling()
        self.model_sampling_label.setText(
            self.tr(
                "Recommended by the model: temperature {0}, top-p {1}, top-k {2}, "
                "repetition penalty {3}."
            ).format(
                f"{recommended.temperature:g}",
                f"{recommended.top_p:g}",
                recommended.top_k,
                f"{recommended.repetition_penalty:g}",
            )
        )
        for name, spin in self._sampling_spins.items():
            if name in self._shown and spin.value() != self._shown[name]:
                continue  # edited here: the user's
            chosen = self._chosen[name]
            value = getattr(recommended, name) if chosen is None else chosen
            if isinstance(spin, QSpinBox):
                spin.setValue(int(value))
            else:
                spin.setValue(float(value))
            self._shown[name] = spin.value()

    def use_model_sampling(self) -> None:
        """Forget the user's sampling values: follow whichever model is loaded."""
        self._chosen = dict.fromkeys(_SAMPLING)
        self._shown.clear()
        self._show_model_sampling()

    def _update_sampling(self) -> None:
        sampling = not self.greedy_check.isChecked()
        self.temperature_spin.setEnabled(sampling)
        self.top_p_spin.setEnabled(sampling)
        self.top_k_spin.setEnabled(sampling)

    def settings(self) -> Settings:
        """The settings as edited (fields the dialog does not show are kept)."""
        model = str(self.model_combo.currentData())
        changes: dict[str, object] = {
            "device": str(self.device_combo.currentData()),
            "dtype": str(self.dtype_combo.currentData()),
            "weights": str(self.weights_combo.currentData()),
            "engine": str(self.engine_combo.currentData()),
            "max_new_tokens": self.max_tokens_spin.value(),
            "greedy": self.greedy_check.isChecked(),
            "max_image_tokens": self.image_tokens_spin.value(),
            "preset_language": str(self.language_combo.currentData()),
            "ui_language": str(self.ui_language_combo.currentData()),
            "theme": str(self.theme_combo.currentData()),
            "font_size": self._font_size(),
            "models_dir": self.models_folder.folder(),
        }
        for name, spin in self._sampling_spins.items():
            value = spin.value()
            # A value left as shown stays as it was: the model's (None) or the user's own.
            changes[name] = value if value != self._shown[name] else self._chosen[name]
        if model != (self._original.last_model or self._original.model):
            changes["model"] = model
            changes["last_model"] = model
        return self._original.replace(**changes)
