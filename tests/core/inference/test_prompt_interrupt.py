"""Stop interrupts an answer while the model still reads its prompt (between layers), and keeps
the tokens of an answer stopped later."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.core.batch.test_runner import distinct_pictures, lively_model_dir
from tests.core.inference.test_transformers_engine import stop_after
from vldesk.core.generation import Conversation, GenerationSettings, StopReason
from vldesk.core.inference.transformers_engine import TransformersEngine
from vldesk.core.models.catalog import Family

SETTINGS = GenerationSettings(max_new_tokens=8, max_image_tokens=32, ignore_eos=True)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransformersEngine]:
    loaded = TransformersEngine.load(
        lively_model_dir(tmp_path_factory, Family.QWEN3_VL), device="cpu", dtype="float32"
    )
    yield loaded
    loaded.unload()


def _conversation(index: int = 0) -> Conversation:
    return Conversation().ask("What is in the picture?", [distinct_pictures()[index]])


class _Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, _module: Any, _args: Any) -> None:
        self.calls += 1


def test_stop_while_the_image_is_read_ends_before_the_text_decoder(
    engine: TransformersEngine,
) -> None:
    cancel = threading.Event()
    inner = engine.model.model
    # Stop is pressed while the first vision block runs (a hook added after vldesk's own).
    stopper = inner.visual.blocks[0].register_forward_pre_hook(lambda *_: cancel.set())
    decoder = _Counter()
    counted = inner.language_model.layers[0].register_forward_pre_hook(decoder)
    try:
        result = engine.generate(_conversation(), SETTINGS, cancel=cancel)
    finally:
        stopper.remove()
        counted.remove()
    assert result.stop_reason is StopReason.CANCELLED
    assert result.stats.new_tokens == 0
    assert result.text == ""
    assert decoder.calls == 0  # the rest of the vision tower and the decoder never ran
    # The interrupted cache is not kept; the next answer reads everything and runs normally.
    after = engine.generate(_conversation(), SETTINGS)
    assert after.stats.reused_tokens == 0
    assert after.stats.new_tokens == SETTINGS.max_new_tokens
    assert after.stop_reason is StopReason.MAX_TOKENS


def test_stop_during_the_answer_keeps_the_words_so_far(engine: TransformersEngine) -> None:
    cancel = threading.Event()
    on_token = stop_after(3, cancel, [])
    result = engine.generate(_conversation(1), SETTINGS, on_token=on_token, cancel=cancel)
    assert result.stop_reason is StopReason.CANCELLED
    assert 3 <= result.stats.new_tokens < SETTINGS.max_new_tokens
    # The cache of what was answered is kept: asking again continues it.
    again = engine.generate(_conversation(1), SETTINGS)
    assert again.stats.reused_tokens > 0


def test_a_batch_stopped_while_reading_returns_no_captions(engine: TransformersEngine) -> None:
    cancel = threading.Event()
    stopper = engine.model.model.visual.blocks[1].register_forward_pre_hook(lambda *_: cancel.set())
    try:
        results = engine.generate_batch(
            [_conversation(0), _conversation(2)], SETTINGS, cancel=cancel
        )
    finally:
        stopper.remove()
    assert [r.stop_reason for r in results] == [StopReason.CANCELLED] * 2
    assert [r.stats.new_tokens for r in results] == [0, 0]


def test_unloading_removes_the_checks(tmp_path_factory: pytest.TempPathFactory) -> None:
    engine = TransformersEngine.load(
        lively_model_dir(tmp_path_factory, Family.QWEN2_5_VL), device="cpu", dtype="float32"
    )
    model = engine.model
    layers = [model.model.visual.blocks[0], model.model.language_model.layers[0]]
    assert all(layer._forward_pre_hooks for layer in layers)
    engine.unload()
    assert not any(layer._forward_pre_hooks for layer in layers)
