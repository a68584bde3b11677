"""The conversation so far, rendered as Markdown, with the current answer streaming in."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTextBrowser, QVBoxLayout, QWidget

#: Re-render the streamed Markdown at most this often, so long answers stay smooth.
RENDER_INTERVAL_MS = 50


@dataclass
class Exchange:
    """One question and its answer (still growing while it streams)."""

    question: str
    answer: str = ""
    note: str = ""


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())


class AnswerView(QWidget):
    """Shows the exchanges about the current image; the last answer may be streaming.

    Signals:
        copied(str): text was copied to the clipboard (for a status message).
    """

    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._exchanges: list[Exchange] = []
        self._placeholder = ""
        self._history_markdown = ""
        self._streaming = False

        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(False)
        self.browser.setOpenLinks(False)
        self.browser.setAccessibleName(self.tr("Answer"))
        self.browser.document().setDocumentMargin(12)

        self.copy_button = QPushButton(self.tr("Copy answer"), self)
        self.copy_button.setToolTip(self.tr("Copy the last answer as Markdown (Ctrl+Shift+C)"))
        self.copy_button.setAccessibleName(self.tr("Copy the answer"))
        self.copy_button.clicked.connect(self.copy_answer)
        self.copy_button.setEnabled(False)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.browser, 1)
        layout.addLayout(buttons)

        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_INTERVAL_MS)
        self._render_timer.timeout.connect(self._render)

    # -- content -----------------------------------------------------------------------------

    @property
    def exchanges(self) -> list[Exchange]:
        return list(self._exchanges)

    def set_placeholder(self, markdown: str) -> None:
        """Shown when there is no conversation (e.g. how to get a model, or drop an image)."""
        self._placeholder = markdown
        if not self._exchanges:
            self._render()

    def clear(self) -> None:
        self._exchanges.clear()
        self._streaming = False
        self._render()

    def set_exchanges(self, exchanges: list[Exchange]) -> None:
        """Show a whole conversation at once (reopened from history)."""
        self._exchanges = list(exchanges)
        self._streaming = False
        self._render()

    def begin_answer(self, question: str) -> None:
        self._exchanges.append(Exchange(question))
        self._streaming = True
        self._render()

    def append_text(self, text: str) -> None:
        """Add streamed text; rendering is throttled to every :data:`RENDER_INTERVAL_MS`."""
        if not self._exchanges:
            return
        self._exchanges[-1].answer += text
        if not self._render_timer.isActive():
            self._render_timer.start()

    def finish_answer(self, text: str, note: str = "") -> None:
        """The final text replaces what was streamed (it is stripped and think-free)."""
        if self._exchanges:
            self._exchanges[-1].answer = text
            self._exchanges[-1].note = note
        self._streaming = False
        self._render()

    def fail_answer(self) -> None:
        """Drop a question that got no answer (the error is shown elsewhere)."""
        if self._exchanges and not self._exchanges[-1].answer:
            self._exchanges.pop()
        elif self._exchanges:
            self._exchanges[-1].note = self.tr("interrupted by an error")
        self._streaming = False
        self._render()

    def current_answer(self) -> str:
        return self._exchanges[-1].answer if self._exchanges else ""

    def markdown(self) -> str:
        """The whole conversation as Markdown (what the view shows)."""
        return self._conversation_markdown(len(self._exchanges))

    def copy_answer(self) -> None:
        text = self.current_answer()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.copied.emit(text)

    # -- rendering ---------------------------------------------------------------------------

    def _exchange_markdown(self, exchange: Exchange, streaming: bool) -> str:
        you = self.tr("You")
        answer = exchange.answer.strip() or ("…" if streaming else "")
        parts = [f"**{you}**", _quote(exchange.question), answer]
        if streaming:
            parts.append(f"*{self.tr('answering…')}*")
        elif exchange.note:
            parts.append(f"*({exchange.note})*")
        return "\n\n".join(parts)

    def _conversation_markdown(self, count: int) -> str:
        blocks = [
            self._exchange_markdown(exchange, self._streaming and index == len(self._exchanges) - 1)
            for index, exchange in enumerate(self._exchanges[:count])
        ]
        return "\n\n---\n\n".join(blocks)

    def _render(self) -> None:
        self._render_timer.stop()
        bar = self.browser.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        text = self.markdown() if self._exchanges else self._placeholder
        self.browser.setMarkdown(text)
        if at_end and self._exchanges:
            bar.setValue(bar.maximum())
        self.copy_button.setEnabled(bool(self.current_answer()) and not self._streaming)
