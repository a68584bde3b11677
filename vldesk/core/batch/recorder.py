"""Record each image's outcome: the journal first, then its caption file, XMP and history."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol

from vldesk.core.batch.events import BatchEventKind
from vldesk.core.batch.journal import BatchJob
from vldesk.core.batch.options import BatchOptions
from vldesk.core.batch.outputs import (
    CaptionChangedError,
    apply_write,
    history_summary,
    plan_write,
    remove_stale_temporaries,
    start_history_entry,
)
from vldesk.core.batch.photo_outputs import XMP_FAILED, boxes_record, write_xmp, xmp_target
from vldesk.core.batch.prefetch import PrefetchedImage
from vldesk.core.batch.records import ImageResult, ImageStatus
from vldesk.core.errors import HistoryError, VldeskError, WriteError
from vldesk.core.generation import GenerationResult
from vldesk.core.history_records import HistoryWriter
from vldesk.core.images import LoadedImage
from vldesk.core.inference.engine import Engine

#: Why an image whose answer is empty or only whitespace failed.
EMPTY_ANSWER = "The model gave an empty answer."


class EmitEvent(Protocol):
    """Reports a progress event of the run (the runner's counts go with it)."""

    def __call__(
        self,
        kind: BatchEventKind,
        *,
        image: str | None = None,
        caption: str | None = None,
        error: str | None = None,
    ) -> None: ...


class ImageRecorder:
    """Journals each image's result, then applies it; a failed write supersedes the result.

    Args:
        engine: The engine whose name (and box convention) goes with each result.
        job: The job whose journal is written.
        history: Where captions are saved as conversations; dropped (with a warning) once it
            fails, because captions matter more.
        emit: Reports warnings and each image's final result.
        on_recorded: Called with each image's final result, before it is reported.
        warnings: The run's warnings, appended to.
    """

    def __init__(
        self,
        engine: Engine,
        job: BatchJob,
        *,
        history: HistoryWriter | None,
        emit: EmitEvent,
        on_recorded: Callable[[ImageResult], None],
        warnings: list[str],
    ) -> None:
        self._engine = engine
        self.job = job
        self.options: BatchOptions = job.options
        self._history = history
        self._emit = emit
        self._on_recorded = on_recorded
        self._warnings = warnings

    @functools.cached_property
    def _engine_kind(self) -> str:
        """Recorded with each result, for the reports: transformers, llama.cpp, remote. Asked
        on the first answer: a job whose images all need no model never touches the engine."""
        return self._engine.placement.backend

    def finish(
        self, item: PrefetchedImage, generated: GenerationResult | None, *, error: str | None = None
    ) -> None:
        """Journal one image's outcome, then write its caption file, then history."""
        if generated is None:
            self._record_failure(
                ImageResult.failure(
                    item.image, error, model=self._engine.name, engine=self._engine_kind
                )
            )
            return
        batch_size = int(generated.extra.get("batch_size", 1))
        stats = generated.stats.to_dict()
        if not generated.text.strip():
            # Whitespace is no caption: a near-empty caption file would pass for success.
            failed = ImageResult.failure(
                item.image,
                EMPTY_ANSWER,
                model=self._engine.name,
                engine=self._engine_kind,
                stats=stats,
            )
            self._record_failure(failed)
            return
        boxes = None
        if self.options.boxes is not None and item.loaded is not None:
            # The family's coordinate convention at the budget this image was sent with.
            budget = self.options.settings.max_image_tokens
            boxes = boxes_record(
                generated.text, self._engine.family, item.loaded, budget, item.image
            )
        try:
            write = plan_write(self.options, item.image, generated.text)
        except VldeskError as exc:
            failed = ImageResult.failure(
                item.image,
                str(exc),
                model=self._engine.name,
                engine=self._engine_kind,
                caption=generated.text,
                stats=stats,
            )
            self._record_failure(failed)
            return
        result = ImageResult(
            item.image,
            ImageStatus.CAPTIONED,
            caption=generated.text,
            model=self._engine.name,
            engine=self._engine_kind,
            stop_reason=generated.stop_reason.value,
            seconds=generated.stats.total_s / max(batch_size, 1),
            batch_size=batch_size,
            stats=stats,
            write=write,
            boxes=boxes,
        )
        # The journal first: if the process dies after this line, resuming finishes the write.
        (recorded,) = self.job.record_results(result)
        self._apply(recorded, item.loaded)

    def _apply(self, result: ImageResult, thumbnail: LoadedImage | None) -> None:
        """Write the journaled caption to its file; a failure supersedes the result."""
        assert result.write is not None
        try:
            apply_write(self.options.folder, result.write)
        except (WriteError, CaptionChangedError) as exc:
            self._record_failure(_write_failure(result, exc))
            return
        self.job.record({"kind": "applied", "seq": result.seq})
        self._write_xmp(result)
        self._save_history(result, thumbnail)
        self._after_record(self.job.state.results.get(result.image, result))

    def _record_failure(self, failed: ImageResult) -> None:
        (recorded,) = self.job.record_results(failed)
        self._after_record(recorded)

    def _after_record(self, result: ImageResult) -> None:
        self._on_recorded(result)
        if result.status is ImageStatus.FAILED:
            self._emit(BatchEventKind.IMAGE_FAILED, image=result.image, error=result.error)
        else:
            self._emit(BatchEventKind.IMAGE_DONE, image=result.image, caption=result.caption)

    def finish_pending_writes(self) -> None:
        """Clean up after a crash: temporary files of interrupted atomic writes, and caption
        writes that were journaled but may not have reached the disk."""
        reports = self.options.reports
        for report in (reports.jsonl, reports.csv, reports.markdown):
            if report is not None:
                remove_stale_temporaries(report)
        for result in self.job.state.pending_writes():
            assert result.write is not None
            remove_stale_temporaries(self.options.folder / result.write.file)
            try:
                apply_write(self.options.folder, result.write)
            except (WriteError, CaptionChangedError) as exc:
                self.job.record_results(_write_failure(result, exc))
                continue
            self.job.record({"kind": "applied", "seq": result.seq})
            # History is written only after "applied", so it cannot have happened yet.
            self._save_history(result, None)
        for result in self.job.state.pending_xmp():
            self._write_xmp(result, after_crash=True)

    def _write_xmp(self, result: ImageResult, *, after_crash: bool = False) -> None:
        """The caption into the photo's XMP (when asked), journaled as done either way."""
        if self.options.xmp is None:
            return
        if after_crash:
            remove_stale_temporaries(xmp_target(self.options, result.image))
        record = write_xmp(self.options, result)
        self.job.record(record)
        if record["status"] == XMP_FAILED:
            message = f"{result.image}: {record['note']}"
            self._emit(BatchEventKind.WARNING, image=result.image, error=message)

    def _save_history(self, result: ImageResult, loaded: LoadedImage | None) -> None:
        """The first caption opens the job's history entry; later ones need nothing."""
        if self._history is None or self.job.state.history_entry is not None:
            return
        try:
            conversation = start_history_entry(self._history, self.options, result, loaded)
        except HistoryError as exc:
            self._history_failed(exc, result.image)
            return
        self.job.record({"kind": "history-entry", "conversation": conversation})

    def finish_history(self, captioned: int, failed: int, skipped: int) -> None:
        """After a run: the entry's answer says how far the job got."""
        entry = self.job.state.history_entry
        if self._history is None or entry is None:
            return
        text = history_summary(self.options, captioned, failed, skipped)
        try:
            self._history.add_message(entry, "assistant", text, model=self._engine.name)
        except HistoryError as exc:
            self._history_failed(exc, None)

    def _history_failed(self, exc: HistoryError, image: str | None) -> None:
        # Captions matter more than history: warn once and carry on without it.
        self._history = None
        message = f"Captions are no longer saved to the history: {exc}"
        self._warnings.append(message)
        self._emit(BatchEventKind.WARNING, image=image, error=message)


def _write_failure(result: ImageResult, exc: Exception) -> ImageResult:
    """``result``'s caption could not be written to its file."""
    return ImageResult.failure(
        result.image,
        str(exc),
        model=result.model,
        engine=result.engine,
        caption=result.caption,
        stats=result.stats,
    )
