"""Run a batch job: prefetch and resize images, caption them in batches, journal every result."""

# A Qt worker (or the CLI) builds a :class:`BatchRunner` and calls :meth:`BatchRunner.run` on its
# own thread; :class:`BatchControl` pauses, resumes and cancels it from any other thread, and
# :class:`BatchProgress` events (plain data) report what happens.

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

from vldesk.core.batch.events import (
    BatchControl,
    BatchEventKind,
    BatchProgress,
    BatchSummary,
    ProgressCallback,
    SessionClock,
)
from vldesk.core.batch.journal import BatchJob
from vldesk.core.batch.options import BatchOptions
from vldesk.core.batch.outputs import write_reports
from vldesk.core.batch.photo_outputs import XMP_WRITTEN, export_boxes
from vldesk.core.batch.prefetch import POLL_S, LoadAll, PrefetchedImage, Prefetcher
from vldesk.core.batch.recorder import EMPTY_ANSWER, ImageRecorder
from vldesk.core.batch.records import ImageResult, ImageStatus, iter_results
from vldesk.core.batch.scan import no_images_message, scan_images
from vldesk.core.batch.settle import results_without_model
from vldesk.core.errors import GenerationError, OutOfMemoryError, WriteError
from vldesk.core.generation import Conversation, GenerationResult, StopReason
from vldesk.core.history_records import HistoryWriter
from vldesk.core.inference.engine import Engine
from vldesk.core.messages import core_text, message_of

log = logging.getLogger(__name__)

#: Reports are regenerated at least this often while a job runs (and at every stop).
CHECKPOINT_SECONDS = 15.0
#: Skip records are journaled this many to a write (each write is one fsync).
SKIP_CHUNK = 500


