"""Run a batch job: prefetch and resize images, caption them in batches, journal every result."""

# A Qt worker (or the CLI) builds a :class:`BatchRunner` and calls :meth:`BatchRunner.run` on its
# own thread; :class:`BatchControl` pauses, resumes and cancels it from any other thread, and
# :class:`BatchProgress` events (plain data) report what happens.

from __future__ import annotations

import logging
import math
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from vldesk.core.batch.journal import (
    BatchJob,
    ImageResult,
    ImageStatus,
    iter_results,
)
from vldesk.core.batch.options import BatchOptions, CaptionMode
from vldesk.core.batch.outputs import (
    CaptionChangedError,
    apply_write,
    caption_relpath,
    plan_write,
    read_existing_caption,
    remove_stale_temporaries,
    write_reports,
)
from vldesk.core.batch.scan import scan_images
from vldesk.core.errors import (
    GenerationError,
    HistoryError,
    ImageLoadError,
    OutOfMemoryError,
    VldeskError,
    WriteError,
)
from vldesk.core.generation import Conversation, GenerationResult, StopReason
from vldesk.core.images import LoadedImage, fit_to_token_budget, load_image
from vldesk.core.inference.engine import Engine

log = logging.getLogger(__name__)

#: Reports are regenerated at least this often while a job runs (and at every stop).
CHECKPOINT_SECONDS = 15.0
#: Images decoded ahead of the model: this many batches' worth, so sorting has choice.
PREFETCH_BATCHES = 4
#: Skip records are journaled this many to a write (each write is one fsync).
SKIP_CHUNK = 500
_POLL_S = 0.1


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

    @property
    def done(self) -> int:
        return self.captioned + self.failed + self.skipped

    @property
    def complete(self) -> bool:
        return not self.cancelled and self.done >= self.total


@dataclass
class _Item:
    image: str
    loaded: LoadedImage | None = None
    error: str | None = None

    @property
    def tokens(self) -> int:
        return 0 if self.loaded is None else self.loaded.size[0] * self.loaded.size[1]

    @property
    def aspect(self) -> float:
        return 0.0 if self.loaded is None else self.loaded.size[0] / self.loaded.size[1]


_END = object()


