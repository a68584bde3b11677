"""Process-wide CPU settings: torch threads and glibc's handling of freed memory."""

from __future__ import annotations

import functools
import logging
import sys
from typing import Any

log = logging.getLogger(__name__)

#: glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


_INT_MAX = 2**31 - 1
#: glibc's default for both thresholds (malloc.h: DEFAULT_MMAP_THRESHOLD_MIN and
#: DEFAULT_TRIM_THRESHOLD, 128 KiB on 64-bit).
GLIBC_DEFAULT_THRESHOLD = 128 * 1024
#: Whether :func:`keep_freed_memory` has changed this process's thresholds.
_kept = False


@functools.cache
def _glibc() -> Any:
    """The C library when it is glibc (it has ``mallopt`` and ``malloc_trim``), else ``None``."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt  # noqa: B018 - musl and others have no mallopt
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def keep_freed_memory() -> bool:
    """glibc: serve large blocks from the heap and keep freed memory there while a model runs.

    By default glibc maps every block above 32 MB afresh and unmaps it when freed, so each
    large activation costs page faults and zeroing: batched prefill spent about a fifth of its
    time there (docs/performance.md). :func:`release_freed_memory` hands the memory back after
    each answer. Returns whether the setting was applied.
    """
    global _kept
    libc = _glibc()
    if libc is None:
        return False
    _kept = True
    trim = bool(libc.mallopt(_M_TRIM_THRESHOLD, _INT_MAX))
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, _INT_MAX)) and trim


def default_freed_memory() -> None:
    """glibc: give the heap's free memory back and, where :func:`keep_freed_memory` changed
    them, set the thresholds back to glibc's defaults, for a model load.

    A load converts or packs weights tensor by tensor: with freed memory kept in the heap, each
    freed copy would stay resident beside its replacement, and the previous model's freed heap
    too (a model switch in the app). glibc's thresholds adapt until a program sets them, so
    once set they stay at the 128 KiB defaults (every larger block mapped and unmapped); a
    process that never kept freed memory keeps glibc's own.
    """
    global _kept
    libc = _glibc()
    if libc is None:
        return
    if _kept:
        libc.mallopt(_M_TRIM_THRESHOLD, GLIBC_DEFAULT_THRESHOLD)
        libc.mallopt(_M_MMAP_THRESHOLD, GLIBC_DEFAULT_THRESHOLD)
        _kept = False
    libc.malloc_trim(0)


def release_freed_memory() -> None:
    """Give the heap's free memory back to the system (glibc), so an idle app stays small."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def set_cpu_threads(cores: int) -> None:
    """One torch thread per physical core: hyper-threads share the core's matrix units and
    only add synchronisation (the process-wide setting; the GUI thread does no tensor work)."""
    import torch

    if cores > 0 and torch.get_num_threads() != cores:
        log.info("torch threads: %d -> %d (physical cores)", torch.get_num_threads(), cores)
        torch.set_num_threads(cores)
