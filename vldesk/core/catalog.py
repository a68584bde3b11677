"""The catalog of supported Qwen vision-language models, with sizes and family quirks."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

GIB = 1024**3


class Family(str, Enum):
    """A model architecture family; the value is the ``model_type`` in the model's config.json."""

    QWEN2_5_VL = "qwen2_5_vl"
    QWEN3_VL = "qwen3_vl"
    QWEN3_5 = "qwen3_5"


class Precision(str, Enum):
    """Weight precisions the engine can run; the value is the torch dtype name."""

    BFLOAT16 = "bfloat16"
    FLOAT16 = "float16"
    FLOAT32 = "float32"

    @property
    def bytes_per_param(self) -> int:
        return 4 if self is Precision.FLOAT32 else 2


@dataclass(frozen=True)
class FamilyTraits:
    """What differs between families, in one place, so the engine never branches on names."""

    family: Family
    patch_size: int
    spatial_merge_size: int
    #: The chat template takes ``enable_thinking``; vldesk always turns thinking off.
    thinking_template: bool
    quirks: tuple[str, ...]
    #: A follow-up question can continue from the previous answer's key/value cache (it can
    #: be cut back to a shared prefix; linear-attention layers keep a running state instead).
    prefix_cache: bool = True

    @property
    def patch_factor(self) -> int:
        """Pixels per side of one visual token (patch size x spatial merge)."""
        return self.patch_size * self.spatial_merge_size


FAMILY_TRAITS: dict[Family, FamilyTraits] = {
    Family.QWEN2_5_VL: FamilyTraits(
        Family.QWEN2_5_VL,
        patch_size=14,
        spatial_merge_size=2,
        thinking_template=False,
        quirks=(
            "Image sides are multiples of 28 pixels (patch 14, merge 2).",
            "The chat template adds 'You are a helpful assistant.' when no system prompt is given.",
            "Window attention in the vision tower; full attention only in 4 of its blocks.",
        ),
    ),
    Family.QWEN3_VL: FamilyTraits(
        Family.QWEN3_VL,
        patch_size=16,
        spatial_merge_size=2,
        thinking_template=False,
        quirks=(
            "Image sides are multiples of 32 pixels (patch 16, merge 2).",
            "Deepstack: vision features are injected into several early text layers.",
            "Interleaved M-RoPE; the default processor budget is 16.7 MP (16384 image tokens).",
        ),
    ),
    Family.QWEN3_5: FamilyTraits(
        Family.QWEN3_5,
        patch_size=16,
        spatial_merge_size=2,
        thinking_template=True,
        quirks=(
            "Image sides are multiples of 32 pixels (patch 16, merge 2).",
            "Hybrid attention: 3 Gated-DeltaNet (linear) layers for each full-attention layer.",
            "The chat template can open a <think> block; vldesk passes enable_thinking=False and "
            "strips any <think>...</think> from answers.",
            "config.json's eos is <|endoftext|>, the chat turn ends with <|im_end|>: both stop.",
            "The checkpoint carries a multi-token-prediction head that transformers does not use.",
            "On CPU the DeltaNet layers run a pure-torch fallback "
            "(flash-linear-attention is GPU-only).",
        ),
        prefix_cache=False,
    ),
}


