"""Which inputs of a linear layer are decode steps: one new token for each of a few answers."""

from __future__ import annotations

from typing import Any

#: Decode steps with at most this many answers in the batch take the decode kernel; larger
#: inputs (prompts) take ``F.linear`` (or oneDNN with packed weights).
SMALL_ROWS = 16


def decode_rows(x: Any) -> int:
    """How many answers a linear layer's input holds when it is a decode step (one new token
    each, at most :data:`SMALL_ROWS`), else 0."""
    if x.dim() == 3 and x.shape[1] == 1 and 1 <= x.shape[0] <= SMALL_ROWS:
        return int(x.shape[0])
    return 0
