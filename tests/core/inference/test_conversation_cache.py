"""Follow-up questions continue from the previous answer's key/value cache instead of reading
the image again: same answers (float32), only when the images are the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.core.batch.test_runner import distinct_pictures, lively_model_dir
from vldesk.core.errors import GenerationError
from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.images import LoadedImage
from vldesk.core.inference.transformers_engine import TransformersEngine
from vldesk.core.models.catalog import FAMILY_TRAITS, Family

SETTINGS = GenerationSettings(max_new_tokens=10, max_image_tokens=32)
REUSING = [family for family in Family if FAMILY_TRAITS[family].prefix_cache]


@pytest.fixture(scope="module", params=REUSING, ids=lambda family: family.value)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TransformersEngine]:
    folder = lively_model_dir(tmp_path_factory, request.param)
    engine = TransformersEngine.load(folder, device="cpu", dtype="float32")
    yield engine
    engine.unload()


def _picture() -> LoadedImage:
    return distinct_pictures()[1]


def _image_tokens_end(engine: TransformersEngine, conversation: Conversation) -> int:
    ids = engine.prepare_inputs(conversation, SETTINGS)["input_ids"][0]
    return int((ids == engine.model.config.image_token_id).nonzero()[-1, 0]) + 1


def test_follow_ups_continue_the_cache_and_answer_the_same(engine: TransformersEngine) -> None:
    conversation = Conversation().ask("What is in the picture?", [_picture()])
    first = engine.generate(conversation, SETTINGS)
    assert first.stats.reused_tokens == 0
    for question in ("And the colours?", "Anything in the corner?"):
        conversation = conversation.answered(first.text).ask(question)
        followed = engine.generate(conversation, SETTINGS)
        # Everything up to and including the image is continued, not read again ...
        assert followed.stats.reused_tokens >= _image_tokens_end(engine, conversation)
        assert followed.stats.reused_tokens < followed.stats.prompt_tokens
        # ... and the answer is what reading everything again gives.
        fresh = engine.generate(conversation, SETTINGS, reuse_cache=False)
        assert fresh.stats.reused_tokens == 0
        assert followed.text == fresh.text
        assert followed.stats.new_tokens == fresh.stats.new_tokens
        first = followed


def test_asking_again_reuses_all_but_the_last_prompt_token(engine: TransformersEngine) -> None:
    conversation = Conversation().ask("Describe it.", [_picture()])
    first = engine.generate(conversation, SETTINGS)
    again = engine.generate(conversation, SETTINGS)
    assert again.stats.reused_tokens == again.stats.prompt_tokens - 1
    assert again.text == first.text


def test_another_image_of_the_same_size_is_read_afresh(engine: TransformersEngine) -> None:
    size = (96, 64)
    one = Image.new("RGB", size, (20, 200, 90))
    other = one.copy()
    ImageDraw.Draw(other).rectangle((10, 10, 40, 40), fill=(250, 0, 0))
    question = "What is in the picture?"
    engine.generate(Conversation().ask(question, [LoadedImage(one, "one.png", size)]), SETTINGS)
    conversation = Conversation().ask(question, [LoadedImage(other, "other.png", size)])
    # The prompts are the same token for token (same size, same question): only the pixels differ.
    result = engine.generate(conversation, SETTINGS)
    assert result.stats.reused_tokens == 0
    assert result.text == engine.generate(conversation, SETTINGS, reuse_cache=False).text


def test_a_new_image_in_a_follow_up_is_read(engine: TransformersEngine) -> None:
    pictures = distinct_pictures()
    conversation = Conversation().ask("What is it?", [pictures[0]])
    first = engine.generate(conversation, SETTINGS)
    conversation = conversation.answered(first.text).ask("And this one?", [pictures[2]])
    result = engine.generate(conversation, SETTINGS)
    assert result.stats.reused_tokens == 0
    assert result.text == engine.generate(conversation, SETTINGS, reuse_cache=False).text


def test_a_failed_or_unused_generation_leaves_nothing_stale(
    engine: TransformersEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    conversation = Conversation().ask("What is in the picture?", [_picture()])
    engine.generate(conversation, SETTINGS)
    stopped = threading.Event()
    stopped.set()
    # Cancelled before it started: the kept cache is not used up.
    engine.generate(conversation, SETTINGS, cancel=stopped)
    assert engine.generate(conversation, SETTINGS).stats.reused_tokens > 0

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the kernel fell over")

    monkeypatch.setattr(engine.model, "generate", broken)
    with pytest.raises(GenerationError):
        engine.generate(conversation, SETTINGS)
    monkeypatch.undo()
    # The cache that generation was extending is gone: the next answer reads everything.
    assert engine.generate(conversation, SETTINGS).stats.reused_tokens == 0


def test_bfloat16_follow_ups_continue_too(tmp_path_factory: pytest.TempPathFactory) -> None:
    engine = TransformersEngine.load(
        lively_model_dir(tmp_path_factory, Family.QWEN3_VL), device="cpu", dtype="bfloat16"
    )
    try:
        conversation = Conversation().ask("What is in the picture?", [_picture()])
        first = engine.generate(conversation, SETTINGS)
        conversation = conversation.answered(first.text).ask("And the colours?")
        assert engine.generate(conversation, SETTINGS).stats.reused_tokens > 0
    finally:
        engine.unload()


def test_families_with_linear_attention_never_continue(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Qwen3.5's DeltaNet layers keep a running state that cannot be cut back to a prefix.
    assert not FAMILY_TRAITS[Family.QWEN3_5].prefix_cache
    engine = TransformersEngine.load(
        lively_model_dir(tmp_path_factory, Family.QWEN3_5), device="cpu", dtype="float32"
    )
    try:
        conversation = Conversation().ask("What is in the picture?", [_picture()])
        engine.generate(conversation, SETTINGS)
        assert engine.generate(conversation, SETTINGS).stats.reused_tokens == 0
    finally:
        engine.unload()


def test_unloading_drops_the_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    engine = TransformersEngine.load(
        lively_model_dir(tmp_path_factory, Family.QWEN2_5_VL), device="cpu", dtype="float32"
    )
    engine.generate(Conversation().ask("Hi", [_picture()]), SETTINGS)
    cache = engine._conversation_cache
    assert cache is not None
    assert cache.held_tokens > 0
    engine.unload()
    assert cache.held_tokens == 0


def test_folder_captions_leave_the_chat_cache_alone(
    engine: TransformersEngine, tmp_path: Path
) -> None:
    # Captions are independent questions: a batch (one image at a time here, the path that
    # calls generate) neither continues nor replaces the cache of the conversation on screen.
    from tests.core.batch.test_runner import make_tree, options_for, run_job

    conversation = Conversation().ask("What is in the picture?", [_picture()])
    engine.generate(conversation, SETTINGS)
    cache = engine._conversation_cache
    assert cache is not None
    held = cache.held_tokens
    options = options_for(make_tree(tmp_path / "photos"))
    summary, _, _ = run_job(engine, options, jobs_dir=tmp_path / "jobs", batch_size=1)
    assert summary.captioned > 0
    assert cache.held_tokens == held
    assert engine.generate(conversation, SETTINGS).stats.reused_tokens > 0


def test_a_read_ahead_with_a_stand_in_question_serves_the_real_one(
    engine: TransformersEngine,
) -> None:
    # The app reads the image while the first question is typed (a stand-in question, one
    # token); the real question continues from the image on, with the answer it would get.
    from vldesk.gui.session import READ_AHEAD_QUESTION

    image = distinct_pictures()[2]
    stand_in = Conversation((), "Answer briefly.").ask(READ_AHEAD_QUESTION, [image])
    engine.generate(stand_in, GenerationSettings(max_new_tokens=1, max_image_tokens=32))
    real = Conversation((), "Answer briefly.").ask("Which colours are there?", [image])
    answered = engine.generate(real, SETTINGS)
    assert answered.stats.reused_tokens >= _image_tokens_end(engine, real)
    assert answered.text == engine.generate(real, SETTINGS, reuse_cache=False).text


def test_a_follow_up_uses_the_library_s_current_cache_keyword(
    engine: TransformersEngine, caplog: pytest.LogCaptureFixture, recwarn: pytest.WarningsRecorder
) -> None:
    """transformers 5.25 deprecates ``past_key_values=``: continuing must not warn on any
    supported version (each answer would print the deprecation on the CLI and in the log)."""
    conversation = Conversation().ask("What is in the picture?", [_picture()])
    first = engine.generate(conversation, SETTINGS)
    caplog.set_level("DEBUG", logger="transformers")
    followed = engine.generate(conversation.answered(first.text).ask("And the colours?"), SETTINGS)
    assert followed.stats.reused_tokens > 0
    said = [record.getMessage() for record in caplog.records] + [str(w.message) for w in recwarn]
    assert not [text for text in said if "deprecated" in text], said
