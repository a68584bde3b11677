"""The conversation about the current image: asks the worker, records history, tells the UI."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, Signal, Slot

from vldesk.core.errors import VldeskError
from vldesk.core.generation import Conversation, GenerationResult, GenerationSettings, Turn
from vldesk.core.history_records import HistoryWriter
from vldesk.core.images import LoadedImage
from vldesk.gui.i18n import error_text
from vldesk.gui.workers.inference import Failure
from vldesk.gui.workers.inference_client import InferenceClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionImage:
    """The image being discussed: what the model gets, its file and a thumbnail for history."""

    loaded: LoadedImage
    path: Path | None
    thumbnail: Image.Image | None


@dataclass(frozen=True)
class _Pending:
    request_id: int
    question: str
    conversation: Conversation
    history_id: int | None
    settings: GenerationSettings
    #: False once the user moved on (new image or conversation): the answer is only recorded.
    shown: bool = True


#: The stand-in question of a read-ahead: the real one replaces it (the image and everything
#: before the question's text are the same, so the cache of those is continued).
READ_AHEAD_QUESTION = "?"


class ChatSession(QObject):
    """One conversation at a time, one answer in flight at a time.

    Signals:
        answer_started(str): the question being answered.
        answer_text(str): more streamed text of the shown answer.
        answer_finished(GenerationResult): the shown answer is complete or was stopped.
        answer_failed(Failure): the shown answer failed (out of memory: offer a smaller image
            budget or the CPU); its message is for the user.
        busy_changed(bool): whether an answer is being produced.
        conversation_reset(): the conversation was emptied (new image or new conversation).
        history_changed(): an entry was written to history.
        history_error(str): history could not be written (the answer is still shown).
    """

    answer_started = Signal(str)
    answer_text = Signal(str)
    answer_finished = Signal(object)
    answer_failed = Signal(object)
    busy_changed = Signal(bool)
    conversation_reset = Signal()
    history_changed = Signal()
    history_error = Signal(str)

    def __init__(
        self,
        inference: InferenceClient,
        history: HistoryWriter | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._inference = inference
        self._history = history
        self.image: SessionImage | None = None
        self.conversation = Conversation()
        self.history_id: int | None = None
        self.model_name: str | None = None
        #: The latest answer shown (its stats go into exports).
        self.last_result: GenerationResult | None = None
        self._pending: _Pending | None = None
        #: The read-ahead of the current image (its request id), and what it was read with.
        self._reading_ahead: int | None = None
        self._read_ahead_of: tuple[SessionImage, int, str] | None = None
        self._last_question: tuple[str, str] | None = None
        inference.text_chunk.connect(self._on_chunk)
        inference.finished.connect(self._on_finished)
        inference.failed.connect(self._on_failed)

    # -- state -------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._pending is not None and self._pending.shown

    @property
    def can_ask(self) -> bool:
        return self.image is not None and self.model_name is not None

    @property
    def can_retry(self) -> bool:
        return self._last_question is not None and not self.busy

    def set_model(self, name: str | None) -> None:
        self.model_name = name

    def set_image(self, image: SessionImage | None) -> None:
        """A new image starts a new conversation; an answer still running is stopped."""
        self._stop_reading_ahead()
        self.image = image
        self.new_conversation()

    def read_ahead(self, settings: GenerationSettings, system_prompt: str = "") -> bool:
        """Start reading the current image before its first question is sent (while it is
        being typed): the question then continues from what was read instead of waiting for
        it. Once per image, budget and system prompt; False when nothing was started."""
        image = self.image
        if self.busy or not self.can_ask or self.conversation.turns or image is None:
            return False
        wanted = (image, settings.max_image_tokens, system_prompt)
        done = self._read_ahead_of
        # The image by identity: comparing pictures would compare every pixel at each key.
        if done is not None and done[0] is image and done[1:] == wanted[1:]:
            return False
        self._stop_reading_ahead()
        conversation = Conversation((), system_prompt or None).ask(
            READ_AHEAD_QUESTION, (image.loaded,)
        )
        self._reading_ahead = self._inference.read_ahead(conversation, settings)
        self._read_ahead_of = wanted
        return True

    def _stop_reading_ahead(self) -> None:
        if self._reading_ahead is not None:
            self._inference.cancel(self._reading_ahead)
        self._reading_ahead = None
        self._read_ahead_of = None

    def new_conversation(self) -> None:
        self._detach_pending()
        self.conversation = Conversation()
        self.history_id = None
        self.last_result = None
        self._last_question = None
        self.conversation_reset.emit()

    def restore(
        self, image: SessionImage | None, turns: list[tuple[str, str]], history_id: int
    ) -> None:
        """Continue a conversation reopened from history; the image goes with its first question."""
        self._stop_reading_ahead()
        self._detach_pending()
        self.image = image
        conversation = Conversation()
        attached = False
        for role, text in turns:
            if role == "user":
                carried: tuple[LoadedImage, ...] = ()
                if _awaits_answer(conversation):
                    # A question that never got an answer (an error, a crash) is left out of
                    # what the model sees, so the turns keep alternating.
                    carried = conversation.turns[-1].images
                    conversation = Conversation(conversation.turns[:-1], conversation.system)
                if not carried and image is not None and not attached:
                    carried = (image.loaded,)
                attached = attached or bool(carried)
                conversation = conversation.ask(text, carried)
            elif role == "assistant" and _awaits_answer(conversation):
                conversation = conversation.answered(text)
            elif role == "system":
                conversation = Conversation(conversation.turns, text or None)
        if _awaits_answer(conversation):
            conversation = Conversation(conversation.turns[:-1], conversation.system)
        self.conversation = conversation
        self.history_id = history_id
        self.last_result = None
        self._last_question = None

    def _detach_pending(self) -> None:
        if self._pending is not None and self._pending.shown:
            self._inference.cancel(self._pending.request_id)
            self._pending = replace(self._pending, shown=False)
            self.busy_changed.emit(False)

    # -- asking ------------------------------------------------------------------------------

    def ask(self, question: str, settings: GenerationSettings, system_prompt: str = "") -> bool:
        """Send a question about the current image; returns False when it cannot be asked."""
        return self._send(question, settings, system_prompt, record=True)

    def retry(self, settings: GenerationSettings) -> bool:
        """Ask the last question again (after an error), e.g. with a smaller image budget."""
        if self._last_question is None or self.busy:
            return False
        question, system_prompt = self._last_question
        # The question is already in history: only the answer is still to be written.
        return self._send(question, settings, system_prompt, record=False)

    def _send(
        self, question: str, settings: GenerationSettings, system_prompt: str, *, record: bool
    ) -> bool:
        if self.busy or not self.can_ask or not question.strip():
            return False
        assert self.image is not None
        assert self.model_name is not None
        self._last_question = (question, system_prompt)
        first = not self.conversation.turns
        images = (self.image.loaded,) if first else ()
        conversation = Conversation(self.conversation.turns, system_prompt or None)
        conversation = conversation.ask(question, images)
        if record:
            self._record_question(question, settings, system_prompt)
        request_id = self._inference.generate(conversation, settings)
        self._pending = _Pending(request_id, question, conversation, self.history_id, settings)
        self.answer_started.emit(question)
        self.busy_changed.emit(True)
        return True

    def stop(self) -> None:
        if self._pending is not None:
            self._inference.cancel(self._pending.request_id)

    def _record_question(
        self, question: str, settings: GenerationSettings, system_prompt: str
    ) -> None:
        """Write the question before the answer starts, so a crash loses nothing shown."""
        if self._history is None or self.image is None or self.model_name is None:
            return
        try:
            if self.history_id is None:
                path = str(self.image.path) if self.image.path is not None else None
                self.history_id = self._history.start_conversation(
                    path, self.image.thumbnail, self.model_name
                )
                if system_prompt:
                    self._history.add_message(
                        self.history_id, "system", system_prompt, model=self.model_name
                    )
            self._history.add_message(
                self.history_id,
                "user",
                question,
                model=self.model_name,
                settings=settings.to_dict(),
            )
        except (VldeskError, OSError) as exc:
            self._history_failed(exc)
        else:
            self.history_changed.emit()

    def _history_failed(self, exc: Exception) -> None:
        log.warning("writing history failed: %s", exc)
        self.history_error.emit(error_text(exc))

    # -- worker results ----------------------------------------------------------------------

    def _matches(self, request_id: int) -> bool:
        return self._pending is not None and self._pending.request_id == request_id

    @Slot(int, str)
    def _on_chunk(self, request_id: int, text: str) -> None:
        if self._matches(request_id) and self._pending is not None and self._pending.shown:
            self.answer_text.emit(text)

    @Slot(int, object)
    def _on_finished(self, request_id: int, result: GenerationResult) -> None:
        if not self._matches(request_id) or self._pending is None:
            return
        pending, self._pending = self._pending, None
        if pending.history_id is not None and self._history is not None:
            stats = {**result.stats.to_dict(), "stop_reason": result.stop_reason.value}
            try:
                self._history.add_message(
                    pending.history_id,
                    "assistant",
                    result.text,
                    model=result.stats.model or self.model_name,
                    settings=pending.settings.to_dict(),
                    stats=stats,
                )
            except (VldeskError, OSError) as exc:
                self._history_failed(exc)
            else:
                self.history_changed.emit()
        if pending.shown:
            self.conversation = pending.conversation.answered(result.text)
            self.last_result = result
            self._last_question = None
            self.busy_changed.emit(False)
            self.answer_finished.emit(result)

    @Slot(int, object)
    def _on_failed(self, request_id: int, failure: Failure) -> None:
        if not self._matches(request_id) or self._pending is None:
            return
        pending, self._pending = self._pending, None
        if pending.shown:
            self.busy_changed.emit(False)
            self.answer_failed.emit(failure)


def _awaits_answer(conversation: Conversation) -> bool:
    return bool(conversation.turns) and conversation.turns[-1].role == "user"


def turns_of(conversation: Conversation) -> list[tuple[str, str]]:
    """(question, answer) pairs of a conversation, for display."""
    pairs: list[tuple[str, str]] = []
    question: Turn | None = None
    for turn in conversation.turns:
        if turn.role == "user":
            question = turn
        elif question is not None:
            pairs.append((question.text, turn.text))
            question = None
    return pairs
