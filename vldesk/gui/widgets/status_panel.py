"""Status-bar figures: model, device and precision, image tokens, speed and memory."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget


def format_bytes(size: int | None) -> str:
    if size is None:
        return "–"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


class StatusPanel(QWidget):
    """A row of labels; each setter updates one figure. Empty figures are hidden."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.model_label = self._label(self.tr("Model"))
        self.device_label = self._label(self.tr("Device and precision"))
        self.image_tokens_label = self._label(self.tr("Image tokens"))
        self.first_token_label = self._label(self.tr("Time to first token"))
        self.speed_label = self._label(self.tr("Tokens per second"))
        self.memory_label = self._label(self.tr("Memory in use"))
        for index, label in enumerate(
            (
                self.model_label,
                self.device_label,
                self.image_tokens_label,
                self.first_token_label,
                self.speed_label,
                self.memory_label,
            )
        ):
            if index:
                separator = QFrame(self)
                separator.setFrameShape(QFrame.Shape.VLine)
                separator.setFrameShadow(QFrame.Shadow.Sunken)
                layout.addWidget(separator)
            layout.addWidget(label)
        self.set_model(None)

    def _label(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setAccessibleName(name)
        label.setToolTip(name)
        return label

    def set_model(
        self, name: str | None, device: str = "", dtype: str = "", reason: str = ""
    ) -> None:
        self.model_label.setText(name or self.tr("No model loaded"))
        self.device_label.setText(f"{device} · {dtype}" if device else "–")
        self.device_label.setToolTip(reason or self.tr("Device and precision"))

    def set_loading(self, name: str) -> None:
        self.model_label.setText(self.tr("Loading {0}…").format(name))
        self.device_label.setText("–")

    def set_generation(
        self,
        image_tokens: int | None,
        first_token_s: float | None,
        tokens_per_s: float | None,
    ) -> None:
        tr = self.tr
        self.image_tokens_label.setText(
            tr("{0} image tokens").format(image_tokens) if image_tokens is not None else ""
        )
        self.first_token_label.setText(
            tr("first token {0:.2f} s").format(first_token_s) if first_token_s is not None else ""
        )
        self.speed_label.setText(
            tr("{0:.1f} tokens/s").format(tokens_per_s) if tokens_per_s is not None else ""
        )

    def set_memory(self, size: int | None) -> None:
        self.memory_label.setText(self.tr("{0} in use").format(format_bytes(size)) if size else "")
