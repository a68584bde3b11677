"""Models built from the real non-weight files: prompts, token ids and image tokens as released."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.helpers.real_models import reference
from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.images import LoadedImage
from vldesk.core.inference.sampling import Sampling, read_sampling
from vldesk.core.inference.transformers_engine import STOP_TOKENS, TransformersEngine
from vldesk.core.models.catalog import Family

pytestmark = pytest.mark.model

#: The conversation every family renders: a system turn, two images, an answer, a follow-up.
SYSTEM = "Answer briefly."
FIRST_QUESTION = "Compare the two pictures."
ANSWER = "They differ."
FOLLOW_UP = "Which is brighter?"
_TWO_IMAGES = (
    "<|vision_start|><|image_pad|><|vision_end|><|vision_start|><|image_pad|><|vision_end|>"
)
_TURNS = (
    f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"
    f"<|im_start|>user\n{_TWO_IMAGES}{FIRST_QUESTION}<|im_end|>\n"
    f"<|im_start|>assistant\n{ANSWER}<|im_end|>\n"
    f"<|im_start|>user\n{FOLLOW_UP}<|im_end|>\n"
    "<|im_start|>assistant\n"
)
#: What the published chat templates render for it (one <|image_pad|> per image, before the
#: processor expands it); Qwen3.5 with thinking off opens and closes an empty think block.
EXPECTED_PROMPTS = {
    Family.QWEN2_5_VL: _TURNS,
    Family.QWEN3_VL: _TURNS,
    Family.QWEN3_5: _TURNS + "<think>\n\n</think>\n\n",
}
#: Qwen2's published pre-tokenizer split, for an independent tokenizer over vocab.json.
QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
#: Qwen3.5's control tokens and their ids (its vocabulary itself is not at hand).
QWEN3_5_TOKEN_IDS = {
    "<|endoftext|>": 248044,
    "<|im_start|>": 248045,
    "<|im_end|>": 248046,
    "<|vision_start|>": 248053,
    "<|vision_end|>": 248054,
    "<|image_pad|>": 248056,
    "<|video_pad|>": 248057,
    "<think>": 248068,
    "</think>": 248069,
}
#: Visual tokens for an 800x600 image at the processor's own defaults (no vldesk budget).
TOKENS_800_BY_600 = {Family.QWEN2_5_VL: 609, Family.QWEN3_VL: 475, Family.QWEN3_5: 475}
#: The files of a real download besides the weights, as far as the real ones are at hand:
#: tokenizer.json is missing for Qwen2.5-VL and Qwen3-VL (vocab.json and merges.txt with
#: tokenizer_config.json load as the same tokenizer); Qwen3.5's tokenizer is self-built.
DOWNLOAD_FILES = {
    Family.QWEN2_5_VL: {
        "chat_template.json",
        "config.json",
        "generation_config.json",
        "merges.txt",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "model.safetensors.index.json",
        "preprocessor_config.json",
        "tokenizer_config.json",
        "vocab.json",
    },
    Family.QWEN3_VL: {
        "chat_template.json",
        "config.json",
        "generation_config.json",
        "merges.txt",
        "model.safetensors",
        "preprocessor_config.json",
        "tokenizer_config.json",
        "video_preprocessor_config.json",
        "vocab.json",
    },
    Family.QWEN3_5: {
        "chat_template.jinja",
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "preprocessor_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "video_preprocessor_config.json",
    },
}

_engines: dict[Path, TransformersEngine] = {}


@pytest.fixture(params=list(Family), ids=lambda family: family.value)
def real(
    request: pytest.FixtureRequest, tiny_model_dirs: dict[Family, Path]
) -> tuple[Family, Path, Path]:
    """``(family, model folder built from the real files, the real files)``."""
    family: Family = request.param
    return family, tiny_model_dirs[family], reference(family)


def _engine(folder: Path) -> TransformersEngine:
    """One engine per folder for this module (loading measures CPU kernels: a second or two)."""
    if folder not in _engines:
        _engines[folder] = TransformersEngine.load(folder, device="cpu", dtype="float32")
    return _engines[folder]


@pytest.fixture(scope="module", autouse=True)
def _unload_engines() -> Any:
    yield
    for engine in _engines.values():
        engine.unload()
    _engines.clear()


def _picture(size: tuple[int, int], colour: tuple[int, int, int]) -> LoadedImage:
    image = Image.new("RGB", size, colour)
    image.paste(
        (255 - colour[0], 40, 200), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2)
    )
    return LoadedImage(image, f"{size[0]}x{size[1]}.png", size)


def _conversation() -> Conversation:
    pictures = [_picture((800, 600), (200, 30, 30)), _picture((320, 640), (20, 120, 220))]
    return Conversation(system=SYSTEM).ask(FIRST_QUESTION, pictures).answered(ANSWER).ask(FOLLOW_UP)


def _independent_tokenizer(folder: Path) -> Any:
    """The real vocab.json and merges.txt through the ``tokenizers`` library alone, with the
    added tokens in the order of the real tokenizer_config.json: no transformers involved."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import BPE

    tokenizer = Tokenizer(BPE.from_file(str(folder / "vocab.json"), str(folder / "merges.txt")))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    added = json.loads((folder / "tokenizer_config.json").read_text())["added_tokens_decoder"]
    for token_id, token in sorted(added.items(), key=lambda item: int(item[0])):
        tokenizer.add_special_tokens([AddedToken(token["content"], normalized=False)])
        assert tokenizer.token_to_id(token["content"]) == int(token_id)
    return tokenizer


