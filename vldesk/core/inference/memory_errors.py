"""Whether an exception means memory ran out: by its type first, by the allocator's words after."""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator

#: What allocators say when a request fails without a dedicated exception type: the CPU
#: allocator ("DefaultCPUAllocator: not enough memory" or "can't allocate memory ... (Cannot
#: allocate memory)"), MPS ("MPS backend out of memory") and older CUDA builds.
ALLOCATOR_WORDS = (
    "out of memory",
    "not enough memory",
    "can't allocate memory",
    "cannot allocate memory",
)


def is_out_of_memory(exc: BaseException) -> bool:
    """True when ``exc``, or an exception it was raised from or while handling, says memory ran
    out (a loader may wrap the allocator's error in its own)."""
    return any(_memory_error_type(error) or _allocator_words(error) for error in _chain(exc))


def _memory_error_type(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    if isinstance(exc, OSError) and exc.errno == errno.ENOMEM:
        return True  # mapping a weights file, or a thread or buffer the OS refused
    torch = sys.modules.get("torch")  # torch's own errors exist only once it is imported
    out_of_memory = getattr(torch, "OutOfMemoryError", None)  # torch.cuda's is the same class
    return out_of_memory is not None and isinstance(exc, out_of_memory)


def _allocator_words(exc: BaseException) -> bool:
    # Only RuntimeError: torch raises allocator failures as one, and other types that mention
    # memory (a ValueError about a memory setting) are not the allocator failing.
    if not isinstance(exc, RuntimeError):
        return False
    text = str(exc).lower()
    return any(words in text for words in ALLOCATOR_WORDS)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions behind it, as a traceback would show them."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
