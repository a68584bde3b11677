"""Status-bar figures: model, device and precision, image tokens, speed and memory."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from vldesk.core.units import format_bytes


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
        self._separators: dict[QLabel, QFrame] = {}
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
                self._separators[label] = separator
            layout.addWidget(label)
        # The figures give way (cut off at the right, each named in its tool tip) rather than
        # hold the window wider than half a screen.
        self.setMinimumWidth(1)  # an explicit minimum overrides the labels' total width
        self.set_model(None)
        self.set_generation(None, None, None)
        self.set_memory(None)

    def _set(self, label: QLabel, text: str) -> None:
        """Set a figure; an empty one is hidden together with its separator."""
        label.setText(text)
        label.setVisible(bool(text))
        separator = self._separators.get(label)
        if separator is not None:
            separator.setVisible(bool(text))

    def _label(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setAccessibleName(name)
        label.setToolTip(name)
        return label

    def set_model(
        self,
        name: str | None,
        device: str = "",
        dtype: str = "",
        reason: str = "",
        weights: str = "full",
        engine: str = "",
    ) -> None:
        """``engine`` is named in the tip; llama.cpp, the engine one chooses, in the bar too."""
        self._set(self.model_label, name or self.tr("No model loaded"))
        shown_engine = [engine] if engine == "llama.cpp" else []
        parts = [*shown_engine, device, dtype]  # a server has no dtype
        parts += [weights] if weights != "full" else []
        self._set(self.device_label, " · ".join(p for p in parts if p) if device else "")
        tip = reason or self.tr("Device and precision")
        self.device_label.setToolTip(self.tr("{0}: {1}").format(engine, tip) if engine else tip)

    def set_loading(self, name: str) -> None:
        self._set(self.model_label, self.tr("Loading {0}…").format(name))
        self._set(self.device_label, "")

    def set_generation(
        self,
        image_tokens: int | None,
        first_token_s: float | None,
        tokens_per_s: float | None,
        reused_tokens: int = 0,
    ) -> None:
        """The last answer's figures; ``reused_tokens`` came from the previous answer's cache."""
        tr = self.tr
        self._set(
            self.image_tokens_label,
            tr("{0} image tokens").format(image_tokens) if image_tokens is not None else "",
        )
        self._set(
            self.first_token_label,
            tr("first token {0:.2f} s").format(first_token_s) if first_token_s is not None else "",
        )
        self.first_token_label.setToolTip(
            tr(
                "A follow-up: {0} tokens of the conversation, the image among them, were "
                "continued from the previous answer instead of being read again."
            ).format(reused_tokens)
            if reused_tokens
            else ""
        )
        self._set(
            self.speed_label,
            tr("{0:.1f} tokens/s").format(tokens_per_s) if tokens_per_s is not None else "",
        )

    def set_memory(self, size: int | None, answer_peak: int | None = None) -> None:
        """What the process (or the GPU) holds now; ``answer_peak``: the most the last answer
        needed, for the tooltip."""
        self._set(
            self.memory_label, self.tr("{0} in use").format(format_bytes(size)) if size else ""
        )
        tip = self.tr("Memory this process holds now (on a GPU: what the GPU holds)")
        if answer_peak:
            tip += "\n" + self.tr("The last answer peaked at {0}").format(format_bytes(answer_peak))
        self.memory_label.setToolTip(tip)
