"""The llama.cpp engine against the transformers engine on the same tiny random-weight models.

Needs llama-cpp-python and gguf (the ``peer`` extra; CI does not install them, so these tests
are skipped there) and llama.cpp's converter, which vldesk.bench.llama_cpp fetches once from the
package registry (``VLDESK_GGUF_CONVERTER`` names an already fetched one). Both engines run in
float32 (GGUF F32 on llama.cpp): greedy answers then agree token for token.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from vldesk.core.errors import GenerationError
from vldesk.core.generation import Conversation, GenerationSettings, StopReason
from vldesk.core.images import LoadedImage, budget_size, image_token_count
from vldesk.core.inference.engine import Engine, LoadRequest, load_engine
from vldesk.core.inference.llamacpp.engine import LlamaCppEngine, as_engine
from vldesk.core.inference.transformers_engine import TransformersEngine
from vldesk.core.models.catalog import FAMILY_TRAITS, Family

llama_cpp = pytest.importorskip(
    "llama_cpp", reason="llama-cpp-python is not installed (pip install 'vldesk[peer]')"
)
pytest.importorskip("gguf", reason="gguf is not installed (pip install 'vldesk[peer]')")

pytestmark = pytest.mark.model

#: Greedy tokens compared between the engines. Both run float32 on the same weights; they differ
#: only in summation order (llama.cpp's kernels against oneDNN's), about 1e-6 relative, far
#: below the logit gaps of these models, so every token of the answer agrees.
COMPARED_TOKENS = 16
#: A penalty makes the random models' answers change token to token instead of repeating one.
GREEDY = GenerationSettings(
    max_new_tokens=COMPARED_TOKENS, ignore_eos=True, max_image_tokens=64, repetition_penalty=1.5
)


def picture(width: int = 200, height: int = 130) -> LoadedImage:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((20, 40, 220), (0, 0, width // 2, height // 2))
    image.paste((240, 240, 20), (width // 2, height // 3, width, height))
    return LoadedImage(image, "test.png", (width, height))


def _converter(root: Path) -> Path:
    from vldesk.bench.llama_cpp import converter_dir

    named = os.environ.get("VLDESK_GGUF_CONVERTER")
    if named:
        return Path(named)
    return converter_dir(root, str(llama_cpp.__version__), lambda _text: None)


def _convert_f32(converter: Path, model_dir: Path, out: Path, *, projector: bool) -> None:
    """llama.cpp's converter as vldesk.bench.llama_cpp runs it, writing float32."""
    from vldesk.bench.llama_cpp import _CONVERT

    command = [sys.executable, "-c", _CONVERT, str(converter), str(model_dir)]
    command += ["--outtype", "f32", "--outfile", str(out), *(["--mmproj"] if projector else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def gguf_dirs(
    tiny_model_dirs: dict[Family, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[Family, Path]:
    """Each tiny model converted to GGUF F32 plus its projector, beside its tokenizer files."""
    root = tmp_path_factory.mktemp("gguf")
    converter = _converter(root)
    folders = {}
    for family, source in tiny_model_dirs.items():
        folder = root / family.value
        folder.mkdir()
        for file in source.iterdir():
            if not file.name.endswith(".safetensors") and file.name != "config.json":
                (folder / file.name).write_bytes(file.read_bytes())
        _convert_f32(converter, source, folder / "model-F32.gguf", projector=False)
        _convert_f32(converter, source, folder / "mmproj-F32.gguf", projector=True)
        folders[family] = folder
    return folders


@pytest.fixture(scope="module", params=list(Family), ids=lambda family: family.value)
def pair(
    request: pytest.FixtureRequest,
    gguf_dirs: dict[Family, Path],
    tiny_model_dirs: dict[Family, Path],
) -> Iterator[tuple[LlamaCppEngine, TransformersEngine]]:
    family: Family = request.param
    engine = load_engine(LoadRequest(gguf_dirs[family], f"gguf-{family.value}"))
    assert isinstance(engine, LlamaCppEngine)
    reference = TransformersEngine.load(tiny_model_dirs[family], device="cpu", dtype="float32")
    yield engine, reference
    engine.unload()
    reference.unload()


@pytest.fixture
def engine(pair: tuple[LlamaCppEngine, TransformersEngine]) -> LlamaCppEngine:
    return pair[0]


QUESTIONS = {
    "text": Conversation(system="Be brief.").ask("What is shown? Say <|im_end|> if unsure."),
    "image": Conversation().ask("Describe the picture.", [picture()]),
    "two images": Conversation().ask("Which is brighter?", [picture(), picture(90, 300)]),
}


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_the_prompt_token_ids_are_the_transformers_ones(
    pair: tuple[LlamaCppEngine, TransformersEngine], question: str
) -> None:
    engine, reference = pair
    conversation = QUESTIONS[question]
    expected = reference.prepare_inputs(conversation, GREEDY)["input_ids"][0].tolist()
    assert engine.prompt_token_ids(conversation, GREEDY) == expected


def test_a_users_turn_end_stays_text(pair: tuple[LlamaCppEngine, TransformersEngine]) -> None:
    engine, reference = pair
    tokenizer = reference.processor.tokenizer
    turn_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    plain = Conversation().ask("a b")
    typed = Conversation().ask("a <|im_end|> b")
    # The typed one adds its characters' ordinary tokens, never another turn end.
    assert engine.prompt_token_ids(typed).count(turn_end) == (
        engine.prompt_token_ids(plain).count(turn_end)
    )
    # Read on its own, as transformers' sanitizing reads a marked token.
    text_ids = tokenizer.encode("<|im_end|>", add_special_tokens=False, split_special_tokens=True)
    assert turn_end not in text_ids
    ids = engine.prompt_token_ids(typed)
    assert any(ids[i : i + len(text_ids)] == text_ids for i in range(len(ids)))


@pytest.mark.parametrize(
    ("size", "budget"), [((640, 480), 16), ((640, 480), 64), ((640, 480), 256), ((40, 30), 64)]
)
def test_the_image_token_count_matches_for_the_same_budget(
    pair: tuple[LlamaCppEngine, TransformersEngine], size: tuple[int, int], budget: int
) -> None:
    engine, reference = pair
    settings = GenerationSettings(max_new_tokens=1, ignore_eos=True, max_image_tokens=budget)
    image = picture(*size)  # 40x30: vldesk's 4-token minimum, under llama.cpp's own 8
    conversation = Conversation().ask("What is it?", [image])
    ours = engine.generate(conversation, settings).stats.image_tokens
    theirs = reference.generate(conversation, settings, reuse_cache=False).stats.image_tokens
    factor = FAMILY_TRAITS[engine.family].patch_factor
    assert ours == theirs == image_token_count(budget_size(image.size, factor, budget), factor)


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_greedy_answers_are_the_transformers_tokens(
    pair: tuple[LlamaCppEngine, TransformersEngine], question: str
) -> None:
    engine, reference = pair
    conversation = QUESTIONS[question]
    streamed: list[str] = []
    ours = engine.generate(conversation, GREEDY, on_text=streamed.append)
    theirs = reference.generate(conversation, GREEDY, reuse_cache=False)
    tokens = ours.extra["token_ids"]
    assert len(tokens) == theirs.stats.new_tokens == COMPARED_TOKENS
    decoded = reference.processor.tokenizer.decode(tokens, skip_special_tokens=True)
    assert decoded.strip() == ours.text == theirs.text
    assert "".join(streamed).strip() == ours.text
    assert ours.stats.prompt_tokens == theirs.stats.prompt_tokens
    assert ours.stats.image_tokens == theirs.stats.image_tokens


@contextmanager
def model_says(engine: LlamaCppEngine, script: Sequence[int]) -> Iterator[None]:
    """llama.cpp's logits replaced at the edge: each step's highest one is the script's next."""
    import numpy as np

    steps = iter(script)
    original: Callable[[], Any] = engine._logits

    def scripted() -> Any:
        logits = np.array(original(), dtype=np.float32)
        logits[next(steps)] = logits.max() + 10.0
        return logits

    engine._logits = scripted  # type: ignore[method-assign]
    try:
        yield
    finally:
        del engine._logits


def words(engine: LlamaCppEngine, text: str) -> list[int]:
    return engine._tokenize(text, special=False)


@pytest.mark.parametrize("stop_token", ["<|im_end|>", "<|endoftext|>"])
def test_the_turn_end_and_the_document_end_both_end_the_answer(
    engine: LlamaCppEngine, stop_token: str
) -> None:
    said = words(engine, "red and blue")
    stop = engine._tokenize(stop_token, special=True)
    streamed: list[str] = []
    settings = GenerationSettings(max_new_tokens=len(said) + 5, max_image_tokens=16)
    with model_says(engine, [*said, *stop]):
        result = engine.generate(
            Conversation().ask("Hi", [picture()]), settings, on_text=streamed.append
        )
    assert result.stop_reason is StopReason.END_OF_TEXT
    assert result.stats.new_tokens == len(said) + 1
    assert result.text == "red and blue"
    assert "".join(streamed).strip() == "red and blue"


def test_thinking_blocks_are_stripped(engine: LlamaCppEngine) -> None:
    if not engine._thinking:
        pytest.skip(f"{engine.family.value} has no thinking template")
    said = engine._tokenize("<think>\nlet me see\n</think>\n\nred", special=True)
    stop = engine._tokenize("<|im_end|>", special=True)
    streamed: list[str] = []
    with model_says(engine, [*said, *stop]):
        result = engine.generate(
            Conversation().ask("Hi"), GenerationSettings(max_new_tokens=40), on_text=streamed.append
        )
    assert result.text == "red"
    assert "".join(streamed).strip() == "red"


def test_cancel_stops_within_a_token(engine: LlamaCppEngine) -> None:
    cancel = threading.Event()
    counts: list[int] = []

    def on_token(count: int) -> None:
        counts.append(count)
        if count == 3:
            cancel.set()

    settings = GenerationSettings(max_new_tokens=200, ignore_eos=True, max_image_tokens=16)
    result = engine.generate(
        Conversation().ask("Hi", [picture()]), settings, on_token=on_token, cancel=cancel
    )
    assert result.stop_reason is StopReason.CANCELLED
    assert result.stats.new_tokens == 3
    assert counts == [1, 2, 3]


def test_cancelled_before_it_starts_answers_nothing(engine: LlamaCppEngine) -> None:
    cancel = threading.Event()
    cancel.set()
    result = engine.generate(Conversation().ask("Hi"), GREEDY, cancel=cancel)
    assert result.stop_reason is StopReason.CANCELLED
    assert result.stats.new_tokens == 0
    assert result.text == ""


def test_statistics_placement_and_figures(engine: LlamaCppEngine) -> None:
    result = engine.generate(QUESTIONS["image"], GREEDY)
    stats = result.stats
    assert stats.new_tokens == COMPARED_TOKENS
    assert stats.image_tokens > 0
    assert stats.prompt_tokens > stats.image_tokens
    assert 0 < stats.time_to_first_token_s <= stats.total_s
    assert stats.decode_tokens_per_s > 0
    assert stats.sampling["greedy"] is True
    placement = engine.placement
    assert (placement.backend, placement.device, placement.weights) == ("llama.cpp", "cpu", "F32")
    assert engine.capabilities.max_batch == 1
    assert engine.capabilities.continues_conversation == continues(engine)
    assert engine.figures()["projector_file"] == "mmproj-F32.gguf"
    assert isinstance(as_engine(engine), Engine)


def test_a_batch_is_answered_one_by_one_with_the_same_answers(engine: LlamaCppEngine) -> None:
    questions = [QUESTIONS["text"], QUESTIONS["image"]]
    batch = engine.generate_batch(questions, GREEDY)
    alone = [engine.generate(question, GREEDY) for question in questions]
    assert [r.extra["token_ids"] for r in batch] == [r.extra["token_ids"] for r in alone]


def test_an_unloaded_engine_answers_no_more(gguf_dirs: dict[Family, Path]) -> None:
    engine = LlamaCppEngine.load(gguf_dirs[Family.QWEN2_5_VL])
    engine.unload()
    with pytest.raises(GenerationError, match="unloaded"):
        engine.generate(Conversation().ask("Hi"))


def test_llama_cpp_s_own_files_pass_the_store_check(gguf_dirs: dict[Family, Path]) -> None:
    """The folder check reads what llama.cpp's converter writes: family, size, projector."""
    from vldesk.core.models.folder_check import validate_model_folder

    for family, folder in gguf_dirs.items():
        check = validate_model_folder(folder)
        assert check.ok, check.reason
        assert (check.family, check.format, check.quants) == (family, "gguf", ("F32",))
        model = folder / "model-F32.gguf"
        whole = model.read_bytes()
        model.write_bytes(whole[:-4096])
        try:
            assert "model-F32.gguf is incomplete" in validate_model_folder(folder).reason
        finally:
            model.write_bytes(whole)


def test_a_downloaded_gguf_variant_is_chosen_loaded_and_answers(
    gguf_dirs: dict[Family, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ModelScope (the local replay server) -> the download manager -> the engine rule ->
    llama.cpp, with llama.cpp's own files under the catalog's names."""
    from tests.helpers.fake_modelscope import FakeModelScope
    from tests.helpers.netguard import no_network
    from vldesk.core.inference.cpu.capabilities import CpuCapabilities
    from vldesk.core.inference.engine_choice import choose_engine
    from vldesk.core.models.catalog import find_model, gguf_variant
    from vldesk.core.models.downloads import download_model
    from vldesk.core.models.store import ModelStore

    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms-cache"))
    monkeypatch.setenv("MODELSCOPE_HOME", str(tmp_path / "ms-home"))
    base = find_model("Qwen/Qwen3-VL-2B-Instruct")
    assert base is not None
    variant = gguf_variant(base, "F16")
    source = gguf_dirs[Family.QWEN3_VL]
    model_name, projector_name = variant.gguf_files
    files = {
        model_name: (source / "model-F32.gguf").read_bytes(),
        projector_name: (source / "mmproj-F32.gguf").read_bytes(),
        "README.md": b"GGUF\n",
    }
    store = ModelStore(tmp_path / "models")
    with no_network(monkeypatch) as attempts, FakeModelScope() as hub:
        hub.add_repo(variant.id, files)
        download_model(variant, store, endpoint=hub.endpoint)
    assert attempts == []
    choice = choose_engine(
        store, base.id, caps=CpuCapabilities.at_level("avx2"), llama_available=True, gpu=False
    )
    assert (choice.engine, choice.name) == ("llama.cpp", variant.ref)
    engine = load_engine(LoadRequest(choice.folder, choice.name))
    try:
        assert engine.placement.backend == "llama.cpp"
        result = engine.generate(QUESTIONS["image"], GREEDY)
        assert len(result.extra["token_ids"]) == COMPARED_TOKENS
    finally:
        engine.unload()


# ---------------------------------------------------------------------------------------------
# Follow-ups continue what llama.cpp's memory holds.


@contextmanager
def counting_reads(
    engine: LlamaCppEngine, after_image: Callable[[], None] = lambda: None
) -> Iterator[dict[str, int]]:
    """Counts what llama.cpp reads (text tokens and images) at the engine's two read calls."""
    counts = {"tokens": 0, "images": 0}
    read_text, read_image = engine._eval_text, engine._eval_image

    def eval_text(tokens: list[int], held: Any) -> None:
        counts["tokens"] += len(tokens)
        read_text(tokens, held)

    def eval_image(chunk: Any, key: Any, held: Any) -> None:
        counts["images"] += 1
        read_image(chunk, key, held)
        after_image()

    engine._eval_text = eval_text  # type: ignore[method-assign]
    engine._eval_image = eval_image  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        del engine._eval_text, engine._eval_image


def parted(first: Sequence[int], second: Sequence[int]) -> int:
    """The first index where two token lists differ."""
    return next(
        (i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b), len(first)
    )


def continues(engine: LlamaCppEngine) -> bool:
    """Whether the family's memory can be cut back to a prefix (not linear-attention layers)."""
    return FAMILY_TRAITS[engine.family].prefix_cache


def follow_up(engine: LlamaCppEngine, settings: GenerationSettings = GREEDY) -> Conversation:
    """A question about a picture, answered afresh, and a second question after the answer."""
    first = Conversation().ask("Describe the picture.", [picture()])
    answer = engine.generate(first, settings, reuse_cache=False)
    return first.answered(answer.text).ask("And the colours?")


def test_follow_ups_answer_the_same_tokens_as_reading_afresh(engine: LlamaCppEngine) -> None:
    def converse(reuse: bool) -> list[Any]:
        conversation = Conversation(system="Be brief.")
        results = []
        for question, images in (("Describe it.", [picture()]), ("Colours?", []), ("Why?", [])):
            conversation = conversation.ask(question, images)
            result = engine.generate(conversation, GREEDY, reuse_cache=reuse)
            results.append(result)
            conversation = conversation.answered(result.text)
        return results

    afresh = converse(reuse=False)
    continued = converse(reuse=True)
    assert [r.extra["token_ids"] for r in continued] == [r.extra["token_ids"] for r in afresh]
    assert [r.text for r in continued] == [r.text for r in afresh]
    assert all(r.stats.reused_tokens == 0 for r in afresh)
    for result in continued[1:]:
        if continues(engine):
            assert result.stats.reused_tokens > result.stats.image_tokens
        else:
            assert result.stats.reused_tokens == 0


def test_a_follow_up_reads_only_what_is_new(engine: LlamaCppEngine) -> None:
    if not continues(engine):
        pytest.skip(f"{engine.family.value}'s linear-attention state cannot be cut back")
    conversation = follow_up(engine)
    with counting_reads(engine) as counts:
        result = engine.generate(conversation, GREEDY)
    stats = result.stats
    assert counts["images"] == 0
    read = stats.prompt_tokens - stats.reused_tokens
    # The prompt's new tokens, and the answer's but its last (picked, never read).
    assert counts["tokens"] == read + COMPARED_TOKENS - 1
    with counting_reads(engine) as afresh:
        again = engine.generate(conversation, GREEDY, reuse_cache=False)
    assert afresh == {
        "tokens": stats.prompt_tokens - stats.image_tokens + COMPARED_TOKENS - 1,
        "images": 1,
    }
    assert read < (stats.prompt_tokens - stats.image_tokens) // 2
    assert again.extra["token_ids"] == result.extra["token_ids"]


@pytest.mark.parametrize("change", ["image budget", "image", "earlier turn"])
def test_a_changed_prompt_is_read_from_where_it_parts(engine: LlamaCppEngine, change: str) -> None:
    if not continues(engine):
        pytest.skip(f"{engine.family.value}'s linear-attention state cannot be cut back")
    conversation = follow_up(engine)
    engine.generate(conversation, GREEDY)  # memory holds this prompt and its answer
    held = engine.prompt_token_ids(conversation, GREEDY)
    settings = GREEDY
    if change == "image budget":
        settings = replace(GREEDY, max_image_tokens=16)
    elif change == "image":
        first, *rest = conversation.turns
        changed = replace(first, images=(picture(120, 200),))
        conversation = Conversation((changed, *rest), conversation.system)
    else:
        first, *rest = conversation.turns
        conversation = Conversation((replace(first, text="Describe it."), *rest))
    with counting_reads(engine) as counts:
        result = engine.generate(conversation, settings)
    expected = engine.generate(conversation, settings, reuse_cache=False)
    assert result.extra["token_ids"] == expected.extra["token_ids"]
    ids = engine.prompt_token_ids(conversation, settings)
    if change == "earlier turn":
        assert result.stats.reused_tokens == parted(held, ids)
    else:
        assert result.stats.reused_tokens == ids.index(engine._image_pad)
    # The image is read again where it changed; an edited question after it keeps it.
    assert counts["images"] == (0 if change == "earlier turn" else 1)
    assert counts["tokens"] + counts["images"] * result.stats.image_tokens == (
        result.stats.prompt_tokens - result.stats.reused_tokens + COMPARED_TOKENS - 1
    )


def test_a_question_cancelled_while_read_leaves_the_next_answer_right(
    engine: LlamaCppEngine,
) -> None:
    cancel = threading.Event()
    image = picture(150, 110)  # one no earlier answer left in memory
    question = Conversation().ask("Describe the picture.", [image])
    with counting_reads(engine, after_image=cancel.set) as counts:
        cancelled = engine.generate(question, GREEDY, cancel=cancel)
    assert cancelled.stop_reason is StopReason.CANCELLED
    assert (cancelled.stats.new_tokens, counts["images"]) == (0, 1)
    # Memory holds the prompt up to the image; a new question about it continues from there.
    other = Conversation().ask("What colours are there?", [image])
    result = engine.generate(other, GREEDY)
    ids = engine.prompt_token_ids(other, GREEDY)
    assert result.stats.reused_tokens == ids.index(engine._image_pad) + result.stats.image_tokens
    expected = engine.generate(other, GREEDY, reuse_cache=False)
    assert result.extra["token_ids"] == expected.extra["token_ids"]
    assert result.stop_reason is StopReason.MAX_TOKENS


def test_after_a_failed_answer_the_next_reads_afresh(engine: LlamaCppEngine) -> None:
    conversation = follow_up(engine)
    with pytest.raises(GenerationError, match="reads at most"):
        engine.generate(Conversation().ask("Describe the picture. " + "a " * 17_000))
    result = engine.generate(conversation, GREEDY)
    assert result.stats.reused_tokens == 0
    assert (
        result.extra["token_ids"]
        == (engine.generate(conversation, GREEDY, reuse_cache=False).extra["token_ids"])
    )


def test_the_context_starts_small_and_grows_for_a_prompt_that_does_not_fit(
    gguf_dirs: dict[Family, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """llama.cpp allocates its whole key/value memory up front: it starts at START_CONTEXT and
    grows (the model opened again) only for a prompt and answer that need more."""
    from vldesk.core.inference.llamacpp import engine as engine_module

    folder = gguf_dirs[Family.QWEN3_VL]
    roomy = LlamaCppEngine.load(folder)
    monkeypatch.setattr(engine_module, "START_CONTEXT", 256)  # llama.cpp's smallest
    small = LlamaCppEngine.load(folder)
    try:
        assert small.figures()["context"] == 256
        short = Conversation().ask("Hi?")
        assert small.generate(short, GREEDY).stats.new_tokens == COMPARED_TOKENS
        assert small.figures()["context"] == 256  # it fitted
        question = Conversation().ask("Describe the picture.", [picture(640, 480)])
        settings = replace(GREEDY, max_image_tokens=256)
        expected = roomy.generate(question, settings)
        answer = small.generate(question, settings)
        assert 256 < answer.stats.prompt_tokens + COMPARED_TOKENS < 512
        assert small.figures()["context"] == 512  # doubled until it fits
        assert answer.extra["token_ids"] == expected.extra["token_ids"]
    finally:
        small.unload()
        roomy.unload()


def test_a_context_that_cannot_grow_fails_that_question_and_keeps_the_model(
    gguf_dirs: dict[Family, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vldesk.core.errors import ModelLoadError
    from vldesk.core.inference.llamacpp import engine as engine_module

    opened = engine_module._open

    def no_room(folder: Any, context: int, threads: int) -> tuple[Any, Any]:
        if context > 256:
            raise ModelLoadError("failed to allocate the key/value memory")
        return opened(folder, context, threads)

    monkeypatch.setattr(engine_module, "START_CONTEXT", 256)
    small = LlamaCppEngine.load(gguf_dirs[Family.QWEN3_VL])
    try:
        monkeypatch.setattr(engine_module, "_open", no_room)
        big = Conversation().ask("Describe the picture.", [picture(640, 480)])
        with pytest.raises(GenerationError, match="needs a 512-token context"):
            small.generate(big, replace(GREEDY, max_image_tokens=256))
        assert small.figures()["context"] == 256
        answer = small.generate(Conversation().ask("Hi?"), GREEDY)  # still loaded
        assert answer.stats.new_tokens == COMPARED_TOKENS
    finally:
        small.unload()


def test_an_answer_ends_at_the_end_of_the_context(
    gguf_dirs: dict[Family, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the largest context an answer that would not fit stops there (as at its token limit)
    instead of llama.cpp failing mid-answer."""
    from vldesk.core.inference.llamacpp import engine as engine_module

    monkeypatch.setattr(engine_module, "START_CONTEXT", 256)
    monkeypatch.setattr(engine_module, "MAX_CONTEXT", 256)
    small = LlamaCppEngine.load(gguf_dirs[Family.QWEN3_VL])
    try:
        answer = small.generate(Conversation().ask("Hi?"), replace(GREEDY, max_new_tokens=1000))
        assert answer.stop_reason is StopReason.MAX_TOKENS
        assert answer.stats.prompt_tokens + answer.stats.new_tokens <= 256
        assert answer.stats.new_tokens > 200
    finally:
        small.unload()
