"""Decode and resize a job's images ahead of the model, grouped into batches of similar size."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from vldesk.core.errors import ImageLoadError
from vldesk.core.images import LoadedImage, fit_to_token_budget, load_image
from vldesk.core.messages import Text, core_text

log = logging.getLogger(__name__)

#: Images decoded ahead of the model: this many batches' worth, so sorting has choice.
PREFETCH_BATCHES = 4
#: How often blocked queue operations look at the stop and cancel flags, in seconds.
POLL_S = 0.1


@dataclass
class PrefetchedImage:
    """An image decoded and resized for the model, or the reason it could not be."""

    image: str
    loaded: LoadedImage | None = None
    error: str | None = None

    @property
    def tokens(self) -> int:
        return 0 if self.loaded is None else self.loaded.size[0] * self.loaded.size[1]

    @property
    def aspect(self) -> float:
        return 0.0 if self.loaded is None else self.loaded.size[0] / self.loaded.size[1]


_Entry = list[PrefetchedImage] | BaseException | None
#: Loads a job's images (paths in its folder), yielding each in the order given.
LoadAll = Callable[[Sequence[str]], Generator[PrefetchedImage, None, None]]


class Prefetcher:
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
        load_all: LoadAll | None = None,
    ) -> None:
        """``load_all`` loads the images in order, several at a time (for a server: in
        processes, encoded too); by default they are loaded one by one on this thread."""
        self._load_all = load_all
        self._folder = folder
        self._images = list(images)
        self._factor = factor
        self._max_tokens = max_image_tokens
        #: Read by the thread at each batch; the runner lowers it after running out of memory.
        self.batch_size = batch_size
        self._stop = threading.Event()
        #: Batches, then ``None`` after the last one; an exception stops the runner.
        self._queue: queue.Queue[_Entry] = queue.Queue(maxsize=2)
        self._thread = threading.Thread(target=self._work, name="batch-prefetch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def get(self, cancel: threading.Event) -> list[PrefetchedImage] | None:
        """The next batch; ``None`` when every image was handed out or on cancel."""
        while not cancel.is_set():
            try:
                batch = self._queue.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if batch is None:
                return None
            if isinstance(batch, BaseException):
                raise batch
            return list(batch)
        return None

    def _put(self, value: _Entry) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(value, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        try:
            pool: list[PrefetchedImage] = []
            items = (
                self._load_all(self._images)
                if self._load_all is not None
                else (self._load(image) for image in self._images)
            )
            with contextlib.closing(items):  # stops a parallel loader's workers on any exit
                finished = self._work_through(items, pool)
            if not finished:
                return
            while pool:
                if not self._emit(pool):
                    return
            self._put(None)
        except BaseException as exc:  # hand it to the runner rather than dying silently
            self._put(exc)

    def _work_through(self, items: Iterator[PrefetchedImage], pool: list[PrefetchedImage]) -> bool:
        """Put failures straight through and full batches out of ``pool``; False on stop."""
        for item in items:
            if self._stop.is_set():
                return False
            if item.loaded is None:
                if not self._put([item]):  # failures go straight through
                    return False
                continue
            pool.append(item)
            if len(pool) >= PREFETCH_BATCHES * self.batch_size and not self._emit(pool):
                return False
        return True

    def _emit(self, pool: list[PrefetchedImage]) -> bool:
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

    def _load(self, image: str) -> PrefetchedImage:
        return load_for_model(self._folder, image, self._factor, self._max_tokens)


def load_for_model(folder: Path, image: str, factor: int, max_tokens: int) -> PrefetchedImage:
    """Decode ``image`` (upright), resized to ``max_tokens`` visual tokens; or why not."""
    path = folder / image
    try:
        draft = max_tokens * factor * factor
        loaded = load_image(path, draft_pixels=draft)
        # Resized here, off the model's thread; the engine's own resize is then a no-op.
        resized = fit_to_token_budget(loaded, factor, max_tokens)
    except ImageLoadError as exc:
        return PrefetchedImage(image, error=_capital(exc.reason))
    except MemoryError:
        return PrefetchedImage(
            image, error=core_text("Batch", "Not enough memory to decode this image.")
        )
    except Exception as exc:  # a decoder bug must fail one image, not the whole job
        log.warning("unexpected error loading %s", path, exc_info=True)
        return PrefetchedImage(
            image,
            error=core_text("Batch", "The image could not be read ({reason}).", reason=str(exc)),
        )
    return PrefetchedImage(
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
    english = text.strip()
    english = english[:1].upper() + english[1:]
    english = english if english.endswith((".", "!", "?", ")")) else english + "."
    return text.with_english(english) if isinstance(text, Text) else english


__all__ = ["PREFETCH_BATCHES", "LoadAll", "PrefetchedImage", "Prefetcher", "load_for_model"]
