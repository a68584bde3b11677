"""Tiny random-weight models of the real Qwen VL architectures, built offline as real downloads."""

from __future__ import annotations

import importlib
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from vldesk.core.catalog import FAMILY_TRAITS, Family

log = logging.getLogger(__name__)

#: The published model whose config.json is kept in ``vldesk/data/configs`` for each family.
REAL_MODEL_NAMES: dict[Family, str] = {
    Family.QWEN2_5_VL: "Qwen2.5-VL-3B-Instruct",
    Family.QWEN3_VL: "Qwen3-VL-2B-Instruct",
    Family.QWEN3_5: "Qwen3.5-2B",
}

# Qwen's added tokens in their real order, so ids keep the real relative layout
# (<|endoftext|> first, <|image_pad|> at +12, <think> at +24). ``True`` marks special tokens;
# the tool, FIM and think tokens are ordinary added tokens in the real tokenizers.
_QWEN2_ADDED_TOKENS: tuple[tuple[str, bool], ...] = (
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
)
# Qwen3 added these four; Qwen2.5-VL's tokenizer stops at <|file_sep|>.
_QWEN3_ADDED_TOKENS = (
    *_QWEN2_ADDED_TOKENS,
    ("<tool_response>", False),
    ("</tool_response>", False),
    ("<think>", False),
    ("</think>", False),
)

_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
_HALF = [0.5, 0.5, 0.5]


@dataclass(frozen=True)
class _FamilyFiles:
    """The non-weight files of a family's real model repository."""

    tokenizer_class: str
    processor_class: str
    added_tokens: tuple[tuple[str, bool], ...]
    model_max_length: int
    #: The contents of preprocessor_config.json, less the patch and merge sizes.
    preprocessor: dict[str, Any]
    #: video_preprocessor_config.json; ``None`` where the real repository has none.
    video_preprocessor: dict[str, Any] | None
    #: ``True``: chat_template.json (legacy, plus a copy in tokenizer_config.json), as in the
    #: Qwen2.5-VL and Qwen3-VL repositories; ``False``: chat_template.jinja, as in Qwen3.5.
    legacy_chat_template: bool
    #: generation_config.json sampling defaults.
    sampling: dict[str, Any]
    #: The tokenizer_class named in tokenizer_config.json, where the hub files name another class
    #: than the one transformers uses (it substitutes its own for these model types).
    hub_tokenizer_class: str | None = None


_FAMILY_FILES: dict[Family, _FamilyFiles] = {
    Family.QWEN2_5_VL: _FamilyFiles(
        tokenizer_class="Qwen2Tokenizer",
        processor_class="Qwen2_5_VLProcessor",
        added_tokens=_QWEN2_ADDED_TOKENS,
        model_max_length=131072,
        preprocessor={
            "min_pixels": 3136,
            "max_pixels": 12845056,
            "image_mean": _CLIP_MEAN,
            "image_std": _CLIP_STD,
            "image_processor_type": "Qwen2VLImageProcessor",
        },
        video_preprocessor=None,
        legacy_chat_template=True,
        sampling={"do_sample": True, "repetition_penalty": 1.05, "temperature": 0.1, "top_k": 1},
    ),
    Family.QWEN3_VL: _FamilyFiles(
        tokenizer_class="Qwen2Tokenizer",
        processor_class="Qwen3VLProcessor",
        added_tokens=_QWEN3_ADDED_TOKENS,
        model_max_length=262144,
        preprocessor={
            "size": {"longest_edge": 16777216, "shortest_edge": 65536},
            "image_mean": _HALF,
            "image_std": _HALF,
            "image_processor_type": "Qwen2VLImageProcessorFast",
        },
        video_preprocessor={
            "size": {"longest_edge": 25165824, "shortest_edge": 4096},
            "image_mean": _HALF,
            "image_std": _HALF,
            "video_processor_type": "Qwen3VLVideoProcessor",
        },
        legacy_chat_template=True,
        sampling={"do_sample": True, "temperature": 0.7, "top_k": 20, "top_p": 0.8},
    ),
    Family.QWEN3_5: _FamilyFiles(
        tokenizer_class="Qwen3_5Tokenizer",
        processor_class="Qwen3VLProcessor",
        added_tokens=_QWEN3_ADDED_TOKENS,
        model_max_length=262144,
        preprocessor={
            "size": {"longest_edge": 16777216, "shortest_edge": 65536},
            "image_mean": _HALF,
            "image_std": _HALF,
            "image_processor_type": "Qwen2VLImageProcessorFast",
        },
        video_preprocessor={
            "size": {"longest_edge": 25165824, "shortest_edge": 4096},
            "image_mean": _HALF,
            "image_std": _HALF,
            "video_processor_type": "Qwen3VLVideoProcessor",
        },
        legacy_chat_template=False,
        sampling={"do_sample": True, "temperature": 0.7, "top_k": 20, "top_p": 0.8},
        # transformers lists qwen3_5 in MODELS_WITH_INCORRECT_HUB_TOKENIZER_CLASS.
        hub_tokenizer_class="Qwen2Tokenizer",
    ),
}

