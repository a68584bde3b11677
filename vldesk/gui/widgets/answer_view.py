"""The conversation so far, rendered as Markdown, with the current answer streaming in."""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QFont,
    QGuiApplication,
    QPalette,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
    QTextFrameFormat,
)
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from vldesk.core.alttext import alt_text

#: Re-render the streamed Markdown at most this often, so long answers stay smooth.
RENDER_INTERVAL_MS = 50
#: Finished answers up to this long are read out by screen readers; longer ones are announced.
ANNOUNCE_CHARS = 400
#: The scheme of the Copy, Edit and Regenerate links in the conversation.
LINK_SCHEME = "vldesk"
#: How often the seconds waited for the first words are updated (a prompt with a photo takes
#: half a minute on a small CPU: the count shows that it is working).
WAIT_TICK_MS = 1000


@dataclass
class Exchange:
    """One question and its answer (still growing while it streams)."""

    question: str
    answer: str = ""
    note: str = ""
    #: The model that gave the answer (shown under it).
    model: str = ""
    #: False for an answer an error broke off: shown, but not part of the conversation the
    #: model continues (so it cannot be edited or regenerated).
    in_conversation: bool = True


class AnswerView(QWidget):
    """Shows the exchanges about the current image; the last answer may be streaming.

    Signals:
        copied(str): text was copied to the clipboard (for a status message).
        edit_requested(int): the user wants to change question n (0: the first) and ask again.
        regenerate_requested(): the user wants the last answer again.

    Each question has Copy and Edit links, each answer Copy, the last one Regenerate (links in
    the text: Tab reaches them, Enter follows them).
    """

    copied = Signal(str)
    edit_requested = Signal(int)
    regenerate_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._exchanges: list[Exchange] = []
        self._placeholder = ""
        #: Where the last answer starts in the document; only that part changes while streaming.
        self._answer_start: int | None = None
        self._streaming = False
        #: When the streaming answer was asked for, and how many tokens it has produced so far.
        self._asked_at = 0.0
        self._tokens = 0
        #: Whether Edit and Regenerate are offered (not while an answer is on its way).
        self._editable = True

        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(False)
        self.browser.setOpenLinks(False)
        self.browser.setAccessibleName(self.tr("Answer"))
        self.browser.setAccessibleDescription(
            self.tr("The conversation about the image; the newest answer is at the end.")
        )
        # A caret lets screen-reader and keyboard users read and select the answer line by line.
        self.browser.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.browser.document().setDocumentMargin(12)
        self.browser.anchorClicked.connect(self._follow_link)

        self.copy_button = QPushButton(self.tr("Copy answer"), self)
        self.copy_button.setToolTip(self.tr("Copy the last answer as Markdown (Ctrl+Shift+C)"))
        self.copy_button.setAccessibleName(self.tr("Copy the answer"))
        self.copy_button.clicked.connect(self.copy_answer)
        self.copy_button.setEnabled(False)
        self.alt_text_button = QPushButton(self.tr("Copy as alt text"), self)
        self.alt_text_button.setToolTip(
            self.tr("Copy the last answer as one line of plain text (Ctrl+Alt+C)")
        )
        self.alt_text_button.setAccessibleName(self.tr("Copy the answer as alt text"))
        self.alt_text_button.clicked.connect(self.copy_alt_text)
        self.alt_text_button.setEnabled(False)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.alt_text_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.browser, 1)
        layout.addLayout(buttons)

        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_INTERVAL_MS)
        self._render_timer.timeout.connect(self._render_streaming)
        self._wait_timer = QTimer(self)
        self._wait_timer.setInterval(WAIT_TICK_MS)
        self._wait_timer.timeout.connect(self._tick_wait)

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
        self._stop_streaming()
        self._render()

    def set_exchanges(self, exchanges: list[Exchange]) -> None:
        """Show a whole conversation at once (reopened from history)."""
        self._exchanges = list(exchanges)
        self._stop_streaming()
        self._render()

    def keep_first(self, count: int) -> None:
        """Drop every exchange after the conversation's first ``count`` (they are being
        replaced), broken-off ones among them too."""
        kept = 0
        for position, exchange in enumerate(self._exchanges):
            if kept == count:
                del self._exchanges[position:]
                self._stop_streaming()
                self._render()
                return
            kept += exchange.in_conversation

    def begin_answer(self, question: str) -> None:
        self._exchanges.append(Exchange(question))
        self._streaming = True
        self._asked_at = time.monotonic()
        self._tokens = 0
        self._wait_timer.start()
        self._render()

    def set_token_count(self, tokens: int) -> None:
        """Tokens the streaming answer has produced (0 while the model reads the prompt)."""
        if self._streaming and tokens != self._tokens:
            self._tokens = tokens
            if not self._render_timer.isActive():
                self._render_timer.start()

    def append_text(self, text: str) -> None:
        """Add streamed text; rendering is throttled to every :data:`RENDER_INTERVAL_MS`."""
        if not self._exchanges:
            return
        self._exchanges[-1].answer += text
        if not self._render_timer.isActive():
            self._render_timer.start()

    def finish_answer(self, text: str, note: str = "", model: str = "") -> None:
        """The final text replaces what was streamed (it is stripped and think-free)."""
        if self._exchanges:
            self._exchanges[-1].answer = text
            self._exchanges[-1].note = note
            self._exchanges[-1].model = model
        self._stop_streaming()
        self._render()
        self._announce(text)

    def fail_answer(self) -> None:
        """Drop a question that got no answer (the error is shown elsewhere)."""
        if self._exchanges and not self._exchanges[-1].answer:
            self._exchanges.pop()
        elif self._exchanges:
            self._exchanges[-1].note = self.tr("interrupted by an error")
            self._exchanges[-1].in_conversation = False
        self._stop_streaming()
        self._render()

    def _stop_streaming(self) -> None:
        self._streaming = False
        self._wait_timer.stop()

    def _tick_wait(self) -> None:
        """Update the seconds waited while no words have arrived yet."""
        if not self._streaming or (self._exchanges and self._exchanges[-1].answer.strip()):
            self._wait_timer.stop()
            return
        self._render_streaming()

    @property
    def streaming(self) -> bool:
        """An answer is on its way: the pane counts the seconds until its first words."""
        return self._streaming

    def streaming_note(self) -> str:
        """What the streaming answer says about itself: reading the prompt (with the seconds
        waited), thinking, or answering."""
        answer = self._exchanges[-1].answer.strip() if self._exchanges else ""
        if answer:
            return self.tr("answering…")
        seconds = int(time.monotonic() - self._asked_at)
        if self._tokens:
            return self.tr("thinking… {0} s").format(seconds)
        if seconds < 1:
            return self.tr("reading the image and the question…")
        return self.tr("reading the image and the question… {0} s").format(seconds)

    def current_answer(self) -> str:
        return self._exchanges[-1].answer if self._exchanges else ""

    def markdown(self) -> str:
        """The whole conversation as Markdown."""
        blocks = []
        for exchange in self._exchanges:
            blocks.append(f"**{self.tr('You')}:** {exchange.question}\n\n{exchange.answer.strip()}")
        return "\n\n---\n\n".join(blocks)

    def set_editable(self, editable: bool) -> None:
        """Offer Edit and Regenerate (an image and a model are there, nothing is running)."""
        if editable != self._editable:
            self._editable = editable
            if self._exchanges and not self._streaming:
                self._render()

    def copy_message(self, index: int, part: str) -> None:
        """Copy question (``part`` "question") or answer ``index`` as it was written."""
        if not 0 <= index < len(self._exchanges):
            return
        exchange = self._exchanges[index]
        text = exchange.question if part == "question" else exchange.answer.strip()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.copied.emit(text)

    def _follow_link(self, url: QUrl) -> None:
        if url.scheme() != LINK_SCHEME:
            return  # a link inside an answer: nothing is opened from here
        verb, _, number = url.path().partition("/")
        index = int(number) if number.isdigit() else -1
        if verb in ("question", "answer"):
            self.copy_message(index, verb)
        elif verb == "edit" and not self._streaming and self._editable:
            self.edit_requested.emit(index)
        elif verb == "regenerate" and not self._streaming and self._editable:
            self.regenerate_requested.emit()

    def copy_answer(self) -> None:
        text = self.current_answer()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.copied.emit(text)

    def copy_alt_text(self) -> None:
        """Put just the plain text of the last answer on the clipboard (for an ``alt``)."""
        text = alt_text(self.current_answer())
        if text:
            QGuiApplication.clipboard().setText(text)
            self.copied.emit(text)

    def _announce(self, text: str) -> None:
        """Tell screen readers the answer is complete (and read it when it is short)."""
        if not QAccessible.isActive():
            return
        plain = alt_text(text)
        message = (
            self.tr("Answer: {0}").format(plain)
            if plain and len(plain) <= ANNOUNCE_CHARS
            else self.tr("The answer is complete.")
        )
        QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(self.browser, message))

    # -- rendering ---------------------------------------------------------------------------
    # Each answer is parsed as its own Markdown fragment, so a broken one (an unclosed code
    # fence, a cut-off table) cannot swallow what follows; while an answer streams, only its
    # own fragment is replaced, so the cost does not grow with the conversation.

    def _render(self) -> None:
        """Rebuild the whole document (new exchanges, a finished answer, a palette change)."""
        self._render_timer.stop()
        bar = self.browser.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        document = self.browser.document()
        if not self._exchanges:
            self._answer_start = None
            self.browser.setMarkdown(self._placeholder)
        else:
            document.clear()
            cursor = QTextCursor(document)
            cursor.beginEditBlock()
            last = len(self._exchanges) - 1
            for index, exchange in enumerate(self._exchanges):
                if index:
                    self._insert_rule(cursor)
                self._insert_question(cursor, exchange.question, index)
                self._new_block(cursor)
                if index == last:
                    self._answer_start = cursor.position()
                self._insert_answer(cursor, exchange, self._streaming and index == last, index)
            cursor.endEditBlock()
        if at_end:
            bar.setValue(bar.maximum())
        self.copy_button.setEnabled(bool(self.current_answer()) and not self._streaming)
        self.alt_text_button.setEnabled(self.copy_button.isEnabled())

    def _render_streaming(self) -> None:
        """Replace just the growing answer at the end of the document."""
        if self._answer_start is None or not self._exchanges:
            self._render()
            return
        bar = self.browser.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.browser.document())
        cursor.beginEditBlock()
        cursor.setPosition(self._answer_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.setBlockFormat(QTextBlockFormat())
        last = len(self._exchanges) - 1
        self._insert_answer(cursor, self._exchanges[-1], self._streaming, last)
        cursor.endEditBlock()
        if at_end:
            bar.setValue(bar.maximum())

    def _question_number(self, index: int) -> int | None:
        """Exchange ``index``'s question among the conversation's (``None``: not in it)."""
        if not self._exchanges[index].in_conversation:
            return None
        return sum(exchange.in_conversation for exchange in self._exchanges[:index])

    @staticmethod
    def _new_block(cursor: QTextCursor) -> None:
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())

    def _insert_rule(self, cursor: QTextCursor) -> None:
        self._new_block(cursor)
        rule = QTextBlockFormat()
        rule.setProperty(QTextFormat.Property.BlockTrailingHorizontalRulerWidth, 1)
        cursor.setBlockFormat(rule)
        self._new_block(cursor)

    def _insert_question(self, cursor: QTextCursor, question: str, index: int) -> None:
        frame = QTextFrameFormat()
        frame.setBackground(self.palette().color(QPalette.ColorRole.AlternateBase))
        frame.setPadding(8)
        frame.setBorder(0)
        cursor.insertFrame(frame)
        label = QTextCharFormat()
        label.setFontWeight(QFont.Weight.Bold)
        cursor.insertText(self.tr("You"), label)
        links = [(self.tr("Copy"), f"question/{index}", self.tr("Copy this question"))]
        number = self._question_number(index)
        if self._editable and not self._streaming and number is not None:
            # Edit names the question as the conversation counts them (broken-off ones aside).
            links.append((self.tr("Edit"), f"edit/{number}", self.tr("Change this question")))
        self._insert_links(cursor, links)
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        cursor.insertText(question, QTextCharFormat())
        cursor.movePosition(QTextCursor.MoveOperation.End)  # out of the frame

    def _insert_answer(
        self, cursor: QTextCursor, exchange: Exchange, streaming: bool, index: int
    ) -> None:
        answer = exchange.answer.strip()
        if answer:
            cursor.insertMarkdown(answer)
        if streaming:
            if answer:
                self._new_block(cursor)
            italic = QTextCharFormat()
            italic.setFontItalic(True)
            cursor.insertText(self.streaming_note(), italic)
            return
        # Under the answer: who gave it, how it ended, and what can be done with it.
        if answer:
            self._new_block(cursor)
        caption = QTextCharFormat()
        caption.setFontItalic(True)
        caption.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
        parts = [exchange.model] if exchange.model else []
        if exchange.note:
            parts.append(f"({exchange.note})")
        cursor.insertText(" · ".join(parts), caption)
        links = (
            [(self.tr("Copy"), f"answer/{index}", self.tr("Copy this answer"))] if answer else []
        )
        if index == len(self._exchanges) - 1 and self._editable and exchange.in_conversation:
            links.append(
                (self.tr("Regenerate"), "regenerate", self.tr("Answer the last question again"))
            )
        self._insert_links(cursor, links, lead=bool(parts))

    def _insert_links(
        self, cursor: QTextCursor, links: list[tuple[str, str, str]], *, lead: bool = True
    ) -> None:
        """Links that act on the conversation (see :meth:`_follow_link`), after the text."""
        for number, (text, target, tip) in enumerate(links):
            link = QTextCharFormat()
            link.setAnchor(True)
            link.setAnchorHref(f"{LINK_SCHEME}:{target}")
            link.setToolTip(tip)
            link.setForeground(self.palette().color(QPalette.ColorRole.Link))
            cursor.insertText(
                "   " if number == 0 and lead else " · " if number else "", QTextCharFormat()
            )
            cursor.insertText(text, link)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._exchanges:
            self._render()  # the question frames take their colour from the palette
