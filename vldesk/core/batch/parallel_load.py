"""Decode, turn upright, resize and encode a job's images in worker processes, so one client
keeps several GPUs busy; threads where a pool of processes would not pay or cannot start."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Generator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from vldesk.core.batch.prefetch import PrefetchedImage, load_for_model
from vldesk.core.images import LoadedImage
from vldesk.core.messages import core_text

log = logging.getLogger(__name__)

#: Fewer images than this are loaded by threads: starting processes costs about a second.
MIN_IMAGES_FOR_PROCESSES = 32
#: At most this many worker processes (each holds a few decoded images at a time).
MAX_WORKERS = 8
#: Images in flight per worker: enough to keep each busy, few enough to bound memory.
AHEAD_PER_WORKER = 2


@dataclass(frozen=True)
class PreparedImage:
    """A loaded image as plain data (it crosses between processes), or why it failed."""

    image: str
    error: str | None = None
    pixels: bytes = b""
    mode: str = "RGB"
    size: tuple[int, int] = (0, 0)
    source: str = ""
    original_size: tuple[int, int] = (0, 0)
    format: str | None = None
    original_mode: str = "RGB"
    frame_count: int = 1
    #: The ``data:`` URL a server gets; empty where not encoded.
    wire_url: str = ""

    def to_prefetched(self, factor: int, max_tokens: int) -> PrefetchedImage:
        if self.error is not None:
            return PrefetchedImage(self.image, error=self.error)
        loaded = LoadedImage(
            Image.frombytes(self.mode, self.size, self.pixels),
            self.source,
            self.original_size,
            self.format,
            self.original_mode,
            self.frame_count,
            wire=(factor, max_tokens, self.wire_url) if self.wire_url else None,
        )
        return PrefetchedImage(self.image, loaded)


def prepare_image(
    folder: str, image: str, factor: int, max_tokens: int, encode: bool
) -> PreparedImage:
    """What the in-thread prefetcher makes of ``image`` (and, with ``encode``, the ``data:``
    URL the remote engine would make of it), as plain data. Runs in a worker process."""
    item = load_for_model(Path(folder), image, factor, max_tokens)
    loaded = item.loaded
    if loaded is None:
        return PreparedImage(
            image, error=item.error or core_text("Batch", "The image could not be read.")
        )
    wire_url = ""
    if encode:
        from vldesk.core.inference.remote.wire import image_data_url

        wire_url = image_data_url(loaded, factor, max_tokens)
    return PreparedImage(
        image,
        pixels=loaded.image.tobytes(),
        mode=loaded.image.mode,
        size=loaded.image.size,
        source=loaded.source,
        original_size=loaded.original_size,
        format=loaded.format,
        original_mode=loaded.original_mode,
        frame_count=loaded.frame_count,
        wire_url=wire_url,
    )


class ParallelLoader:
    """A :data:`~vldesk.core.batch.prefetch.LoadAll` over worker processes (spawned, so safe
    with threads and on every OS), falling back to threads for small jobs, where processes
    cannot start, or when the pool breaks mid-job. Answers come in the order asked."""

    def __init__(
        self,
        folder: Path,
        *,
        factor: int,
        max_tokens: int,
        encode: bool = True,
        workers: int | None = None,
        min_images_for_processes: int = MIN_IMAGES_FOR_PROCESSES,
    ) -> None:
        self._folder = str(folder)
        self._factor = factor
        self._max_tokens = max_tokens
        self._encode = encode
        self._workers = workers or max(1, min(os.cpu_count() or 1, MAX_WORKERS))
        self._min_for_processes = min_images_for_processes
        #: "processes" or "threads": what the latest call ran on (for logs and tests).
        self.used = ""

    def __call__(self, images: Sequence[str]) -> Generator[PrefetchedImage, None, None]:
        executor = self._executor(len(images))
        waiting: deque[tuple[str, Future[PreparedImage]]] = deque()
        pending = iter(images)
        try:
            while True:
                while len(waiting) < self._workers * AHEAD_PER_WORKER:
                    image = next(pending, None)
                    if image is None:
                        break
                    try:
                        waiting.append((image, self._submit(executor, image)))
                    except (BrokenProcessPool, OSError, RuntimeError) as exc:
                        log.warning("image worker processes unavailable (%s): threads", exc)
                        executor.shutdown(wait=False, cancel_futures=True)
                        executor = self._threads()
                        waiting = deque((i, self._submit(executor, i)) for i, _f in waiting)
                        waiting.append((image, self._submit(executor, image)))
                if not waiting:
                    return
                image, future = waiting.popleft()
                try:
                    prepared = future.result()
                except BrokenProcessPool:
                    # A worker died (killed, out of memory): the rest go to threads.
                    log.warning("the image worker processes stopped; loading with threads")
                    executor.shutdown(wait=False, cancel_futures=True)
                    executor = self._threads()
                    waiting = deque((i, self._submit(executor, i)) for i, _f in waiting)
                    prepared = self._submit(executor, image).result()
                except Exception as exc:  # e.g. a worker could not send it back: this image fails
                    log.warning("loading %s failed in a worker", image, exc_info=True)
                    reason = core_text(
                        "Batch", "The image could not be read ({reason}).", reason=str(exc)
                    )
                    prepared = PreparedImage(image, error=reason)
                yield prepared.to_prefetched(self._factor, self._max_tokens)
        finally:
            executor.shutdown(wait=False, cancel_futures=True)

    def _submit(self, executor: Executor, image: str) -> Future[PreparedImage]:
        return executor.submit(
            prepare_image, self._folder, image, self._factor, self._max_tokens, self._encode
        )

    def _executor(self, count: int) -> Executor:
        if count < self._min_for_processes or self._workers < 2:
            return self._threads()
        if getattr(sys, "frozen", False):
            # An app bundle's executable would start the app again as a worker.
            return self._threads()
        try:
            executor = ProcessPoolExecutor(
                self._workers, mp_context=multiprocessing.get_context("spawn")
            )
        except (OSError, ValueError, NotImplementedError, ImportError) as exc:
            log.info("no worker processes (%s); loading images with threads", exc)
            return self._threads()
        self.used = "processes"
        log.info("preparing %d images in %d worker processes", count, self._workers)
        return executor

    def _threads(self) -> Executor:
        self.used = "threads"
        return ThreadPoolExecutor(self._workers, thread_name_prefix="vldesk-load")
