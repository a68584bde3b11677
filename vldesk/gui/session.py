"""The conversation about the current image: asks the worker, records history, tells the UI."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, Signal, Slot

from vldesk.core.errors import VldeskError
from vldesk.core.generation import Conversation, GenerationResult, GenerationSettings, Turn
from vldesk.core.grounding import RegionQuestion, region_images
from vldesk.core.history_records import ChatHistory, StoredMessage
from vldesk.core.images import LoadedImage
from vldesk.core.models.catalog import Family
from vldesk.gui.asked_about import (
    FAMILY_KEY,
    AskedAbout,
    settings_with_region,
    shown_question,
)
from vldesk.gui.i18n import error_text
from vldesk.gui.workers.failure import Failure
from vldesk.gui.workers.inference_client import InferenceClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionImage:
    """The image being discussed: what the model gets, its file and a thumbnail for history."""

    loaded: LoadedImage
    path: Path | None
    thumbnail: Image.Image | None


@dataclass(frozen=True)
class TurnRecord:
    """What the session knows of a turn besides its text: its message in history and, for an
    answer, the model that gave it and why it ended (a ``StopReason`` value)."""

    message_id: int | None = None
    model: str = ""
    stop_reason: str | None = None
    #: A question as typed (the model may get it wrapped for a region) and its region.
    question: str | None = None
    region: RegionQuestion | None = None


@dataclass(frozen=True)
class _Pending:
    request_id: int
    question: str
    conversation: Conversation
    history_id: int | None
    settings: GenerationSettings
    #: The records of ``conversation``'s turns, the question's last.
    records: tuple[TurnRecord, ...] = ()
    #: False once the user moved on (new image or conversation): the answer is only recorded.
    shown: bool = True
    #: The region asked about (``None``: the whole image) and the crop's size as sent.
    region: RegionQuestion | None = None
    crop_size: tuple[int, int] | None = None
    #: The answering model's family: what its coordinates mean.
    family: Family | None = None


@dataclass(frozen=True)
class _UserTurn:
    """A question as the model gets it, and the region it is about."""

    text: str
    images: tuple[LoadedImage, ...]
    region: RegionQuestion | None = None
    crop_size: tuple[int, int] | None = None


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
        conversation_cut(int): only the first n answered questions are left (a regenerate or
            an edit replaces the rest).
        history_changed(): an entry was written to history.
        history_error(str): history could not be written (the answer is still shown).
        conversation_restored(): another conversation was reopened from history.
        region_restored(object): the region questions are about again (a RegionQuestion, or
            ``None``): a conversation reopened from history (its last question's), or one
            started afresh that keeps the selected region.
    """

    answer_started = Signal(str)
    answer_text = Signal(str)
    answer_finished = Signal(object)
    answer_failed = Signal(object)
    busy_changed = Signal(bool)
    conversation_reset = Signal()
    conversation_cut = Signal(int)
    history_changed = Signal()
    history_error = Signal(str)
    conversation_restored = Signal()
    region_restored = Signal(object)

    def __init__(
        self,
        inference: InferenceClient,
        history: ChatHistory | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._inference = inference
        self._history = history
        self.image: SessionImage | None = None
        self.conversation = Conversation()
        #: One record per turn of :attr:`conversation`, in the same order.
        self.records: tuple[TurnRecord, ...] = ()
        self.history_id: int | None = None
        self.model_name: str | None = None
        #: The latest answer shown (its stats go into exports).
        self.last_result: GenerationResult | None = None
        #: How the latest answer shown was asked (for mapping its boxes).
        self.last_asked: AskedAbout | None = None
        #: Questions are about this region while it is set (the grounding controller sets it).
        self.region: RegionQuestion | None = None
        #: The loaded model's family: region crops are sized with its patch factor.
        self.family: Family | None = None
        self._pending: _Pending | None = None
        #: The read-ahead of the current image (its request id), and what it was read with.
        self._reading_ahead: int | None = None
        self._read_ahead_of: tuple[SessionImage, int, str, RegionQuestion | None] | None = None
        #: The question to ask again after an error: its text, system prompt and history id.
        self._last_question: tuple[str, str, int | None] | None = None
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
        wanted = (image, settings.max_image_tokens, system_prompt, self.region)
        done = self._read_ahead_of
        # The image by identity: comparing pictures would compare every pixel at each key.
        if done is not None and done[0] is image and done[1:] == wanted[1:]:
            return False
        self._stop_reading_ahead()
        # A region question reads the region's two images and its preamble ahead.
        turn = self._user_turn(READ_AHEAD_QUESTION, settings, first=True)
        conversation = Conversation((), system_prompt or None).ask(turn.text, turn.images)
        self._reading_ahead = self._inference.read_ahead(conversation, settings)
        self._read_ahead_of = wanted
        return True

    def _stop_reading_ahead(self) -> None:
        if self._reading_ahead is not None:
            self._inference.cancel(self._reading_ahead)
        self._reading_ahead = None
        self._read_ahead_of = None

    def new_conversation(self, *, keep_region: bool = False) -> None:
        """Start afresh about the same image; ``keep_region``: questions stay about the
        selected region (a preset that starts a new conversation)."""
        region = self.region
        self._detach_pending()
        self.conversation = Conversation()
        self.records = ()
        self.history_id = None
        self.last_result = None
        self.last_asked = None
        self._last_question = None
        self.conversation_reset.emit()
        if keep_region and region is not None:
            self.region_restored.emit(region)

    def restore(
        self,
        image: SessionImage | None,
        messages: Sequence[StoredMessage],
        history_id: int,
        regions: Mapping[int, RegionQuestion] | None = None,
        answered: AskedAbout | None = None,
    ) -> None:
        """Continue a conversation reopened from history; the image goes with its first question.

        ``regions`` maps the index of a question in ``messages`` to the region it was about: it is
        sent again as it was (the region and the whole image small), when the image is there.
        ``answered`` is how the last answer was asked (for drawing its boxes again).
        """
        self._stop_reading_ahead()
        self._detach_pending()
        self.image = image
        regions = regions or {}
        conversation = Conversation()
        records: list[TurnRecord] = []
        attached = False
        for index, message in enumerate(messages):
            if message.role == "user":
                carried: tuple[LoadedImage, ...] = ()
                if _awaits_answer(conversation):
                    # A question that never got an answer (an error, a crash) is left out of
                    # what the model sees, so the turns keep alternating.
                    carried = conversation.turns[-1].images
                    conversation = Conversation(conversation.turns[:-1], conversation.system)
                    records.pop()
                text = message.text
                region = regions.get(index)
                if region is not None and image is not None and self.family is not None:
                    carried = region_images(image.loaded, region, self.family)
                    text = region.prompt(text)
                elif not carried and image is not None and not attached:
                    carried = (image.loaded,)
                attached = attached or bool(carried)
                conversation = conversation.ask(text, carried)
                records.append(TurnRecord(message.id, question=message.text, region=region))
            elif message.role == "assistant" and _awaits_answer(conversation):
                conversation = conversation.answered(message.text)
                records.append(TurnRecord(message.id, message.model, message.stop_reason))
            elif message.role == "system":
                conversation = Conversation(conversation.turns, message.text or None)
        if _awaits_answer(conversation):
            conversation = Conversation(conversation.turns[:-1], conversation.system)
            records.pop()
        self.conversation = conversation
        self.records = tuple(records)
        self.history_id = history_id
        self.last_result = None
        self.last_asked = answered if image is not None else None
        self._last_question = None
        self.conversation_restored.emit()
        # The region of the last question stays selected: a follow-up is about it too.
        questions = [index for index, message in enumerate(messages) if message.role == "user"]
        self.region_restored.emit(regions.get(questions[-1]) if questions else None)

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
        question, system_prompt, question_id = self._last_question
        # The question is already in history: only the answer is still to be written.
        return self._send(question, settings, system_prompt, question_id=question_id)

    @property
    def can_regenerate(self) -> bool:
        turns = self.conversation.turns
        return self.can_ask and not self.busy and bool(turns) and turns[-1].role == "assistant"

    def regenerate(self, settings: GenerationSettings, system_prompt: str = "") -> bool:
        """Answer the last question again; the new answer replaces the old one, in history too."""
        if not self.can_regenerate:
            return False
        question_at = len(self.conversation.turns) - 2
        asked = self.records[question_at]
        question = asked.question or self.conversation.turns[question_at].text
        self._forget_from(question_at + 1)  # the answer, from history
        self._cut(question_at)  # the question too, here only: it is asked again as it was
        return self._send(
            question, settings, system_prompt, question_id=asked.message_id, asked=asked
        )

    def question_count(self) -> int:
        return sum(turn.role == "user" for turn in self.conversation.turns)

    def questions(self) -> list[str]:
        """The conversation's questions as typed (a region question without its wrapping)."""
        return [
            record.question or turn.text
            for turn, record in zip(self.conversation.turns, self.records, strict=True)
            if turn.role == "user"
        ]

    def edit(
        self, number: int, question: str, settings: GenerationSettings, system_prompt: str = ""
    ) -> bool:
        """Ask question ``number`` (0: the first) anew with new text: it and everything after it
        are replaced, in history too; the conversation goes on from the new answer."""
        positions = [i for i, turn in enumerate(self.conversation.turns) if turn.role == "user"]
        if self.busy or not self.can_ask or not question.strip():
            return False
        if not 0 <= number < len(positions):
            return False
        asked = self.records[positions[number]]  # asked again about its own region
        self._forget_from(positions[number])
        self._cut(positions[number])
        return self._send(question, settings, system_prompt, record=True, asked=asked)

    def _forget_from(self, position: int) -> None:
        """Delete the turns from ``position`` on from history (what was shown is replaced)."""
        ids = [r.message_id for r in self.records[position:] if r.message_id is not None]
        if not ids or self.history_id is None or self._history is None:
            return
        try:
            self._history.delete_messages_from(self.history_id, min(ids))
        except (VldeskError, OSError) as exc:
            self._history_failed(exc)
        else:
            self.history_changed.emit()

    def _cut(self, position: int) -> None:
        turns = self.conversation.turns[:position]
        self.conversation = Conversation(turns, self.conversation.system)
        self.records = self.records[:position]
        self.last_result = None
        self.last_asked = None  # it was about an answer that is gone
        self.conversation_cut.emit(sum(turn.role == "assistant" for turn in turns))

    def _send(
        self,
        question: str,
        settings: GenerationSettings,
        system_prompt: str,
        *,
        record: bool = False,
        question_id: int | None = None,
        asked: TurnRecord | None = None,
    ) -> bool:
        """Ask ``question``; ``record`` writes it to history first, else it is there already
        as ``question_id``. ``asked``: ask it about that record's region (a regenerate), not
        the one selected now."""
        if self.busy or not self.can_ask or not question.strip():
            return False
        assert self.image is not None
        assert self.model_name is not None
        turn = self._user_turn(question, settings, first=not self.conversation.turns, asked=asked)
        region, crop_size = turn.region, turn.crop_size
        conversation = Conversation(self.conversation.turns, system_prompt or None)
        conversation = conversation.ask(turn.text, turn.images)
        if record:
            question_id = self._record_question(question, settings, system_prompt, region)
        self._last_question = (question, system_prompt, question_id)
        request_id = self._inference.generate(conversation, settings)
        records = (*self.records, TurnRecord(question_id, question=question, region=region))
        self._pending = _Pending(
            request_id,
            question,
            conversation,
            self.history_id,
            settings,
            records,
            region=region,
            crop_size=crop_size,
            family=self.family,
        )
        self.answer_started.emit(shown_question(question, region))
        self.busy_changed.emit(True)
        return True

    def _user_turn(
        self,
        question: str,
        settings: GenerationSettings,
        *,
        first: bool,
        asked: TurnRecord | None = None,
    ) -> _UserTurn:
        """What the model gets for ``question``: the image with a first question; with a region
        selected, the whole image small for context and the region at the full budget."""
        assert self.image is not None
        selected = asked.region if asked is not None else self.region
        region = selected.within(settings.max_image_tokens) if selected else None
        if region is None or self.family is None:
            return _UserTurn(question, (self.image.loaded,) if first else ())
        images = region_images(self.image.loaded, region, self.family)
        return _UserTurn(region.prompt(question), images, region, images[1].image.size)

    def stop(self) -> None:
        if self._pending is not None:
            self._inference.cancel(self._pending.request_id)

    def _record_question(
        self,
        question: str,
        settings: GenerationSettings,
        system_prompt: str,
        region: RegionQuestion | None = None,
    ) -> int | None:
        """Write the question before the answer starts, so a crash loses nothing shown;
        returns its message id (``None``: not written)."""
        if self._history is None or self.image is None or self.model_name is None:
            return None
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
            message_id = self._history.add_message(
                self.history_id,
                "user",
                question,
                model=self.model_name,
                settings=settings_with_region(settings.to_dict(), region),
            )
        except (VldeskError, OSError) as exc:
            self._history_failed(exc)
            return None
        self.history_changed.emit()
        return message_id

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
        model = result.stats.model or self.model_name or ""
        answer_id: int | None = None
        if pending.history_id is not None and self._history is not None:
            stats = {**result.stats.to_dict(), "stop_reason": result.stop_reason.value}
            if pending.family is not None:  # what the answer's coordinates mean, when reopened
                stats[FAMILY_KEY] = pending.family.value
            try:
                answer_id = self._history.add_message(
                    pending.history_id,
                    "assistant",
                    result.text,
                    model=model,
                    settings=pending.settings.to_dict(),
                    stats=stats,
                )
            except (VldeskError, OSError) as exc:
                self._history_failed(exc)
            else:
                self.history_changed.emit()
        if pending.shown:
            self.conversation = pending.conversation.answered(result.text)
            answer = TurnRecord(answer_id, model, result.stop_reason.value)
            self.records = (*pending.records, answer)
            self.last_result = result
            self.last_asked = AskedAbout(
                pending.settings.max_image_tokens, pending.family, pending.region, pending.crop_size
            )
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


def exchanges_of(session: ChatSession) -> list[tuple[str, str, TurnRecord]]:
    """(question, answer, the answer's record) of each answered question, for display."""
    turns, records = session.conversation.turns, session.records
    return [
        (_shown(turns[i - 1].text, records[i - 1]), turns[i].text, records[i])
        for i in range(1, len(turns))
        if turns[i].role == "assistant" and turns[i - 1].role == "user"
    ]


def _shown(sent: str, record: TurnRecord) -> str:
    """A question as the conversation shows it: as typed, with its region named."""
    return shown_question(record.question or sent, record.region)


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
