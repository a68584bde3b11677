"""The inference worker thread on its own: typed signals, ordering, cancel, unload, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QObject, QThread, Slot
from pytestqt.qtbot import QtBot

from vldesk.core.catalog import Family
from vldesk.core.generation import Conversation, GenerationResult, GenerationSettings, StopReason
from vldesk.core.images import LoadedImage
from vldesk.gui.workers.inference import (
    InferenceClient,
    InferenceWorker,
    LoadRequest,
    ModelLoadedInfo,
)

# Seeded: sampled answers of random weights are arbitrary token soup; an unseeded run once (in
# ~15 full-suite runs) failed test_each_family_loads_and_streams[qwen3_5] in a way that could not
# be reproduced in 7 further runs (see the closing note of session 2).
SAMPLED = GenerationSettings(
    max_new_tokens=40,
    greedy=False,
    temperature=1.0,
    top_p=1.0,
    top_k=0,
    max_image_tokens=64,
    seed=11,
)


class Recorder(QObject):
    """Receives the worker's signals in the GUI thread, as the app's slots do."""

    def __init__(self, worker: InferenceWorker) -> None:
        super().__init__()
        self.loaded: list[ModelLoadedInfo] = []
        self.load_failures: list[str] = []
        self.unloaded = 0
        self.chunks: list[tuple[int, str]] = []
        self.finished: dict[int, GenerationResult] = {}
        self.order: list[int] = []
        self.failures: list[tuple[int, str]] = []
        self.wrong_thread = False
        worker.model_loaded.connect(self.on_loaded)
        worker.model_failed.connect(self.on_load_failed)
        worker.model_unloaded.connect(self.on_unloaded)
        worker.text_chunk.connect(self.on_chunk)
        worker.finished.connect(self.on_finished)
        worker.failed.connect(self.on_failed)

    def _check_thread(self) -> None:
        self.wrong_thread |= QThread.currentThread() is not self.thread()

    @Slot(object)
    def on_loaded(self, info: ModelLoadedInfo) -> None:
        self._check_thread()
        self.loaded.append(info)

    @Slot(str)
    def on_load_failed(self, message: str) -> None:
        self._check_thread()
        self.load_failures.append(message)

    @Slot()
    def on_unloaded(self) -> None:
        self._check_thread()
        self.unloaded += 1

    @Slot(int, str)
    def on_chunk(self, request_id: int, text: str) -> None:
        self._check_thread()
        self.chunks.append((request_id, text))

    @Slot(int, object)
    def on_finished(self, request_id: int, result: GenerationResult) -> None:
        self._check_thread()
        self.finished[request_id] = result
        self.order.append(request_id)

    @Slot(int, str)
    def on_failed(self, request_id: int, message: str) -> None:
        self._check_thread()
        self.failures.append((request_id, message))


@pytest.fixture
def client() -> Iterator[InferenceClient]:
    inference = InferenceClient()
    yield inference
    inference.shut_down()
    assert not inference.worker_thread.isRunning()


@pytest.fixture
def recorder(client: InferenceClient) -> Iterator[Recorder]:
    recorder = Recorder(client.worker)
    yield recorder
    assert not recorder.wrong_thread, "a worker signal was delivered outside the GUI thread"


def question() -> Conversation:
    image = Image.new("RGB", (96, 64), (200, 30, 30))
    return Conversation().ask("Describe this image.", [LoadedImage(image, "x.png", (96, 64))])


def load(
    qtbot: QtBot, client: InferenceClient, recorder: Recorder, folder: Path
) -> ModelLoadedInfo:
    count = len(recorder.loaded)
    client.load_model(LoadRequest(folder, folder.name, "cpu"))
    qtbot.waitUntil(lambda: len(recorder.loaded) > count, timeout=60_000)
    return recorder.loaded[-1]


def test_each_family_loads_and_streams(
    qtbot: QtBot, client: InferenceClient, recorder: Recorder, tiny_model: tuple[Family, Path]
) -> None:
    family, folder = tiny_model
    info = load(qtbot, client, recorder, folder)
    assert info.family == family.value
    assert info.device == "cpu"
    assert info.dtype in ("float32", "bfloat16")  # bfloat16 where the CPU runs it fast
    request_id = client.generate(question(), SAMPLED)
    qtbot.waitUntil(lambda: request_id in recorder.finished, timeout=60_000)
    result = recorder.finished[request_id]
    assert result.stats.new_tokens <= 40
    assert {r for r, _ in recorder.chunks} <= {request_id}
    assert "".join(text for _, text in recorder.chunks).strip() == result.text


def test_chunks_are_batched_and_requests_run_in_order(
    qtbot: QtBot, client: InferenceClient, recorder: Recorder, tiny_dir: Path
) -> None:
    load(qtbot, client, recorder, tiny_dir)
    long = GenerationSettings(**{**SAMPLED.to_dict(), "max_new_tokens": 400, "ignore_eos": True})
    first = client.generate(question(), long)
    second = client.generate(question(), SAMPLED)
    qtbot.waitUntil(lambda: len(recorder.order) == 2, timeout=60_000)
    assert recorder.order == [first, second]
    assert recorder.finished[first].stats.new_tokens == 400
    # 400 tokens arrive in far fewer chunks: the GUI thread is not flooded.
    chunks = [rid for rid, _text in recorder.chunks if rid == first]
    assert 0 < len(chunks) < 400 / 3


def test_cancel_stops_at_once_and_queued_requests_are_skipped(
    qtbot: QtBot, client: InferenceClient, recorder: Recorder, tiny_dir: Path
) -> None:
    load(qtbot, client, recorder, tiny_dir)
    endless = GenerationSettings(
        **{**SAMPLED.to_dict(), "max_new_tokens": 100_000, "ignore_eos": True}
    )
    running = client.generate(question(), endless)
    qtbot.waitUntil(lambda: bool(recorder.chunks), timeout=30_000)
    queued = client.generate(question(), endless)
    client.cancel(queued)
    client.cancel(running)  # set directly from this thread: no queued slot to wait for
    qtbot.waitUntil(lambda: len(recorder.finished) == 2, timeout=10_000)
    assert recorder.finished[running].stop_reason is StopReason.CANCELLED
    assert recorder.finished[queued].stop_reason is StopReason.CANCELLED
    assert recorder.finished[queued].stats.new_tokens == 0


def test_errors_cross_as_messages(
    qtbot: QtBot, client: InferenceClient, recorder: Recorder, tmp_path: Path
) -> None:
    request_id = client.generate(question(), SAMPLED)
    qtbot.waitUntil(lambda: bool(recorder.failures), timeout=10_000)
    assert recorder.failures == [(request_id, "No model is loaded yet.")]
    client.load_model(LoadRequest(tmp_path / "nowhere", "nowhere"))
    qtbot.waitUntil(lambda: bool(recorder.load_failures), timeout=10_000)
    assert "does not exist" in recorder.load_failures[0]


def test_switching_models_unloads_the_old_one(
    qtbot: QtBot,
    client: InferenceClient,
    recorder: Recorder,
    tiny_model_dirs: dict[Family, Path],
) -> None:
    load(qtbot, client, recorder, tiny_model_dirs[Family.QWEN3_VL])
    first = client.worker._engine
    assert first is not None
    info = load(qtbot, client, recorder, tiny_model_dirs[Family.QWEN2_5_VL])
    assert info.family == "qwen2_5_vl"
    assert first.model is None  # unloaded: its weights were released
    client.unload_model()
    qtbot.waitUntil(lambda: recorder.unloaded == 1, timeout=10_000)
    client.generate(question(), SAMPLED)
    qtbot.waitUntil(lambda: bool(recorder.failures), timeout=10_000)
