"""Remove ``<think>...</think>`` reasoning blocks from answers, including while they stream."""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"


def strip_think(text: str) -> str:
    """Drop a think block at the start of a finished answer (closed or not).

    Also drops reasoning closed by a ``</think>`` that was never opened in the answer: the chat
    template can open the block in the prompt. Tags later in an answer are content, kept as is.
    """
    if CLOSE in text and OPEN not in text.split(CLOSE, 1)[0]:
        text = text.split(CLOSE, 1)[1]
    stream = ThinkFilter()
    return (stream.feed(text) + stream.finish()).lstrip()


class ThinkFilter:
    """Streaming version of :func:`strip_think` for a block at the start of an answer.

    Text is held back only while it could still be the start of ``<think>``; once the answer is
    known not to start with one, everything passes straight through.
    """

    def __init__(self) -> None:
        self._state = "start"
        self._buffer = ""

    def feed(self, chunk: str) -> str:
        if self._state == "pass":
            return chunk
        self._buffer += chunk
        if self._state == "start":
            head = self._buffer.lstrip()
            if head.startswith(OPEN):
                self._state = "think"
                self._buffer = head[len(OPEN) :]
            elif OPEN.startswith(head):
                return ""  # could still become "<think>": wait for more
            else:
                self._state = "pass"
                out, self._buffer = self._buffer, ""
                return out
        if self._state == "think":
            if CLOSE not in self._buffer:
                return ""
            rest = self._buffer.split(CLOSE, 1)[1]
            self._buffer = ""
            self._state = "after"
            return self.feed(rest)
        # "after": skip the blank lines that follow the block, then pass everything.
        head = self._buffer.lstrip()
        if not head:
            return ""
        self._state = "pass"
        self._buffer = ""
        return head

    def finish(self) -> str:
        """Flush what is held back at the end of the stream (never an unterminated think block)."""
        out = self._buffer if self._state == "start" else ""
        self._buffer = ""
        return out.lstrip() if self._state == "start" else out
