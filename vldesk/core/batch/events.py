"""What a running batch job tells and is told: progress events, pause/resume/cancel, the summary."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


class BatchEventKind(str, Enum):
    #: The folder was scanned; ``total`` and the counts of earlier sessions are known.
    STARTED = "started"
    #: ``batch`` went into the model.
    BATCH_STARTED = "batch_started"
    #: ``caption`` is the text so far of ``image`` (streamed when the batch size is 1).
    CAPTION_TEXT = "caption_text"
    IMAGE_DONE = "image_done"
    IMAGE_FAILED = "image_failed"
    IMAGE_SKIPPED = "image_skipped"
    PAUSED = "paused"
    RESUMED = "resumed"
    #: The reports were regenerated (``reports`` lists them).
    CHECKPOINT = "checkpoint"
    #: Something worth telling that does not stop the job (``error`` says what).
    WARNING = "warning"
    FINISHED = "finished"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class BatchProgress:
    """One progress event with a snapshot of the whole job; safe to pass between threads."""

    kind: BatchEventKind
    #: Images with a result (this session and earlier ones) out of ``total`` in the folder.
    done: int
    total: int
    captioned: int
    failed: int
    skipped: int
    #: Images through the model per minute in this session (pauses not counted), once known.
    images_per_minute: float | None = None
    eta_s: float | None = None
    elapsed_s: float = 0.0
    batch_size: int = 1
    #: The image this event is about, relative to the folder.
    image: str | None = None
    batch: tuple[str, ...] = ()
    caption: str | None = None
    error: str | None = None
    reports: tuple[Path, ...] = ()


ProgressCallback = Callable[[BatchProgress], None]


class BatchControl:
    """Pause, resume and cancel a running job from any thread."""

    def __init__(self) -> None:
        #: Set to cancel; also handed to the engine, so generation stops after the current token.
        self.cancel_event = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def pause(self) -> None:
        """Stop after the current batch (or, when streaming one image, the current token)."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        self.cancel_event.set()
        self._running.set()  # wake a paused runner so it can stop

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block while paused; True once running again (False on timeout)."""
        return self._running.wait(timeout)


@dataclass(frozen=True)
class BatchSummary:
    job_id: str
    total: int
    captioned: int
    failed: int
    skipped: int
    cancelled: bool
    elapsed_s: float
    #: ``(image, reason)`` for every image whose latest result is a failure.
    failures: tuple[tuple[str, str], ...] = ()
    reports: tuple[Path, ...] = ()
    #: Problems that did not stop the job (unreadable subfolders, history or report errors).
    warnings: tuple[str, ...] = ()
    #: ``(image, note)`` for captioned images whose photo metadata was not written: a person's
    #: description kept, or a write that failed (the caption file is there either way).
    metadata_notes: tuple[tuple[str, str], ...] = ()
    #: The boxes export (the COCO file or the YOLO folder), when the job has one.
    exports: tuple[Path, ...] = ()

    @property
    def done(self) -> int:
        return self.captioned + self.failed + self.skipped

    @property
    def complete(self) -> bool:
        return not self.cancelled and self.done >= self.total

    @property
    def found_no_images(self) -> bool:
        """The folder held no image to caption (``warnings`` says so)."""
        return self.total == 0


@dataclass
class SessionClock:
    """Active time (pauses excluded) and throughput of this session."""

    started: float = field(default_factory=time.monotonic)
    paused_total: float = 0.0
    paused_at: float | None = None
    processed: int = 0
    first_batch_at: float | None = None

    def pause(self) -> None:
        if self.paused_at is None:
            self.paused_at = time.monotonic()

    def resume(self) -> None:
        if self.paused_at is not None:
            self.paused_total += time.monotonic() - self.paused_at
            self.paused_at = None

    def elapsed(self) -> float:
        now = self.paused_at or time.monotonic()
        return max(0.0, now - self.started - self.paused_total)

    def per_minute(self) -> float | None:
        if not self.processed or self.first_batch_at is None:
            return None
        active = self.elapsed() - (self.first_batch_at - self.started)
        return self.processed * 60.0 / active if active > 0 else None


__all__ = [
    "BatchControl",
    "BatchEventKind",
    "BatchProgress",
    "BatchSummary",
    "ProgressCallback",
    "SessionClock",
]