@dataclass(frozen=True)
class ModelSpec:
    """One downloadable model."""

    id: str
    family: Family
    display_name: str
    params: int
    download_bytes: int
    #: The ModelScope revision to download. Pinned to a tag or commit where one is known; the
    #: commit actually downloaded is recorded in the model's manifest either way.
    revision: str
    summary: str
    default: bool = False
    vision_params: int | None = None
    extra_quirks: tuple[str, ...] = field(default=())

    @property
    def traits(self) -> FamilyTraits:
        return FAMILY_TRAITS[self.family]

    @property
    def patch_size(self) -> int:
        return self.traits.patch_size

    @property
    def patch_factor(self) -> int:
        return self.traits.patch_factor

    @property
    def quirks(self) -> tuple[str, ...]:
        return self.traits.quirks + self.extra_quirks

    @property
    def folder_name(self) -> str:
        """A filesystem-safe folder name for this model in the models directory."""
        return self.id.replace("/", "--")

    def weights_bytes(self, precision: Precision) -> int:
        return self.params * precision.bytes_per_param

    def memory_needed_bytes(self, precision: Precision) -> int:
        """RAM or VRAM to load and run the model at about 1024 image tokens.

        Weights, plus 15% for buffers and allocator slack, plus a fixed allowance for the
        vision activations and the KV cache of a few thousand tokens.
        """
        return int(self.weights_bytes(precision) * 1.15) + GIB

    def memory_needed(self) -> dict[Precision, int]:
        return {p: self.memory_needed_bytes(p) for p in Precision}


CATALOG: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="Qwen/Qwen3-VL-2B-Instruct",
        family=Family.QWEN3_VL,
        display_name="Qwen3-VL 2B Instruct",
        params=2_127_532_032,
        vision_params=405_000_000,
        download_bytes=4_255_000_000,
        revision="master",
        summary="Small, fast and good at OCR: the default, runs on most laptops.",
        default=True,
    ),
    ModelSpec(
        id="Qwen/Qwen3-VL-4B-Instruct",
        family=Family.QWEN3_VL,
        display_name="Qwen3-VL 4B Instruct",
        params=4_437_815_808,
        download_bytes=8_876_000_000,
        revision="master",
        summary="Noticeably better descriptions and reasoning; wants 16 GB of RAM on CPU.",
    ),
    ModelSpec(
        id="Qwen/Qwen3-VL-8B-Instruct",
        family=Family.QWEN3_VL,
        display_name="Qwen3-VL 8B Instruct",
        params=8_767_123_696,
        download_bytes=17_534_000_000,
        revision="master",
        summary="The most capable; best on a GPU with 24 GB.",
    ),
    ModelSpec(
        id="Qwen/Qwen2.5-VL-3B-Instruct",
        family=Family.QWEN2_5_VL,
        display_name="Qwen2.5-VL 3B Instruct",
        params=3_754_622_976,
        vision_params=668_000_000,
        download_bytes=7_510_000_000,
        revision="master",
        summary="The previous generation, well tested; strong at documents.",
    ),
    ModelSpec(
        id="Qwen/Qwen2.5-VL-7B-Instruct",
        family=Family.QWEN2_5_VL,
        display_name="Qwen2.5-VL 7B Instruct",
        params=8_292_166_656,
        download_bytes=16_584_000_000,
        revision="master",
        summary="The previous generation's large model.",
    ),
    ModelSpec(
        id="Qwen/Qwen3.5-0.8B",
        family=Family.QWEN3_5,
        display_name="Qwen3.5 0.8B",
        params=853_000_000,
        download_bytes=1_750_000_000,
        revision="master",
        summary="Tiny and quick: short captions on modest machines.",
    ),
    ModelSpec(
        id="Qwen/Qwen3.5-2B",
        family=Family.QWEN3_5,
        display_name="Qwen3.5 2B",
        params=2_213_000_000,
        vision_params=330_000_000,
        download_bytes=4_500_000_000,
        revision="master",
        summary="Newest small model with hybrid linear attention.",
    ),
)

_BY_ID = {spec.id.lower(): spec for spec in CATALOG}


def default_model() -> ModelSpec:
    return next(spec for spec in CATALOG if spec.default)


def find_model(model_id: str) -> ModelSpec | None:
    """Look up a catalog entry by id, case-insensitively; ``None`` when it is not in the catalog."""
    return _BY_ID.get(model_id.strip().lower())


def family_of_model_type(model_type: str) -> Family | None:
    """Map a config.json ``model_type`` to a supported family, or ``None``."""
    try:
        return Family(model_type)
    except ValueError:
        return None