# A little English and Chinese of the kind vldesk prompts and answers contain, so that BPE learns
# merges for common words and the tiny tokenizer encodes typical text in few tokens.
_CORPUS = """\
Describe this image in detail. What is in the picture? Read the text in the image.
The photo shows a cat sitting on a red sofa next to a window. There is a dog in the garden.
A person is standing in front of a building. The sky is blue and the trees are green.
Write a short caption for this image. List the objects you can see, one per line.
This is a screenshot of a document with a table, a chart and some text.
The image contains a street with cars, people walking and shops on both sides.
Answer the question about the image. Is there any text? What colour is the car?
You are a helpful assistant. Please answer in English. Please answer in Chinese.
请详细描述这张图片。图片里有什么？请识别图片中的文字。
这张照片里有一只猫坐在红色的沙发上，旁边是一扇窗户。花园里有一只狗。
一个人站在一栋建筑物前面。天空是蓝色的，树是绿色的。
请为这张图片写一个简短的标题。列出你能看到的物体，每行一个。
这是一张文档的截图，里面有一个表格、一张图表和一些文字。
图片中有一条街道，街上有汽车、行人和商店。请用中文回答。
"""


def chat_template(family: Family) -> str:
    """The family's real chat template, shipped as package data."""
    path = resources.files("vldesk") / "data" / "chat_templates" / f"{family.value}.jinja"
    return path.read_text(encoding="utf-8")


def real_config(family: Family) -> dict[str, Any]:
    """The published config.json of the family's reference model (see :data:`REAL_MODEL_NAMES`)."""
    name = REAL_MODEL_NAMES[family]
    path = resources.files("vldesk") / "data" / "configs" / f"{name}.json"
    config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return config


