"""What llama.cpp's key/value memory holds, so that a follow-up reads only what is new.

A follow-up's prompt repeats the previous prompt and answer word for word, so the keys and values
llama.cpp computed for them are still right: only the items after the longest shared prefix are
read. Items are token ids, and images identified by the digest of the pixels the projector saw;
an image is kept only when it is the very same and lies wholly inside the shared prefix. Each
item's end position is kept beside it, because Qwen's M-RoPE gives an image fewer positions than
tokens: the memory is cut back by position, not by token count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ImageKey:
    """One image as the projector read it: its fitted pixels' digest and its token count."""

    digest: str
    tokens: int


#: A prompt item: a token id or an image.
Item = int | ImageKey


def image_digest(image: Any) -> str:
    """The digest of a (fitted) PIL image's size, mode and pixels."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{image.mode} {image.width}x{image.height}".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def _tokens(item: Item) -> int:
    return item.tokens if isinstance(item, ImageKey) else 1


@dataclass(frozen=True)
class Resume:
    """Where a prompt continues what memory holds: after its first ``items`` items, which take
    llama.cpp positions up to ``position`` and stand for ``tokens`` prompt tokens."""

    items: int
    position: int
    tokens: int


class HeldSequence:
    """The items in llama.cpp's memory (sequence 0) in reading order, with the position after
    each and the prompt tokens up to each (an image counts its tokens)."""

    def __init__(self) -> None:
        self._items: list[Item] = []
        self._ends: list[int] = []
        self._tokens: list[int] = []

    def __len__(self) -> int:
        return len(self._items)

    @property
    def items(self) -> list[Item]:
        return list(self._items)

    @property
    def position(self) -> int:
        """The llama.cpp position after the last item (0: nothing held)."""
        return self._ends[-1] if self._ends else 0

    @property
    def tokens(self) -> int:
        """The prompt tokens the held items stand for."""
        return self._tokens[-1] if self._tokens else 0

    def add(self, item: Item, end: int) -> None:
        """``item`` was read and ends at llama.cpp position ``end``."""
        if end <= self.position:
            raise ValueError(f"position {end} does not follow {self.position}")
        self._items.append(item)
        self._ends.append(end)
        self._tokens.append(self.tokens + _tokens(item))

    def add_tokens(self, tokens: Sequence[int]) -> None:
        """Text tokens were read, one position each, after what is held."""
        for token in tokens:
            self.add(token, self.position + 1)

    def resume(self, prompt: Sequence[Item]) -> Resume:
        """How much of ``prompt`` is held: the longest shared prefix, less its last item when it
        is the whole prompt (llama.cpp gives the next token's logits only for an item it reads).
        """
        shared = 0
        limit = min(len(self._items), len(prompt) - 1)
        while shared < limit and self._items[shared] == prompt[shared]:
            shared += 1
        if shared == 0:
            return Resume(0, 0, 0)
        return Resume(shared, self._ends[shared - 1], self._tokens[shared - 1])

    def cut(self, items: int) -> None:
        """Forget everything after the first ``items`` items."""
        del self._items[items:], self._ends[items:], self._tokens[items:]