def test_the_folder_is_laid_out_as_a_download_of_the_real_files(
    real: tuple[Family, Path, Path],
) -> None:
    family, folder, files = real
    assert {p.name for p in folder.iterdir()} == DOWNLOAD_FILES[family]
    for source in files.iterdir():
        if source.name in DOWNLOAD_FILES[family] and source.name != "config.json":
            assert (folder / source.name).read_bytes() == source.read_bytes(), source.name
    # The real config.json with the model dimensions shrunk: same structure and token ids.
    config = json.loads((folder / "config.json").read_text())
    published = json.loads((files / "config.json").read_text())
    assert set(config) == set(published)
    for key in ("model_type", "architectures", "image_token_id", "vision_start_token_id"):
        assert config[key] == published[key]


def test_the_prompt_is_what_the_real_template_renders(real: tuple[Family, Path, Path]) -> None:
    family, folder, _ = real
    engine = _engine(folder)
    settings = GenerationSettings()
    inputs = engine.prepare_inputs(_conversation(), settings)
    tokenizer = engine.processor.tokenizer
    text = tokenizer.decode(inputs["input_ids"][0], skip_special_tokens=False)
    # Each image's <|image_pad|> is expanded to its visual tokens (a 2x2 merge of patches).
    counts = [int(grid.prod()) // 4 for grid in inputs["image_grid_thw"]]
    expected = EXPECTED_PROMPTS[family].split("<|image_pad|>")
    assert len(expected) == len(counts) + 1
    rendered = expected[0] + "".join(
        "<|image_pad|>" * count + rest for count, rest in zip(counts, expected[1:], strict=True)
    )
    assert text == rendered


def test_without_a_system_turn_only_qwen2_5_vl_adds_its_default(
    real: tuple[Family, Path, Path],
) -> None:
    family, folder, _ = real
    engine = _engine(folder)
    inputs = engine.prepare_inputs(Conversation().ask("Hi"), GenerationSettings())
    text = engine.processor.tokenizer.decode(inputs["input_ids"][0], skip_special_tokens=False)
    default = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    question = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    if family is Family.QWEN2_5_VL:
        assert text == default + question
    else:
        assert text.startswith(question)


def test_token_ids_are_the_real_ones(real: tuple[Family, Path, Path]) -> None:
    family, folder, files = real
    engine = _engine(folder)
    inputs = engine.prepare_inputs(_conversation(), GenerationSettings())
    ids = [int(i) for i in inputs["input_ids"][0]]
    tokenizer = engine.processor.tokenizer
    if family is Family.QWEN3_5:
        # No real vocabulary: the control tokens, everywhere they appear, have the real ids.
        for token, token_id in QWEN3_5_TOKEN_IDS.items():
            assert tokenizer.convert_tokens_to_ids(token) == token_id
        assert ids[0] == QWEN3_5_TOKEN_IDS["<|im_start|>"]
        assert ids.count(QWEN3_5_TOKEN_IDS["<|im_start|>"]) == 5
        assert ids.count(QWEN3_5_TOKEN_IDS["<|vision_start|>"]) == 2
        assert ids.count(QWEN3_5_TOKEN_IDS["<think>"]) == ids.count(QWEN3_5_TOKEN_IDS["</think>"])
        assert ids.count(QWEN3_5_TOKEN_IDS["</think>"]) == 1
        return
    independent = _independent_tokenizer(files)
    text = tokenizer.decode(ids, skip_special_tokens=False)
    assert ids == independent.encode(text, add_special_tokens=False).ids
    # The turn structure in the ids the released models were trained on.
    assert ids[:3] == [151644, 8948, 198]  # <|im_start|> system \n
    assert ids[-3:] == [151644, 77091, 198]  # <|im_start|> assistant \n


def test_image_token_counts_follow_the_real_preprocessor(real: tuple[Family, Path, Path]) -> None:
    family, folder, files = real
    engine = _engine(folder)
    image_processor = engine.processor.image_processor
    preprocessor = json.loads((files / "preprocessor_config.json").read_text())
    assert image_processor.patch_size == preprocessor["patch_size"]
    assert image_processor.merge_size == preprocessor["merge_size"]
    picture = _picture((800, 600), (90, 90, 90))
    grid = image_processor(images=[picture.image], return_tensors="pt")["image_grid_thw"]
    assert int(grid.prod()) // 4 == TOKENS_800_BY_600[family]
    # Under vldesk's budget (1024 visual tokens) the 800x600 image is read at the same size;
    # a 12-megapixel photo is brought under the budget.
    photo = _picture((4000, 3000), (10, 160, 60))
    for image, expected in ((picture, TOKENS_800_BY_600[family]), (photo, None)):
        inputs = engine.prepare_inputs(Conversation().ask("Hi", [image]), GenerationSettings())
        tokens = int((inputs["input_ids"] == engine.model.config.image_token_id).sum())
        if expected is not None:
            assert tokens == expected
        else:
            assert 900 <= tokens <= 1024


def test_the_real_stop_tokens_and_sampling_are_the_models(real: tuple[Family, Path, Path]) -> None:
    family, folder, files = real
    engine = _engine(folder)
    generation = json.loads((files / "generation_config.json").read_text())
    tokenizer = engine.processor.tokenizer
    assert set(generation["eos_token_id"]) == set(tokenizer.convert_tokens_to_ids(STOP_TOKENS))
    assert engine.recommended_sampling == Sampling.from_generation_config(generation)
    assert read_sampling(folder) == engine.recommended_sampling
    expected_penalty = 1.05 if family is Family.QWEN2_5_VL else 1.0
    assert engine.recommended_sampling.repetition_penalty == expected_penalty
