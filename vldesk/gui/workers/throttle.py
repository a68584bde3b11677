"""Throttles between a worker thread and the GUI thread: batch progress and streamed text."""

from __future__ import annotations

import time
from collections.abc import Callable

from vldesk.core.batch import BatchEventKind, BatchProgress

#: Streamed text is gathered and sent to the GUI thread at most this often.
CHUNK_INTERVAL_S = 0.03

#: Seconds from an arbitrary start; :func:`time.monotonic` outside tests.
Clock = Callable[[], float]
#: Batch events that only move figures forward: the latest one stands for those before it.
_COALESCED = frozenset(
    {
        BatchEventKind.CAPTION_TEXT,
        BatchEventKind.IMAGE_DONE,
        BatchEventKind.IMAGE_SKIPPED,
        BatchEventKind.CHECKPOINT,
    }
)


class ProgressThrottle:
    """Passes batch events on at most every :data:`CHUNK_INTERVAL_S`, except the ones that
    matter each time (failures, warnings, pauses, the start and end of a batch), which go at
    once after the latest held-back event. A folder of many skipped images or a fast stream of
    caption text then never floods the GUI thread."""

    def __init__(
        self, send: Callable[[BatchProgress], None], clock: Clock = time.monotonic
    ) -> None:
        self._send = send
        self._clock = clock
        self._held: BatchProgress | None = None
        self._last: float | None = None

    def __call__(self, event: BatchProgress) -> None:
        now = self._clock()
        recent = self._last is not None and now - self._last < CHUNK_INTERVAL_S
        if event.kind in _COALESCED and recent:
            self._held = event
            return
        if event.kind not in _COALESCED:
            self.flush()
        self._held = None
        self._last = now
        self._send(event)

    def flush(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self._last = self._clock()
            self._send(held)


class StreamBatcher:
    """Gathers an answer's streamed text and token count and sends them on at most every
    :data:`CHUNK_INTERVAL_S` (a token at a time would flood the GUI thread); :meth:`flush`
    sends what is left."""

    def __init__(
        self,
        send_text: Callable[[str], None],
        send_count: Callable[[int], None],
        clock: Clock = time.monotonic,
    ) -> None:
        self._send_text = send_text
        self._send_count = send_count
        self._clock = clock
        self._pending: list[str] = []
        self._tokens = 0
        self._last = clock()

    def add_text(self, text: str) -> None:
        self._pending.append(text)
        self._flush_if_due()

    def set_tokens(self, count: int) -> None:
        # Also flushes when the streamer holds text back (it waits for a word to end), so the
        # token count keeps moving.
        self._tokens = count
        self._flush_if_due()

    def _flush_if_due(self) -> None:
        if self._clock() - self._last >= CHUNK_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._send_text("".join(self._pending))
            self._pending.clear()
        self._send_count(self._tokens)
        self._last = self._clock()
