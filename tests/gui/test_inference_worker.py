"""The inference worker thread on its own: typed signals, ordering, cancel, unload, errors."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QObject, QThread, Slot
from pytestqt.qtbot import QtBot

from tests.gui.conftest import EngineStandIn, ManualClock
from vldesk.core.generation import Conversation, GenerationResult, GenerationSettings, StopReason
from vldesk.core.images import LoadedImage
from vldesk.core.inference.engine import LoadRequest, load_engine
from vldesk.core.inference.transformers_engine import TransformersEngine
from vldesk.core.models.catalog import Family
from vldesk.gui.workers.failure import Failure, FailureKind
from vldesk.gui.workers.inference import ModelLoadedInfo
from vldesk.gui.workers.inference_client import InferenceClient
from vldesk.gui.workers.throttle import CHUNK_INTERVAL_S, StreamBatcher

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
    """Receives the client's signals in the GUI thread, as the app's slots do."""

    def __init__(self, worker: InferenceClient) -> None:
        super().__init__()
        self.loaded: list[ModelLoadedInfo] = []
        self.load_failures: list[str] = []
        self.unloaded = 0
        self.chunks: list[tuple[int, str]] = []
        self.token_counts: list[tuple[int, int]] = []
        self.finished: dict[int, GenerationResult] = {}
        self.order: list[int] = []
        self.failures: list[tuple[int, Failure]] = []
        self.wrong_thread = False
        worker.model_loaded.connect(self.on_loaded)
        worker.model_failed.connect(self.on_load_failed)
        worker.model_unloaded.connect(self.on_unloaded)
        worker.text_chunk.connect(self.on_chunk)
        worker.token_count.connect(self.on_token_count)
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

    @Slot(int, int)
    def on_token_count(self, request_id: int, tokens: int) -> None:
        self._check_thread()
        self.token_counts.append((request_id, tokens))

    @Slot(int, object)
    def on_finished(self, request_id: int, result: GenerationResult) -> None:
        self._check_thread()
        self.finished[request_id] = result
        self.order.append(request_id)

    @Slot(int, object)
    def on_failed(self, request_id: int, failure: Failure) -> None:
        self._check_thread()
        self.failures.append((request_id, failure))


ClientFactory = Callable[..., InferenceClient]


@pytest.fixture
def make_client() -> Iterator[ClientFactory]:
    """Start an :class:`InferenceClient` (with the given loader or clock); all are shut down."""
    clients: list[InferenceClient] = []

    def make(**kwargs: Any) -> InferenceClient:
        clients.append(InferenceClient(**kwargs))
        return clients[-1]

    yield make
    for inference in clients:
        inference.shut_down()
        assert not inference.worker_thread.isRunning()


@pytest.fixture
def client(make_client: ClientFactory) -> InferenceClient:
    return make_client()


@pytest.fixture
def recorder(client: InferenceClient) -> Iterator[Recorder]:
    recorder = Recorder(client)
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


def test_requests_run_in_order_and_text_is_gathered_between_clock_ticks(
    qtbot: QtBot, make_client: ClientFactory, tiny_dir: Path
) -> None:
    # A clock that never moves: the interval between chunks never passes, so a whole answer
    # reaches the GUI thread as one chunk, sent when it ends.
    client = make_client(clock=ManualClock())
    recorder = Recorder(client)
    load(qtbot, client, recorder, tiny_dir)
    long = GenerationSettings(**{**SAMPLED.to_dict(), "max_new_tokens": 400, "ignore_eos": True})
    first = client.generate(question(), long)
    second = client.generate(question(), SAMPLED)
    qtbot.waitUntil(lambda: len(recorder.order) == 2, timeout=60_000)
    assert recorder.order == [first, second]
    result = recorder.finished[first]
    assert result.stats.new_tokens == 400
    chunks = [text for rid, text in recorder.chunks if rid == first]
    assert len(chunks) == 1
    assert chunks[0].strip() == result.text
    assert [count for rid, count in recorder.token_counts if rid == first] == [400]
    assert not recorder.wrong_thread


def test_streamed_text_is_sent_once_per_interval_with_the_token_count() -> None:
    clock = ManualClock()
    texts: list[str] = []
    counts: list[int] = []
    stream = StreamBatcher(texts.append, counts.append, clock)
    stream.add_text("A ")
    stream.set_tokens(1)
    stream.add_text("red ")
    stream.set_tokens(2)
    assert (texts, counts) == ([], [])  # within one interval: gathered, nothing sent
    clock.advance(CHUNK_INTERVAL_S)
    stream.add_text("square")
    assert (texts, counts) == (["A red square"], [2])
    # Tokens without text (the streamer waits for a word to end) still move the count on.
    stream.set_tokens(3)
    clock.advance(CHUNK_INTERVAL_S)
    stream.set_tokens(4)
    assert (texts, counts) == (["A red square"], [2, 4])
    stream.add_text(".")
    stream.flush()  # the end of the answer sends what is left at once
    assert (texts, counts) == (["A red square", "."], [2, 4, 4])


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
    assert recorder.failures == [(request_id, Failure.error("No model is loaded yet."))]
    client.load_model(LoadRequest(tmp_path / "nowhere", "nowhere"))
    qtbot.waitUntil(lambda: bool(recorder.load_failures), timeout=10_000)
    assert "does not exist" in recorder.load_failures[0]


def test_running_out_of_memory_is_one_failure_of_its_own_kind(
    qtbot: QtBot, make_client: ClientFactory, tmp_path: Path
) -> None:
    client = make_client(load_engine=lambda request: EngineStandIn(request, answer=None))
    recorder = Recorder(client)
    load(qtbot, client, recorder, tmp_path)
    request_id = client.generate(question(), SAMPLED)
    qtbot.waitUntil(lambda: bool(recorder.failures), timeout=10_000)
    [(failed_id, failure)] = recorder.failures
    assert failed_id == request_id
    assert failure.kind is FailureKind.OUT_OF_MEMORY
    assert "Out of memory" in failure.message
    assert not recorder.finished


def test_switching_models_unloads_the_old_one(
    qtbot: QtBot, make_client: ClientFactory, tiny_model_dirs: dict[Family, Path]
) -> None:
    engines: list[TransformersEngine] = []

    def keep_engines(request: LoadRequest) -> TransformersEngine:
        engine = load_engine(request)
        engines.append(engine)  # read only after the worker's signal about it has arrived
        return engine

    client = make_client(load_engine=keep_engines)
    recorder = Recorder(client)
    load(qtbot, client, recorder, tiny_model_dirs[Family.QWEN3_VL])
    first_weights = weakref.ref(engines[0].model)
    info = load(qtbot, client, recorder, tiny_model_dirs[Family.QWEN2_5_VL])
    assert info.family == "qwen2_5_vl"
    assert engines[0].model is None
    assert first_weights() is None  # nothing holds the old weights: their memory is free
    client.unload_model()
    qtbot.waitUntil(lambda: recorder.unloaded == 1, timeout=10_000)
    assert engines[1].model is None
    request_id = client.generate(question(), SAMPLED)
    qtbot.waitUntil(lambda: bool(recorder.failures), timeout=10_000)
    assert recorder.failures == [(request_id, Failure.error("No model is loaded yet."))]
    assert not recorder.wrong_thread