def tiny_config(family: Family) -> dict[str, Any]:
    """A config.json in the real layout with tiny dimensions and the real structure.

    Token ids are left as in the real config and the vocabulary size is dropped:
    :func:`build_model_folder` fits both to the tokenizer it builds.
    """
    config = real_config(family)
    config.pop("vocab_size", None)
    config.get("text_config", {}).pop("vocab_size", None)
    patch = FAMILY_TRAITS[family].patch_size
    if family is Family.QWEN2_5_VL:
        config.update(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=4,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_window_layers=4,
            # head_dim 16 -> 8 rotary frequencies, split like the real [16, 24, 24] of 64.
            rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
        )
        config["vision_config"].update(
            depth=4,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            out_hidden_size=64,
            patch_size=patch,
            spatial_patch_size=patch,
            # Full attention in every second block, window attention elsewhere (real: 7,15,23,31).
            fullatt_block_indexes=[1, 3],
        )
        return config
    text = config["text_config"]
    text.update(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    vision = config["vision_config"]
    vision.update(
        depth=4,
        hidden_size=32,
        intermediate_size=64,
        num_heads=2,
        out_hidden_size=64,
        num_position_embeddings=64,
        patch_size=patch,
    )
    if family is Family.QWEN3_VL:
        # head_dim 16 -> 8 rotary frequencies, interleaved like the real [24, 20, 20] of 64.
        text.update(head_dim=16)
        text["rope_scaling"] = {**text["rope_scaling"], "mrope_section": [4, 2, 2]}
        # Vision layers whose features are added to the first three text layers (real: 5, 11, 17).
        vision.update(deepstack_visual_indexes=[1, 2, 3])
    else:
        # head_dim 64 with partial rotary 0.25 -> 8 frequencies, like the real [11, 11, 10] of 32.
        text.update(
            head_dim=64,
            layer_types=["linear_attention"] * 3 + ["full_attention"],
            linear_key_head_dim=16,
            linear_value_head_dim=16,
            linear_num_key_heads=2,
            linear_num_value_heads=2,
        )
        text["rope_parameters"] = {**text["rope_parameters"], "mrope_section": [3, 3, 2]}
    return config


def _train_bpe(vocab_size: int, split_regex: str) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A byte-level BPE trained on the embedded corpus with the tokenizer class's pre-tokenizer."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, trainers
    from tokenizers.models import BPE

    bpe = Tokenizer(BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(split_regex), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_CORPUS.splitlines(), trainer)
    model = json.loads(bpe.to_str())["model"]
    return dict(model["vocab"]), [(a, b) for a, b in model["merges"]]


def build_tokenizer(family: Family, *, vocab_size: int = 768) -> Any:
    """The family's real tokenizer class over a small byte-level BPE, with Qwen's added tokens."""
    import transformers
    from tokenizers import AddedToken

    files = _FAMILY_FILES[family]
    tokenizer_class = getattr(transformers, files.tokenizer_class)
    # Qwen2's and Qwen3.5's classes split text with different regexes: train with the class's own.
    split_regex = importlib.import_module(tokenizer_class.__module__).PRETOKENIZE_REGEX
    vocab, merges = _train_bpe(vocab_size, split_regex)
    tokenizer = tokenizer_class(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        model_max_length=files.model_max_length,
        errors="replace",
        clean_up_tokenization_spaces=False,
        split_special_tokens=False,
    )
    # One at a time, so each gets the next id whether or not the class added it already.
    for content, special in files.added_tokens:
        if content not in tokenizer.get_vocab():
            token = AddedToken(content, special=special, normalized=False)
            tokenizer.add_tokens([token], special_tokens=special)
    # The chat turn ends with <|im_end|>: the real tokenizers name it as their eos.
    tokenizer.eos_token = "<|im_end|>"
    start = tokenizer.convert_tokens_to_ids(files.added_tokens[0][0])
    for offset, (content, _) in enumerate(files.added_tokens):
        if tokenizer.convert_tokens_to_ids(content) != start + offset:
            raise RuntimeError(f"{content} did not get the next id after <|endoftext|>")
    return tokenizer


def _token_ids(tokenizer: Any) -> dict[str, int]:
    def tid(token: str) -> int:
        return int(tokenizer.convert_tokens_to_ids(token))

    return {
        "endoftext": tid("<|endoftext|>"),
        "im_end": tid("<|im_end|>"),
        "vision_start_token_id": tid("<|vision_start|>"),
        "vision_end_token_id": tid("<|vision_end|>"),
        "vision_token_id": tid("<|vision_pad|>"),
        "image_token_id": tid("<|image_pad|>"),
        "video_token_id": tid("<|video_pad|>"),
    }


def _rewrite_token_ids(family: Family, config: dict[str, Any], ids: dict[str, int]) -> None:
    """Point the config's token ids at the tokenizer's, keeping each family's real choice of
    fields (Qwen3.5's config eos is <|endoftext|>, the others' <|im_end|>)."""
    for key in ("vision_start_token_id", "vision_end_token_id", "image_token_id", "video_token_id"):
        config[key] = ids[key]
    if family is Family.QWEN2_5_VL:
        config.update(vision_token_id=ids["vision_token_id"], bos_token_id=ids["endoftext"])
        config["eos_token_id"] = ids["im_end"]
    elif family is Family.QWEN3_VL:
        config["text_config"].update(bos_token_id=ids["endoftext"], eos_token_id=ids["im_end"])
    else:
        config["text_config"]["eos_token_id"] = ids["endoftext"]


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_preprocessing_files(family: Family, out_dir: Path) -> Any:
    """Write the tokenizer, processor configs and chat template of ``family`` into ``out_dir``.

    Returns the tokenizer; the model's config must use its token ids (see
    :func:`build_model_folder`).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files = _FAMILY_FILES[family]
    template = chat_template(family)
    tokenizer = build_tokenizer(family)
    tokenizer.save_pretrained(out_dir)
    tokenizer_config_path = out_dir / "tokenizer_config.json"
    tokenizer_config = json.loads(tokenizer_config_path.read_text(encoding="utf-8"))
    if files.hub_tokenizer_class is not None:
        tokenizer_config["tokenizer_class"] = files.hub_tokenizer_class
    if files.legacy_chat_template:
        # The real repositories keep a copy in tokenizer_config.json.
        tokenizer_config["chat_template"] = template
    _write_json(tokenizer_config_path, tokenizer_config)

    sizes = {
        "patch_size": FAMILY_TRAITS[family].patch_size,
        "temporal_patch_size": 2,
        "merge_size": FAMILY_TRAITS[family].spatial_merge_size,
    }
    processor = {"processor_class": files.processor_class}
    _write_json(out_dir / "preprocessor_config.json", {**files.preprocessor, **sizes, **processor})
    if files.video_preprocessor is not None:
        video = {**files.video_preprocessor, **sizes, **processor}
        _write_json(out_dir / "video_preprocessor_config.json", video)
    if files.legacy_chat_template:
        _write_json(out_dir / "chat_template.json", {"chat_template": template})
    else:
        (out_dir / "chat_template.jinja").write_text(template, encoding="utf-8")
    return tokenizer


def build_model_folder(
    family: Family, out_dir: Path, config: Mapping[str, Any], *, seed: int = 0
) -> Path:
    """Write a complete model folder for ``config`` (a config.json in the real layout) with
    random weights.

    The tokenizer is always the small one: the config's token ids are rewritten to match it, and
    its vocabulary size is kept if large enough, so a real config gives a real-size model.
    """
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText, GenerationConfig

    files = _FAMILY_FILES[family]
    tokenizer = write_preprocessing_files(family, out_dir)
    ids = _token_ids(tokenizer)
    config_dict = json.loads(json.dumps(config))  # a deep copy that stays plain JSON
    _rewrite_token_ids(family, config_dict, ids)
    # Round up to a multiple of 128, like the real vocabularies (151936, 248320).
    text_config = config_dict if family is Family.QWEN2_5_VL else config_dict["text_config"]
    given = int(text_config.get("vocab_size") or 0)
    text_config["vocab_size"] = max(given, math.ceil(len(tokenizer) / 128) * 128)

    # Read the real-layout config the way a download is read, so transformers' conversions run.
    _write_json(out_dir / "config.json", config_dict)
    model_config = AutoConfig.from_pretrained(out_dir, local_files_only=True)
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        torch.manual_seed(seed)
        model = AutoModelForImageTextToText.from_config(model_config, dtype=torch.float32)
    model.to(torch.bfloat16)  # the real checkpoints are bfloat16
    model.save_pretrained(out_dir, safe_serialization=True)
    # save_pretrained rewrote config.json in transformers' own layout: put the real one back.
    _write_json(out_dir / "config.json", config_dict)
    GenerationConfig(
        bos_token_id=ids["endoftext"],
        pad_token_id=ids["endoftext"],
        eos_token_id=[ids["im_end"], ids["endoftext"]],
        **files.sampling,
    ).save_pretrained(out_dir)
    log.info("built a %s model with random weights in %s", family.value, out_dir)
    return out_dir


def build_synthetic_model(family: Family, out_dir: Path, *, seed: int = 0) -> Path:
    """Build a tiny random-weight model of ``family`` in ``out_dir`` (about 1 MB, a few seconds).

    The folder looks like a real download and loads with ``AutoModelForImageTextToText`` and
    ``AutoProcessor`` from local files, without ``trust_remote_code``.
    """
    return build_model_folder(family, Path(out_dir), tiny_config(family), seed=seed)