class BatchRunner:
    """Captions a job's images with a loaded engine; one :meth:`run` at a time.

    Args:
        engine: A loaded :class:`~vldesk.core.inference.engine.Engine`, used only from the run's
            thread.
        job: The job to run, from :meth:`BatchJob.create` or :meth:`BatchJob.resume`.
        control: Pause/resume/cancel from other threads.
        on_progress: Called on the run's thread with each :class:`BatchProgress`.
        history: A :class:`~vldesk.core.history.HistoryStore`; each caption is saved as a
            conversation (image, prompt, answer) that the chat view can open.
        batch_size: Images per model call; ``None`` picks one from free memory. With 1, captions
            stream token by token and pausing takes effect at once.
    """

    def __init__(
        self,
        engine: Engine,
        job: BatchJob,
        *,
        control: BatchControl | None = None,
        on_progress: ProgressCallback | None = None,
        history: HistoryWriter | None = None,
        batch_size: int | None = None,
        checkpoint_seconds: float = CHECKPOINT_SECONDS,
    ) -> None:
        if batch_size is not None and batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.engine = engine
        self.job = job
        self.options: BatchOptions = job.options
        self.control = control or BatchControl()
        self._on_progress = on_progress
        self._requested_batch = batch_size
        self._checkpoint_seconds = checkpoint_seconds
        self.batch_size = batch_size or 1
        self._warnings: list[str] = []
        self._clock = SessionClock()
        self._order: list[str] = []
        self._total = 0
        self._done = 0
        self._counts = dict.fromkeys(ImageStatus, 0)
        self._last_checkpoint = 0.0
        self._reports: tuple[Path, ...] = ()
        self._exports: tuple[Path, ...] = ()
        self._prefetcher: Prefetcher | None = None
        self._recorder = ImageRecorder(
            engine,
            job,
            history=history,
            emit=self._emit,
            on_recorded=self._count,
            warnings=self._warnings,
        )

    # -- the run ------------------------------------------------------------------------------

    def run(self, *, retry_failed: bool = False) -> BatchSummary:
        """Caption every image without a result yet (and failed ones when ``retry_failed``).

        Returns when all are done or on cancel; per-image problems are recorded and the job goes
        on. Pausing blocks inside this call until resumed or cancelled.

        Raises:
            WriteError: the journal cannot be written (disk full): the job stops, resumable.
            VldeskError: the folder cannot be read.
        """
        self._clock = SessionClock()
        self._warnings.clear()  # the recorder appends to this list
        self._exports = ()
        self._counts = dict.fromkeys(ImageStatus, 0)
        self.job.record({"kind": "session", "retry_failed": retry_failed})
        self._recorder.finish_pending_writes()
        scan = scan_images(
            self.options.folder, recursive=self.options.recursive, types=self.options.types
        )
        self._warnings.extend(scan.problems)
        self._order = list(scan.images)
        queue_ = self._plan(retry_failed)
        self._emit(BatchEventKind.STARTED)
        if not self._order:
            # Finishing "0 of 0" would look like success: say why there was nothing to do.
            self._warnings.append(
                no_images_message(
                    self.options.folder, recursive=self.options.recursive, types=self.options.types
                )
            )
        for problem in self._warnings:
            self._emit(BatchEventKind.WARNING, error=problem)
        queue_ = self._settle_without_model(queue_)
        self._last_checkpoint = time.monotonic()
        cancelled = False
        if queue_ and not self.control.cancelled:
            cancelled = self._caption(queue_)
        cancelled = cancelled or self.control.cancelled
        if not cancelled and self._done >= self._total:
            self.job.record({"kind": "finished"})
        self._export_boxes()
        counts = self._counts
        self._recorder.finish_history(
            counts[ImageStatus.CAPTIONED], counts[ImageStatus.FAILED], counts[ImageStatus.SKIPPED]
        )
        self._checkpoint(final=True)
        self._emit(BatchEventKind.CANCELLED if cancelled else BatchEventKind.FINISHED)
        return self._summary(cancelled)

    def _plan(self, retry_failed: bool) -> list[str]:
        """The images to work on now; counts the rest as done (from earlier sessions)."""
        state = self.job.state
        todo = []
        for image in self._order:
            result = state.results.get(image)
            if result is None or (retry_failed and result.status is ImageStatus.FAILED):
                todo.append(image)
            else:
                self._counts[result.status] += 1
        self._total = len(self._order)
        self._done = self._total - len(todo)
        return todo

    def _settle_without_model(self, images: list[str]) -> list[str]:
        """Record the images that need no model; return the rest."""
        state = self.job.state
        remaining: list[str] = []
        settled: list[ImageResult] = []
        for image, result in results_without_model(self.options, self._order, state, images):
            if result is None:
                remaining.append(image)
                continue
            settled.append(result)
            if len(settled) >= SKIP_CHUNK:
                self._record_settled(settled)
                settled = []
        self._record_settled(settled)
        return remaining

    def _record_settled(self, results: list[ImageResult]) -> None:
        for result in self.job.record_results(*results):
            self._count(result)
            kind = (
                BatchEventKind.IMAGE_SKIPPED
                if result.status is ImageStatus.SKIPPED
                else BatchEventKind.IMAGE_FAILED
            )
            self._emit(kind, image=result.image, caption=result.caption, error=result.error)

    def _caption(self, images: list[str]) -> bool:
        """Run the model over ``images``; True when cancelled."""
        settings = self.options.settings
        if self._requested_batch is None:
            self.batch_size = self.engine.batch_size_for(settings)
        self.batch_size = max(1, min(self.batch_size, len(images)))
        prefetcher = Prefetcher(
            self.options.folder,
            images,
            factor=self.engine.capabilities.patch_factor,
            max_image_tokens=settings.max_image_tokens,
            batch_size=self.batch_size,
            load_all=self._parallel_loader(),
        )
        self._prefetcher = prefetcher
        prefetcher.start()
        try:
            while True:
                if not self._wait_if_paused():
                    return True
                batch = prefetcher.get(self.control.cancel_event)
                if batch is None:
                    return self.control.cancelled
                if self._clock.first_batch_at is None:
                    self._clock.first_batch_at = time.monotonic()
                failed = [item for item in batch if item.loaded is None]
                for item in failed:
                    self._recorder.finish(item, None, error=item.error)
                ready = [item for item in batch if item.loaded is not None]
                if ready and not self._run_batch(ready):
                    return True
                if time.monotonic() - self._last_checkpoint >= self._checkpoint_seconds:
                    self._checkpoint()
        finally:
            prefetcher.stop()

    def _parallel_loader(self) -> LoadAll | None:
        """For servers, images are decoded, resized and encoded in worker processes: one
        thread could not keep several GPUs busy. A local model reads them on one thread."""
        if self.engine.placement.kind != "remote":
            return None
        from vldesk.core.inference.remote import EndpointPool, RemoteEngine

        if not isinstance(self.engine, (EndpointPool, RemoteEngine)):
            return None  # answers from a results file: nothing is sent
        from vldesk.core.batch.parallel_load import ParallelLoader

        return ParallelLoader(
            self.options.folder,
            factor=self.engine.capabilities.patch_factor,
            max_tokens=self.options.settings.max_image_tokens,
        )

    def _wait_if_paused(self, image: str | None = None) -> bool:
        """Block while paused; False on cancel.

        Between batches (``image`` is None) the reports are brought up to date first; while
        streaming ``image`` this holds the generation loop between tokens.
        """
        if self.control.paused and not self.control.cancelled:
            self._clock.pause()
            if image is None:
                self._checkpoint()
            self._emit(BatchEventKind.PAUSED, image=image)
            while not self.control.wait_while_paused(POLL_S):
                pass
            self._clock.resume()
            if not self.control.cancelled:
                self._emit(BatchEventKind.RESUMED, image=image)
        return not self.control.cancelled

    def _run_batch(self, batch: list[PrefetchedImage]) -> bool:
        """Caption one batch and record the results; False when cancelled."""
        self._emit(BatchEventKind.BATCH_STARTED, batch=tuple(i.image for i in batch))
        try:
            results = self._generate(batch)
        except OutOfMemoryError as exc:
            if len(batch) == 1:
                self._recorder.finish(batch[0], None, error=message_of(exc))
                return True
            # Halve the batch for the rest of the job and try these images again.
            self.batch_size = max(1, len(batch) // 2)
            if self._prefetcher is not None:
                self._prefetcher.batch_size = self.batch_size
            self._emit(
                BatchEventKind.WARNING,
                error=core_text(
                    "Batch",
                    "Out of memory with {count} images at once; continuing {size} at a time.",
                    count=len(batch),
                    size=self.batch_size,
                ),
            )
            half = len(batch) // 2
            return self._run_batch(batch[:half]) and self._run_batch(batch[half:])
        except GenerationError as exc:
            if len(batch) == 1:
                self._recorder.finish(batch[0], None, error=message_of(exc))
                return True
            # Find the image that breaks the batch: one by one.
            log.info("batch failed (%s); retrying its images one by one", exc)
            return all(self._run_batch([item]) for item in batch)
        if any(r.stop_reason is StopReason.CANCELLED for r in results):
            return False  # unfinished captions are dropped: these images run again on resume
        self._clock.processed += len(batch)
        for item, result in zip(batch, results, strict=True):
            self._recorder.finish(item, result)
        return True

    def _generate(self, batch: list[PrefetchedImage]) -> list[GenerationResult]:
        conversations = [self._conversation(item) for item in batch]
        settings = self.options.settings
        cancel = self.control.cancel_event
        if len(batch) > 1:
            return list(self.engine.generate_batch(conversations, settings, cancel=cancel))
        image = batch[0].image
        streamed: list[str] = []

        def on_text(text: str) -> None:
            streamed.append(text)
            self._emit(BatchEventKind.CAPTION_TEXT, image=image, caption="".join(streamed))

        def on_token(count: int) -> None:
            self._wait_if_paused(image)  # a cancel meanwhile stops the engine through ``cancel``

        result = self.engine.generate(
            conversations[0],
            settings,
            on_text=on_text,
            on_token=on_token,
            cancel=cancel,
            reuse_cache=False,  # captions are independent: no follow-up to keep a cache for
        )
        return [result]

    def _conversation(self, item: PrefetchedImage) -> Conversation:
        assert item.loaded is not None
        return Conversation(system=self.options.system or None).ask(
            self.options.prompt, [item.loaded]
        )

    # -- counts and reports -------------------------------------------------------------------

    def _count(self, result: ImageResult) -> None:
        # Each queued image gets exactly one final result per session.
        self._counts[result.status] += 1
        self._done += 1

    def _export_boxes(self) -> None:
        """Export the boxes of every captioned image of the job, this session's and earlier."""
        if self.options.boxes is None:
            return
        try:
            written = export_boxes(self.options, iter_results(self.job.state, self._order))
        except (WriteError, OSError) as exc:
            message = core_text(
                "Batch", "The boxes could not be exported: {reason}", reason=message_of(exc)
            )
            self._warnings.append(message)
            self._emit(BatchEventKind.WARNING, error=message)
            return
        self._exports = tuple(written)

    def _checkpoint(self, *, final: bool = False) -> None:
        """Regenerate the reports from the journal (atomically, so never half-written)."""
        self._last_checkpoint = time.monotonic()
        if not self.options.reports.any():
            return
        try:
            written = write_reports(self.options, iter_results(self.job.state, self._order))
        except WriteError as exc:
            if final:
                self._warnings.append(message_of(exc))
            self._emit(BatchEventKind.WARNING, error=message_of(exc))
            return
        self._reports = tuple(written)
        self._emit(BatchEventKind.CHECKPOINT, reports=self._reports)

    # -- events -------------------------------------------------------------------------------

    def _emit(
        self,
        kind: BatchEventKind,
        *,
        image: str | None = None,
        batch: tuple[str, ...] = (),
        caption: str | None = None,
        error: str | None = None,
        reports: tuple[Path, ...] = (),
    ) -> None:
        if self._on_progress is None:
            return
        rate = self._clock.per_minute()
        remaining = self._total - self._done
        eta = remaining * 60.0 / rate if rate and remaining >= 0 else None
        self._on_progress(
            BatchProgress(
                kind,
                done=self._done,
                total=self._total,
                captioned=self._counts[ImageStatus.CAPTIONED],
                failed=self._counts[ImageStatus.FAILED],
                skipped=self._counts[ImageStatus.SKIPPED],
                images_per_minute=rate,
                eta_s=eta if eta is None or math.isfinite(eta) else None,
                elapsed_s=self._clock.elapsed(),
                batch_size=self.batch_size,
                image=image,
                batch=batch,
                caption=caption,
                error=error,
                reports=reports,
            )
        )

    def _summary(self, cancelled: bool) -> BatchSummary:
        order = set(self._order)
        failures = tuple(
            (r.image, r.error or "")
            for r in iter_results(self.job.state, self._order)
            if r.status is ImageStatus.FAILED and r.image in order
        )
        metadata_notes = tuple(
            (r.image, r.xmp_note or "")
            for r in iter_results(self.job.state, self._order)
            if r.xmp not in (None, XMP_WRITTEN) and r.image in order
        )
        return BatchSummary(
            job_id=self.job.job_id,
            total=self._total,
            captioned=self._counts[ImageStatus.CAPTIONED],
            failed=self._counts[ImageStatus.FAILED],
            skipped=self._counts[ImageStatus.SKIPPED],
            cancelled=cancelled,
            elapsed_s=self._clock.elapsed(),
            failures=failures,
            reports=self._reports,
            warnings=tuple(self._warnings),
            metadata_notes=metadata_notes,
            exports=self._exports,
        )


__all__ = [
    "EMPTY_ANSWER",
    "BatchControl",
    "BatchEventKind",
    "BatchProgress",
    "BatchRunner",
    "BatchSummary",
    "ProgressCallback",
]
