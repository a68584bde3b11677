"""How a worker's request failed, as it crosses to the GUI thread: a kind and a message."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

log = logging.getLogger(__name__)


class FailureKind(str, Enum):
    """Why a request produced no result: the app offers different ways on for each."""

    #: The device ran out of memory: a smaller image budget or the CPU may work.
    OUT_OF_MEMORY = "out_of_memory"
    #: Stopped before it started (a batch cancelled while queued).
    CANCELLED = "cancelled"
    ERROR = "error"


@dataclass(frozen=True)
class Failure:
    """A request that failed: its kind, and the message for the user."""

    kind: FailureKind
    message: str

    @classmethod
    def error(cls, message: str) -> Failure:
        return cls(FailureKind.ERROR, message)


def unexpected(what: str, exc: BaseException) -> str:
    """A short message for an unexpected error; the traceback goes to the log."""
    log.error("unexpected error while %s", what, exc_info=exc)
    return f"Unexpected error while {what}: {type(exc).__name__}: {exc}. Details are in the log."
