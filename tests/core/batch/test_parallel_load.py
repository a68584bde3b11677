"""Loading a job's images in worker processes gives the very bytes the in-thread path gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from vldesk.core.batch import parallel_load
from vldesk.core.batch.parallel_load import ParallelLoader
from vldesk.core.batch.prefetch import PrefetchedImage, load_for_model
from vldesk.core.inference.remote.wire import image_data_url

FACTOR, TOKENS = 32, 64


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A photo turned by EXIF, a PNG with alpha, a greyscale image, CMYK, and a broken file."""
    root = tmp_path / "images"
    root.mkdir()
    photo = Image.new("RGB", (300, 200), (200, 40, 40))
    photo.paste((30, 60, 220), (0, 0, 150, 100))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: the upright image is 200 x 300
    photo.save(root / "turned.jpg", exif=exif.tobytes(), quality=92)
    Image.new("RGBA", (120, 90), (10, 200, 10, 128)).save(root / "logo.png")
    Image.new("L", (64, 200), 77).save(root / "grey.png")
    Image.new("CMYK", (90, 90), (0, 128, 255, 20)).save(root / "print.jpg")
    (root / "broken.png").write_bytes(b"not an image")
    return root


NAMES = ("turned.jpg", "logo.png", "grey.png", "print.jpg", "broken.png")


def in_thread(folder: Path, image: str) -> tuple[object, ...]:
    """What the prefetcher thread and the remote engine make of ``image`` today."""
    item = load_for_model(folder, image, FACTOR, TOKENS)
    if item.loaded is None:
        return (image, item.error)
    loaded = item.loaded
    url = image_data_url(loaded, FACTOR, TOKENS)
    return (image, loaded.image.mode, loaded.image.size, loaded.image.tobytes(), url, loaded.source)


def loaded_by(items: list[PrefetchedImage]) -> list[tuple[object, ...]]:
    shown = []
    for item in items:
        if item.loaded is None:
            shown.append((item.image, item.error))
            continue
        loaded = item.loaded
        url = image_data_url(loaded, FACTOR, TOKENS)  # the one made in the worker
        pixels = loaded.image.tobytes()
        shown.append((item.image, loaded.image.mode, loaded.image.size, pixels, url, loaded.source))
    return shown


def test_worker_processes_give_the_same_bytes_as_the_thread(folder: Path) -> None:
    loader = ParallelLoader(
        folder, factor=FACTOR, max_tokens=TOKENS, workers=2, min_images_for_processes=1
    )
    items = list(loader(NAMES))
    assert loader.used == "processes"
    assert loaded_by(items) == [in_thread(folder, name) for name in NAMES]
    turned = items[0].loaded
    assert turned is not None
    for item in items[:-1]:  # encoded in the worker for this budget, not again when sent
        assert item.loaded is not None
        assert item.loaded.wire is not None
        assert item.loaded.wire[:2] == (FACTOR, TOKENS)
    assert turned.image.width < turned.image.height  # turned upright from 300 x 200
    assert items[-1].loaded is None


def test_a_small_job_uses_threads_with_the_same_result(folder: Path) -> None:
    loader = ParallelLoader(folder, factor=FACTOR, max_tokens=TOKENS, workers=2)
    items = list(loader(NAMES))
    assert loader.used == "threads"
    assert loaded_by(items) == [in_thread(folder, name) for name in NAMES]


def test_threads_take_over_where_processes_cannot_start(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_processes(*args: object, **kwargs: object) -> None:
        raise OSError("no semaphores here")

    monkeypatch.setattr(parallel_load, "ProcessPoolExecutor", no_processes)
    loader = ParallelLoader(
        folder, factor=FACTOR, max_tokens=TOKENS, workers=2, min_images_for_processes=1
    )
    items = list(loader(NAMES * 3))
    assert loader.used == "threads"
    assert [item.image for item in items] == list(NAMES * 3)  # in the order asked


def test_stopping_early_leaves_no_work_running(folder: Path) -> None:
    loader = ParallelLoader(
        folder, factor=FACTOR, max_tokens=TOKENS, workers=2, min_images_for_processes=1
    )
    items = loader(NAMES * 10)
    first = next(items)
    assert first.image == NAMES[0]
    items.close()  # as the prefetcher does when the job is cancelled