class _Prefetcher:
    """Decodes and resizes images on a background thread, and groups them into batches of
    similar size (less padding), a bounded number ahead of the model."""

    def __init__(
        self,
        folder: Path,
        images: Sequence[str],
        *,
        factor: int,
        max_image_tokens: int,
        batch_size: int,
    ) -> None:
        self._folder = folder
        self._images = list(images)
        self._factor = factor
        self._max_tokens = max_image_tokens
        #: Read by the thread at each batch; the runner lowers it after running out of memory.
        self.batch_size = batch_size
        self._stop = threading.Event()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=2)
        self._thread = threading.Thread(target=self._work, name="batch-prefetch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def get(self, cancel: threading.Event) -> list[_Item] | None:
        """The next batch; ``None`` when every image was handed out or on cancel."""
        while not cancel.is_set():
            try:
                batch = self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if batch is _END:
                return None
            if isinstance(batch, BaseException):
                raise batch
            return list(batch)
        return None

    def _put(self, value: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(value, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        try:
            pool: list[_Item] = []
            for image in self._images:
                if self._stop.is_set():
                    return
                item = self._load(image)
                if item.loaded is None:
                    if not self._put([item]):  # failures go straight through
                        return
                    continue
                pool.append(item)
                if len(pool) >= PREFETCH_BATCHES * self.batch_size and not self._emit(pool):
                    return
            while pool:
                if not self._emit(pool):
                    return
            self._put(_END)
        except BaseException as exc:  # hand it to the runner rather than dying silently
            self._put(exc)

    def _emit(self, pool: list[_Item]) -> bool:
        """Take the run of ``batch_size`` images of most similar size out of the pool."""
        size = max(1, min(self.batch_size, len(pool)))
        pool.sort(key=lambda item: (item.tokens, item.aspect))
        start = min(
            range(len(pool) - size + 1),
            key=lambda i: (pool[i + size - 1].tokens - pool[i].tokens, i),
        )
        batch = pool[start : start + size]
        del pool[start : start + size]
        return self._put(batch)

    def _load(self, image: str) -> _Item:
        path = self._folder / image
        try:
            draft = self._max_tokens * self._factor * self._factor
            loaded = load_image(path, draft_pixels=draft)
            # Resized here, off the model's thread; the engine's own resize is then a no-op.
            resized = fit_to_token_budget(loaded, self._factor, self._max_tokens)
        except ImageLoadError as exc:
            return _Item(image, error=_capital(exc.reason))
        except MemoryError:
            return _Item(image, error="Not enough memory to decode this image.")
        except Exception as exc:  # a decoder bug must fail one image, not the whole job
            log.warning("unexpected error loading %s", path, exc_info=True)
            return _Item(image, error=f"The image could not be read ({exc}).")
        return _Item(
            image,
            LoadedImage(
                resized,
                loaded.source,
                loaded.original_size,
                loaded.format,
                loaded.original_mode,
                loaded.frame_count,
            ),
        )


def _capital(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."


@dataclass
class _Clock:
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
        history: Any | None = None,
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
        self._history = history
        self._requested_batch = batch_size
        self._checkpoint_seconds = checkpoint_seconds
        self.batch_size = batch_size or 1
        self._warnings: list[str] = []
        self._clock = _Clock()
        self._order: list[str] = []
        self._total = 0
        self._done = 0
        self._counts = dict.fromkeys(ImageStatus, 0)
        self._last_checkpoint = 0.0
        self._reports: tuple[Path, ...] = ()
        self._prefetcher: _Prefetcher | None = None

    # -- the run ------------------------------------------------------------------------------

    def run(self, *, retry_failed: bool = False) -> BatchSummary:
        """Caption every image without a result yet (and failed ones when ``retry_failed``).

        Returns when all are done or on cancel; per-image problems are recorded and the job goes
        on. Pausing blocks inside this call until resumed or cancelled.

        Raises:
            WriteError: the journal cannot be written (disk full): the job stops, resumable.
            VldeskError: the folder cannot be read.
        """
        self._clock = _Clock()
        self._warnings = []
        self._counts = dict.fromkeys(ImageStatus, 0)
        self.job.record({"kind": "session", "retry_failed": retry_failed})
        self._finish_pending_writes()
        scan = scan_images(
            self.options.folder, recursive=self.options.recursive, types=self.options.types
        )
        self._warnings.extend(scan.problems)
        self._order = list(scan.images)
        queue_ = self._plan(retry_failed)
        self._emit(BatchEventKind.STARTED)
        for problem in scan.problems:
            self._emit(BatchEventKind.WARNING, error=problem)
        queue_ = self._settle_without_model(queue_)
        self._last_checkpoint = time.monotonic()
        cancelled = False
        if queue_ and not self.control.cancelled:
            cancelled = self._caption(queue_)
        cancelled = cancelled or self.control.cancelled
        if not cancelled and self._done >= self._total:
            self.job.record({"kind": "finished"})
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
        """Record images that need no model (existing captions to skip, caption file clashes);
        return the rest."""
        owners: dict[str, str] = {}
        state = self.job.state
        # Where file names ignore case, "A.txt" and "a.txt" are one file.
        key = str.casefold if sys.platform in ("win32", "darwin") else str
        # Caption files already claimed by images finished earlier.
        for image in self._order:
            result = state.results.get(image)
            if result is not None and result.status is not ImageStatus.FAILED:
                owners.setdefault(key(caption_relpath(self.options, image)), image)
        remaining: list[str] = []
        settled: list[ImageResult] = []
        for image in images:
            if len(settled) >= SKIP_CHUNK:
                self._record_settled(settled)
                settled = []
            caption_file = caption_relpath(self.options, image)
            owner = owners.setdefault(key(caption_file), image)
            if owner != image:
                settled.append(
                    ImageResult(
                        image,
                        ImageStatus.FAILED,
                        error=f"Its caption file {caption_file} is also the caption file of "
                        f"{owner}; rename one of the two images.",
                    )
                )
                continue
            if self.options.mode is CaptionMode.SKIP:
                existing = read_existing_caption(self.options, image)
                if existing is not None:
                    settled.append(ImageResult(image, ImageStatus.SKIPPED, caption=existing))
                    continue
            remaining.append(image)
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
        prefetcher = _Prefetcher(
            self.options.folder,
            images,
            factor=self.engine.capabilities.patch_factor,
            max_image_tokens=settings.max_image_tokens,
            batch_size=self.batch_size,
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
                    self._finish(item, None, error=item.error)
                ready = [item for item in batch if item.loaded is not None]
                if ready and not self._run_batch(ready):
                    return True
                if time.monotonic() - self._last_checkpoint >= self._checkpoint_seconds:
                    self._checkpoint()
        finally:
            prefetcher.stop()

    def _wait_if_paused(self) -> bool:
        """Block while paused (reports are brought up to date first); False on cancel."""
        if self.control.paused and not self.control.cancelled:
            self._clock.pause()
            self._checkpoint()
            self._emit(BatchEventKind.PAUSED)
            while not self.control.wait_while_paused(_POLL_S):
                pass
            self._clock.resume()
            if not self.control.cancelled:
                self._emit(BatchEventKind.RESUMED)
        return not self.control.cancelled

    def _run_batch(self, batch: list[_Item]) -> bool:
        """Caption one batch and record the results; False when cancelled."""
        self._emit(BatchEventKind.BATCH_STARTED, batch=tuple(i.image for i in batch))
        try:
            results = self._generate(batch)
        except OutOfMemoryError as exc:
            if len(batch) == 1:
                self._finish(batch[0], None, error=str(exc))
                return True
            # Halve the batch for the rest of the job and try these images again.
            self.batch_size = max(1, len(batch) // 2)
            if self._prefetcher is not None:
                self._prefetcher.batch_size = self.batch_size
            self._emit(
                BatchEventKind.WARNING,
                error=f"Out of memory with {len(batch)} images at once; "
                f"continuing {self.batch_size} at a time.",
            )
            half = len(batch) // 2
            return self._run_batch(batch[:half]) and self._run_batch(batch[half:])
        except GenerationError as exc:
            if len(batch) == 1:
                self._finish(batch[0], None, error=str(exc))
                return True
            # Find the image that breaks the batch: one by one.
            log.info("batch failed (%s); retrying its images one by one", exc)
            return all(self._run_batch([item]) for item in batch)
        if any(r.stop_reason is StopReason.CANCELLED for r in results):
            return False  # unfinished captions are dropped: these images run again on resume
        self._clock.processed += len(batch)
        for item, result in zip(batch, results, strict=True):
            self._finish(item, result)
        return True

    def _generate(self, batch: list[_Item]) -> list[GenerationResult]:
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
            # Pausing mid-caption: hold the generation loop until resumed or cancelled.
            if self.control.paused and not self.control.cancelled:
                self._clock.pause()
                self._emit(BatchEventKind.PAUSED, image=image)
                while not self.control.wait_while_paused(_POLL_S):
                    pass
                self._clock.resume()
                if not self.control.cancelled:
                    self._emit(BatchEventKind.RESUMED, image=image)

        result = self.engine.generate(
            conversations[0],
            settings,
            on_text=on_text,
            on_token=on_token,
            cancel=cancel,
            reuse_cache=False,  # captions are independent: no follow-up to keep a cache for
        )
        return [result]

    def _conversation(self, item: _Item) -> Conversation:
        assert item.loaded is not None
        return Conversation(system=self.options.system or None).ask(
            self.options.prompt, [item.loaded]
        )

    # -- recording ----------------------------------------------------------------------------

    def _finish(
        self, item: _Item, generated: GenerationResult | None, *, error: str | None = None
    ) -> None:
        """Journal one image's outcome, then write its caption file, then history."""
        if generated is None:
            result = ImageResult(
                item.image, ImageStatus.FAILED, error=error, model=self.engine.name
            )
            (recorded,) = self.job.record_results(result)
            self._after_record(recorded)
            return
        batch_size = int(generated.extra.get("batch_size", 1))
        stats = generated.stats.to_dict()
        try:
            write = plan_write(self.options, item.image, generated.text)
        except VldeskError as exc:
            failed = ImageResult(
                item.image,
                ImageStatus.FAILED,
                caption=generated.text,
                error=str(exc),
                model=self.engine.name,
                stats=stats,
            )
            (recorded,) = self.job.record_results(failed)
            self._after_record(recorded)
            return
        result = ImageResult(
            item.image,
            ImageStatus.CAPTIONED,
            caption=generated.text,
            model=self.engine.name,
            stop_reason=generated.stop_reason.value,
            seconds=generated.stats.total_s / max(batch_size, 1),
            batch_size=batch_size,
            stats=stats,
            write=write,
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
            failed = ImageResult(
                result.image,
                ImageStatus.FAILED,
                caption=result.caption,
                error=str(exc),
                model=result.model,
                stats=result.stats,
            )
            (recorded,) = self.job.record_results(failed)
            self._after_record(recorded)
            return
        self.job.record({"kind": "applied", "seq": result.seq})
        self._save_history(result, thumbnail)
        self._after_record(result)

    def _after_record(self, result: ImageResult) -> None:
        self._count(result)
        if result.status is ImageStatus.FAILED:
            self._emit(BatchEventKind.IMAGE_FAILED, image=result.image, error=result.error)
        else:
            self._emit(BatchEventKind.IMAGE_DONE, image=result.image, caption=result.caption)

    def _count(self, result: ImageResult) -> None:
        # Each queued image gets exactly one final result per session.
        self._counts[result.status] += 1
        self._done += 1

    def _finish_pending_writes(self) -> None:
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
                self.job.record_results(
                    ImageResult(
                        result.image,
                        ImageStatus.FAILED,
                        caption=result.caption,
                        error=str(exc),
                        model=result.model,
                        stats=result.stats,
                    )
                )
                continue
            self.job.record({"kind": "applied", "seq": result.seq})
            # History is written only after "applied", so it cannot have happened yet.
            self._save_history(result, None)

    def _save_history(self, result: ImageResult, loaded: LoadedImage | None) -> None:
        if self._history is None or result.seq in self.job.state.in_history:
            return
        path = self.options.folder / result.image
        try:
            thumbnail = loaded.image if loaded is not None else _thumbnail_source(path)
            conversation = self._history.start_conversation(path, thumbnail, result.model)
            settings = self.options.settings.to_dict()
            self._history.add_message(
                conversation, "user", self.options.prompt, model=result.model, settings=settings
            )
            self._history.add_message(
                conversation,
                "assistant",
                result.caption,
                model=result.model,
                settings=settings,
                stats=result.stats,
            )
        except HistoryError as exc:
            # Captions matter more than history: warn once and carry on without it.
            self._history = None
            message = f"Captions are no longer saved to the history: {exc}"
            self._warnings.append(message)
            self._emit(BatchEventKind.WARNING, image=result.image, error=message)
            return
        self.job.record({"kind": "history", "seq": result.seq, "conversation": conversation})

    def _checkpoint(self, *, final: bool = False) -> None:
        """Regenerate the reports from the journal (atomically, so never half-written)."""
        self._last_checkpoint = time.monotonic()
        if not self.options.reports.any():
            return
        try:
            written = write_reports(self.options, iter_results(self.job.state, self._order))
        except WriteError as exc:
            if final:
                self._warnings.append(str(exc))
            self._emit(BatchEventKind.WARNING, error=str(exc))
            return
        self._reports = tuple(written)
        self._emit(BatchEventKind.CHECKPOINT, reports=self._reports)

    # -- events -------------------------------------------------------------------------------

    def _emit(self, kind: BatchEventKind, **details: Any) -> None:
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
                **details,
            )
        )

    def _summary(self, cancelled: bool) -> BatchSummary:
        order = set(self._order)
        failures = tuple(
            (r.image, r.error or "")
            for r in iter_results(self.job.state, self._order)
            if r.status is ImageStatus.FAILED and r.image in order
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
        )


def _thumbnail_source(path: Path) -> Any:
    try:
        return load_image(path, draft_pixels=256 * 256).image
    except ImageLoadError:
        return None


__all__ = [
    "BatchControl",
    "BatchEventKind",
    "BatchProgress",
    "BatchRunner",
    "BatchSummary",
    "ProgressCallback",
]
