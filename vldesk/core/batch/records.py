"""Journal records as data: image results, caption writes, and the job state they replay to."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

log = logging.getLogger(__name__)


class ImageStatus(str, Enum):
    CAPTIONED = "captioned"
    FAILED = "failed"
    #: Mode "skip" and the image already had a caption file.
    SKIPPED = "skipped"


class WriteOp(str, Enum):
    CREATE = "create"
    REPLACE = "replace"
    APPEND = "append"


@dataclass(frozen=True)
class CaptionWrite:
    """One change to a caption file, recorded before it is made so a crash can finish it."""

    #: The caption file, relative to the job's folder.
    file: str
    op: WriteOp
    #: What the file will hold (create, replace) or what is added at its end (append).
    text: str
    #: For appends: the file before the change, to tell whether the append already happened.
    before_size: int = 0
    before_sha256: str | None = None

    def to_record(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "op": self.op.value,
            "text": self.text,
            "before_size": self.before_size,
            "before_sha256": self.before_sha256,
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> CaptionWrite:
        return cls(
            str(data["file"]),
            WriteOp(data["op"]),
            str(data["text"]),
            int(data.get("before_size") or 0),
            data.get("before_sha256"),
        )


@dataclass(frozen=True)
class ImageResult:
    """The outcome for one image, as journaled and as shown in the reports."""

    image: str
    status: ImageStatus
    caption: str = ""
    error: str | None = None
    model: str = ""
    #: The engine that answered: "transformers", "llama.cpp", "remote" (empty: none did).
    engine: str = ""
    stop_reason: str | None = None
    #: This image's share of its batch's time.
    seconds: float | None = None
    batch_size: int = 1
    stats: dict[str, Any] | None = None
    write: CaptionWrite | None = None
    #: The boxes in the answer, in the original's pixels: ``{"size": [w, h], "detections":
    #: [{"label", "box", "point"}]}`` (jobs with ``--boxes``; kept so a resumed job exports all).
    boxes: dict[str, Any] | None = None
    #: The photo metadata step: a :class:`~vldesk.core.metadata.WriteStatus` value or
    #: ``"failed"``, and what to tell the user; set by the job's ``xmp`` record.
    xmp: str | None = None
    xmp_note: str | None = None
    #: Position in the journal, set when recorded; ``applied`` and ``history`` records refer to it.
    seq: int = -1
    at: float = field(default_factory=time.time)

    @classmethod
    def failure(
        cls,
        image: str,
        error: str | None,
        *,
        model: str = "",
        engine: str = "",
        caption: str = "",
        stats: dict[str, Any] | None = None,
    ) -> ImageResult:
        """A failed result: ``error`` says why; ``caption`` keeps an answer that was not saved."""
        return cls(
            image,
            ImageStatus.FAILED,
            caption=caption,
            error=error,
            model=model,
            engine=engine,
            stats=stats,
        )

    def to_record(self) -> dict[str, Any]:
        return {
            "kind": "result",
            "seq": self.seq,
            "image": self.image,
            "status": self.status.value,
            "caption": self.caption,
            "error": self.error,
            "model": self.model,
            "engine": self.engine,
            "stop_reason": self.stop_reason,
            "seconds": self.seconds,
            "batch_size": self.batch_size,
            "stats": self.stats,
            "write": self.write.to_record() if self.write is not None else None,
            "at": self.at,
            **({"boxes": self.boxes} if self.boxes is not None else {}),
        }

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> ImageResult:
        write = data.get("write")
        return cls(
            image=str(data["image"]),
            status=ImageStatus(data["status"]),
            caption=str(data.get("caption") or ""),
            error=data.get("error"),
            model=str(data.get("model") or ""),
            engine=str(data.get("engine") or ""),
            stop_reason=data.get("stop_reason"),
            seconds=data.get("seconds"),
            batch_size=int(data.get("batch_size") or 1),
            stats=data.get("stats"),
            write=CaptionWrite.from_record(write) if isinstance(write, Mapping) else None,
            boxes=data["boxes"] if isinstance(data.get("boxes"), dict) else None,
            seq=int(data["seq"]),
            at=float(data.get("at") or 0.0),
        )


@dataclass
class JobState:
    """The journal replayed: the latest result per image and what was completed after it."""

    results: dict[str, ImageResult] = field(default_factory=dict)
    applied: set[int] = field(default_factory=set)
    in_history: set[int] = field(default_factory=set)
    #: The job's one history entry (older jobs saved a conversation per image instead).
    history_entry: int | None = None
    #: Results whose photo metadata step is over (written, skipped or failed).
    xmp_done: set[int] = field(default_factory=set)
    sessions: int = 0
    finished: bool = False
    next_seq: int = 0
    updated: float = 0.0

    def add(self, record: Mapping[str, Any]) -> None:
        kind = record.get("kind")
        at = record.get("at")
        if isinstance(at, (int, float)):
            self.updated = max(self.updated, float(at))
        if kind == "result":
            result = ImageResult.from_record(record)
            self.results[result.image] = result
            self.next_seq = max(self.next_seq, result.seq + 1)
            self.finished = False
        elif kind == "applied":
            self.applied.add(int(record["seq"]))
        elif kind == "history":
            self.in_history.add(int(record["seq"]))
        elif kind == "history-entry":
            self.history_entry = int(record["conversation"])
        elif kind == "xmp":
            seq = int(record["seq"])
            self.xmp_done.add(seq)
            current = self.results.get(str(record["image"]))
            if current is not None and current.seq == seq:
                note = record.get("note")
                self.results[current.image] = replace(
                    current, xmp=str(record["status"]), xmp_note=str(note) if note else None
                )
        elif kind == "session":
            self.sessions += 1
            self.finished = False
        elif kind == "finished":
            self.finished = True

    def pending_writes(self) -> list[ImageResult]:
        """Results whose caption file change may not have happened (a crash came between)."""
        return [
            r for r in self.results.values() if r.write is not None and r.seq not in self.applied
        ]

    def pending_xmp(self) -> list[ImageResult]:
        """Captions on disk whose photo metadata step may not have happened (or finished)."""
        return [
            r
            for r in self.results.values()
            if r.status is ImageStatus.CAPTIONED
            and r.write is not None
            and r.seq in self.applied
            and r.seq not in self.xmp_done
        ]

    def count(self, status: ImageStatus) -> int:
        return sum(1 for r in self.results.values() if r.status is status)


def replay(records: list[dict[str, Any]]) -> JobState:
    state = JobState()
    for record in records:
        try:
            state.add(record)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("skipping a malformed journal record (%s): %r", exc, record)
    return state


def iter_results(state: JobState, order: list[str] | None = None) -> Iterator[ImageResult]:
    """Results in scan order (then any journaled images no longer in the folder, by name)."""
    seen: set[str] = set()
    for image in order or ():
        result = state.results.get(image)
        if result is not None and image not in seen:
            seen.add(image)
            yield result
    for image in sorted(set(state.results) - seen, key=lambda p: tuple(p.split("/"))):
        yield state.results[image]
