"""The non-weight files of each family's real repository, for folders built without a copy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vldesk.core.models.catalog import Family

# Qwen's added tokens in their real order from <|endoftext|> (<|image_pad|> at +12, <think> at
# +24). ``True`` marks special tokens; the tool, FIM and think tokens are ordinary added tokens
# in the real tokenizers.
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
    """The non-weight files of a family's real model repository, for when no reference copy
    of them is at hand (the benchmarks on a user's machine)."""

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
    #: The tokenizer_class named in tokenizer_config.json, where the hub files name another class
    #: than the one transformers uses (it substitutes its own for these model types).
    hub_tokenizer_class: str | None = None


_QWEN3_PREPROCESSOR = {
    "size": {"longest_edge": 16777216, "shortest_edge": 65536},
    "image_mean": _HALF,
    "image_std": _HALF,
    "image_processor_type": "Qwen2VLImageProcessorFast",
}


_QWEN3_VIDEO_PREPROCESSOR = {
    "size": {"longest_edge": 25165824, "shortest_edge": 4096},
    "image_mean": _HALF,
    "image_std": _HALF,
    "video_processor_type": "Qwen3VLVideoProcessor",
}


FAMILY_FILES: dict[Family, _FamilyFiles] = {
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
    ),
    Family.QWEN3_VL: _FamilyFiles(
        tokenizer_class="Qwen2Tokenizer",
        processor_class="Qwen3VLProcessor",
        added_tokens=_QWEN3_ADDED_TOKENS,
        model_max_length=262144,
        preprocessor=_QWEN3_PREPROCESSOR,
        video_preprocessor=_QWEN3_VIDEO_PREPROCESSOR,
        legacy_chat_template=True,
    ),
    Family.QWEN3_5: _FamilyFiles(
        tokenizer_class="Qwen3_5Tokenizer",
        processor_class="Qwen3VLProcessor",
        added_tokens=_QWEN3_ADDED_TOKENS,
        model_max_length=262144,
        preprocessor=_QWEN3_PREPROCESSOR,
        video_preprocessor=_QWEN3_VIDEO_PREPROCESSOR,
        legacy_chat_template=False,
        # transformers lists qwen3_5 in MODELS_WITH_INCORRECT_HUB_TOKENIZER_CLASS.
        hub_tokenizer_class="Qwen2Tokenizer",
    ),
}


#: The image processor class a transformers 4.50-4.57 save names, by family.
LEGACY_IMAGE_PROCESSORS: dict[Family, str] = {
    Family.QWEN2_5_VL: "Qwen2_5_VLImageProcessor",
    Family.QWEN3_VL: "Qwen2VLImageProcessorFast",
    Family.QWEN3_5: "Qwen2VLImageProcessorFast",
}
