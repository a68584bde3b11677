"""The catalog of supported Qwen vision-language models, with sizes and family quirks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from importlib import resources
from typing import Any

from vldesk.core.inference.cpu.quantized_weights import WeightFormat
from vldesk.core.inference.sampling import Sampling

GIB = 1024**3
#: What llama.cpp holds beyond a GGUF model's files (model and projector) at about 1,024 image
#: tokens: its measured peaks for Qwen3-VL-2B were 5.13 GB (F16), 3.52 (Q8_0) and 3.47 (Q4_K_M),
#: 0.86-1.54 GB above the files (docs/performance.md, side by side with llama.cpp).
LLAMA_CPP_OVERHEAD_BYTES = GIB + GIB // 2
#: Bytes a quantized weight takes (x86, where decode products run in bfloat16): int8 with one
#: scale a row; int4 two to a byte with a bfloat16 scale and zero point per 32 weights.
QUANTIZED_BYTES_PER_PARAM = {WeightFormat.INT8: 1.0, WeightFormat.INT4: 0.625}


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
class GgufQuant:
    """One quantization of a model's GGUF repository: its file and its size."""

    name: str
    file: str
    #: The size the catalog shows before the listing (downloads check the listing's own).
    size: int


@dataclass(frozen=True)
class GgufRepo:
    """Where a catalog model's GGUF files are: one file per quantization, and the projector."""

    repo: str
    revision: str
    projector: str
    projector_size: int
    quants: tuple[GgufQuant, ...]

    def quant(self, name: str) -> GgufQuant | None:
        return next((q for q in self.quants if q.name.lower() == name.strip().lower()), None)


@dataclass(frozen=True)
class ParameterSplit:
    """Where a model's parameters are, for the weights int8 and int4 hold
    (:func:`vldesk.core.inference.cpu.kernels.install_decode_kernels`): they quantize the text
    decoder's linear layers; the output head becomes int8; the rest keeps its precision."""

    #: The text decoder's linear layers, less the output head.
    text_linear: int
    #: The input embeddings; the output head has their size.
    embeddings: int
    #: The output head shares its weight with the input embeddings.
    tied_head: bool


@dataclass(frozen=True)
class ModelSpec:
    """One downloadable model: a catalog entry, or a repository a user downloaded by its id."""

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
    #: Known for catalog models: what the int8 and int4 memory estimates need.
    split: ParameterSplit | None = None
    extra_quirks: tuple[str, ...] = field(default=())
    #: The published config.json kept in ``vldesk/data/configs``, if it is kept there.
    config_name: str | None = None
    #: The sampling the model's generation_config.json recommends (shown before it is
    #: downloaded; a downloaded model's own file is what answers use).
    sampling: Sampling = field(default_factory=Sampling)
    #: A catalog model's GGUF repository, for the llama.cpp engine.
    gguf: GgufRepo | None = None
    #: A GGUF variant (:func:`gguf_variant`): the quantization and the files it downloads.
    gguf_quant: str = ""
    gguf_files: tuple[str, ...] = ()

    @property
    def is_gguf(self) -> bool:
        """A GGUF variant: llama.cpp runs it; only :attr:`gguf_files` are downloaded."""
        return bool(self.gguf_files)

    @property
    def ref(self) -> str:
        """How the user names it: the id, with ``:QUANT`` for a GGUF variant."""
        return f"{self.id}:{self.gguf_quant}" if self.is_gguf else self.id

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
        """A filesystem-safe folder name for this model in the models directory (a GGUF
        variant's quantization gets a folder of its own)."""
        name = self.id.replace("/", "--")
        return f"{name}--{self.gguf_quant}" if self.is_gguf else name

    def weights_bytes(self, precision: Precision, weights: WeightFormat = WeightFormat.FULL) -> int:
        """The weights as a running model holds them in ``precision`` and ``weights`` (int8 and
        int4 apply on the CPU only).

        Quantized: the text decoder's linear layers at :data:`QUANTIZED_BYTES_PER_PARAM`, the
        output head in int8 (a tied head as a copy of its own), the rest in ``precision``. In
        bfloat16 the input embeddings stay in the mapped file, read a row per token, so they
        take next to no memory. Without a :attr:`split` the estimate is the full weights': more
        than a quantized model needs, never less. Full weights count every parameter (in
        bfloat16 on the CPU an untied model's input embeddings would also stay in the file).
        """
        split = self.split
        if weights is WeightFormat.FULL or split is None:
            return self.params * precision.bytes_per_param
        # The head's own weight, if it has one, becomes int8; in bfloat16 (the file's) the
        # input embeddings stay in the mapped file.
        kept = self.params - split.text_linear - (0 if split.tied_head else split.embeddings)
        if precision is Precision.BFLOAT16:
            kept -= split.embeddings
        quantized = split.text_linear * QUANTIZED_BYTES_PER_PARAM[weights]
        return int(kept * precision.bytes_per_param + quantized + split.embeddings)

    def memory_needed_bytes(
        self, precision: Precision, weights: WeightFormat = WeightFormat.FULL
    ) -> int:
        """RAM or VRAM to load and run the model at about 1024 image tokens, in ``precision``
        with ``weights`` (int8 and int4 apply on the CPU only: a GPU's estimate is full).

        The weights as they are held (:meth:`weights_bytes`), plus
        :func:`running_allowance_bytes`. A float32 model is converted from the download's
        bfloat16 one tensor at a time, so the download is never held beside it (a model outside
        the catalog, whose file type is not known here, counts the download too). Measured peaks
        for the 2B model against these estimates, per precision and weight format, within -0.2
        to +5.9 % (Qwen3.5-0.8B: +2 to +7 %): docs/performance.md, session 8.

        A GGUF variant runs at its file's precision: its files plus 1.5 GiB (llama.cpp's
        measured peaks for the 2B model: 5.13 GB F16, 3.52 Q8_0, 3.47 Q4_K_M, against 5.9, 4.3
        and 3.5 here).
        """
        if self.is_gguf:
            return gguf_memory_needed_bytes(self.download_bytes)
        needed = self.weights_bytes(precision, weights) + running_allowance_bytes(precision)
        if self.split is None and precision is Precision.FLOAT32:
            # Outside the catalog the file may be float16 or float32, which loads as a float32
            # copy beside the file's pages: count them (an upper bound for a bfloat16 file).
            needed += self.weights_bytes(Precision.BFLOAT16)
        return needed

    def memory_needed(self) -> dict[Precision, int]:
        return {p: self.memory_needed_bytes(p) for p in Precision}


def running_allowance_bytes(precision: Precision) -> int:
    """What a model needs beyond its weights at about 1,024 image tokens: 1 GiB for the
    runtime and the KV cache of a few thousand tokens, and 1/8 GiB per byte of precision for
    the activations. Measured on the 2B model: 1.15-1.28 GB above the weights in bfloat16,
    1.54-1.63 GB in float32, against 1.34 and 1.61 here (docs/performance.md, session 8)."""
    return GIB + precision.bytes_per_param * GIB // 8


def gguf_memory_needed_bytes(file_bytes: int) -> int:
    """RAM llama.cpp needs for a GGUF model whose files (model and projector) take
    ``file_bytes``: it runs at the files' own quantization, whatever the precision setting."""
    return file_bytes + LLAMA_CPP_OVERHEAD_BYTES


# ----------------------------------------------------------------------------------------------
# The catalog, read from vldesk/data/catalog.json
# ----------------------------------------------------------------------------------------------

CATALOG_FILE = "catalog.json"
_CATALOG_FORMAT = 1


def _data_file(*parts: str) -> Any:
    return resources.files("vldesk").joinpath("data", *parts)


def _entry_to_spec(entry: Mapping[str, Any]) -> ModelSpec:
    """One catalog.json entry; a missing or mistyped field raises (the file ships with vldesk,
    so a mistake in it must fail the tests, not show up as an odd model)."""
    sampling = entry.get("sampling") or {}
    if not isinstance(sampling, dict):
        raise TypeError("sampling must be an object")
    spec = ModelSpec(
        id=str(entry["id"]),
        family=Family(entry["family"]),
        display_name=str(entry["display_name"]),
        params=int(entry["params"]),
        download_bytes=int(entry["download_bytes"]),
        revision=str(entry["revision"]),
        summary=str(entry["summary"]),
        default=bool(entry.get("default", False)),
        vision_params=int(entry["vision_params"]) if entry.get("vision_params") else None,
        split=_split(entry) if "text_linear_params" in entry else None,
        extra_quirks=tuple(str(q) for q in entry.get("quirks", ())),
        config_name=str(entry["config"]) if entry.get("config") else None,
        sampling=Sampling.from_generation_config(sampling),
        gguf=_gguf_repo(entry["gguf"]) if entry.get("gguf") else None,
    )
    if spec.params <= 0 or spec.download_bytes <= 0 or "/" not in spec.id:
        raise ValueError("needs an owner/name id and positive sizes")
    return spec


def _split(entry: Mapping[str, Any]) -> ParameterSplit:
    split = ParameterSplit(
        int(entry["text_linear_params"]), int(entry["embedding_params"]), entry["tied_head"]
    )
    if not isinstance(split.tied_head, bool) or split.text_linear + split.embeddings <= 0:
        raise ValueError(
            "needs positive text_linear_params and embedding_params, tied_head true or false"
        )
    if split.text_linear + split.embeddings * (1 if split.tied_head else 2) > int(entry["params"]):
        raise ValueError("text_linear_params and embedding_params exceed params")
    return split


def _gguf_repo(entry: Mapping[str, Any]) -> GgufRepo:
    quants = tuple(
        GgufQuant(str(name), str(q["file"]), int(q["size"])) for name, q in entry["quants"].items()
    )
    names = [entry["projector"], *(q.file for q in quants)]
    if not quants or not all(str(n).endswith(".gguf") and "/" not in str(n) for n in names):
        raise ValueError("gguf needs quants and plain *.gguf file names")
    return GgufRepo(
        repo=str(entry["repo"]),
        revision=str(entry.get("revision", "master")),
        projector=str(entry["projector"]),
        projector_size=int(entry["projector_size"]),
        quants=quants,
    )


def load_catalog(text: str) -> tuple[ModelSpec, ...]:
    """Parse catalog.json. Raises ``ValueError`` naming the entry that is wrong."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != _CATALOG_FORMAT:
        raise ValueError(f"{CATALOG_FILE} is not in format {_CATALOG_FORMAT}")
    specs = []
    for index, entry in enumerate(data.get("models") or []):
        try:
            specs.append(_entry_to_spec(entry))
        except (KeyError, TypeError, ValueError) as exc:
            name = entry.get("id", f"#{index}") if isinstance(entry, dict) else f"#{index}"
            raise ValueError(f"{CATALOG_FILE}: entry {name} is invalid ({exc!r})") from None
    ids = [spec.id.lower() for spec in specs]
    if len(set(ids)) != len(ids) or sum(spec.default for spec in specs) != 1:
        raise ValueError(f"{CATALOG_FILE} needs unique ids and exactly one default model")
    return tuple(specs)


CATALOG: tuple[ModelSpec, ...] = load_catalog(_data_file(CATALOG_FILE).read_text(encoding="utf-8"))

_BY_ID = {spec.id.lower(): spec for spec in CATALOG}


def default_model() -> ModelSpec:
    return next(spec for spec in CATALOG if spec.default)


def find_model(model_id: str) -> ModelSpec | None:
    """Look up a catalog entry by id, case-insensitively; ``None`` when it is not in the catalog."""
    return _BY_ID.get(model_id.strip().lower())


def gguf_variant(spec: ModelSpec, quant: str) -> ModelSpec:
    """The GGUF variant of a catalog model at one quantization ("Q4_K_M"): its model file and
    projector from the model's GGUF repository.

    Raises:
        ValueError: the model has no GGUF repository, or not that quantization (said which).
    """
    if spec.gguf is None:
        raise ValueError(f"{spec.id} has no GGUF version in vldesk's catalog.")
    chosen = spec.gguf.quant(quant)
    if chosen is None:
        offered = ", ".join(q.name for q in spec.gguf.quants)
        raise ValueError(f"{spec.gguf.repo} has no {quant} file; it offers {offered}.")
    return replace(
        spec,
        id=spec.gguf.repo,
        display_name=f"{spec.display_name} GGUF {chosen.name}",
        download_bytes=chosen.size + spec.gguf.projector_size,
        revision=spec.gguf.revision,
        summary=f"{spec.display_name} as GGUF {chosen.name}, for the llama.cpp engine.",
        default=False,
        config_name=None,
        gguf=None,
        gguf_quant=chosen.name,
        gguf_files=(chosen.file, spec.gguf.projector),
    )


def gguf_variants(spec: ModelSpec) -> list[ModelSpec]:
    """Every GGUF variant of a catalog model (none without a GGUF repository)."""
    return [gguf_variant(spec, q.name) for q in spec.gguf.quants] if spec.gguf else []


def find_gguf_variant(ref: str) -> ModelSpec | None:
    """A GGUF variant named ``REPO:QUANT`` ("Qwen/Qwen3-VL-2B-Instruct-GGUF:Q4_K_M"), or a
    catalog id with ``:QUANT``; ``None`` when it names none."""
    name, _, quant = ref.strip().rpartition(":")
    if not name or not quant:
        return None
    for spec in CATALOG:
        if spec.gguf is None or name.lower() not in (spec.id.lower(), spec.gguf.repo.lower()):
            continue
        try:
            return gguf_variant(spec, quant)
        except ValueError:
            return None
    return None


def base_of_variant(variant: ModelSpec) -> ModelSpec | None:
    """The catalog model a GGUF variant belongs to."""
    return next(
        (s for s in CATALOG if s.gguf is not None and s.gguf.repo.lower() == variant.id.lower()),
        None,
    )


def published_config(spec: ModelSpec) -> dict[str, Any] | None:
    """The published config.json of a catalog model, when the package keeps it."""
    if spec.config_name is None:
        return None
    config: dict[str, Any] = json.loads(
        _data_file("configs", spec.config_name).read_text(encoding="utf-8")
    )
    return config


def family_of_model_type(model_type: str) -> Family | None:
    """Map a config.json ``model_type`` to a supported family, or ``None``."""
    try:
        return Family(model_type)
    except ValueError:
        return None


# ----------------------------------------------------------------------------------------------
# Any repository of a supported architecture
# ----------------------------------------------------------------------------------------------


class UnsupportedModel(ValueError):
    """A config.json vldesk cannot run; the message says why, in words for the user."""


def check_config(config: Any, what: str) -> Family:
    """The family a config.json declares, if vldesk runs it.

    ``what`` names the model in the message (``"Qwen/X on ModelScope"``, ``"The folder /m"``).
    Only ``model_type`` decides, as it does for transformers' auto classes: the
    ``architectures`` list is informative and a fine-tune may name its own class there.

    Raises:
        UnsupportedModel: the config is not a JSON object, or its model type is not supported.
    """
    if not isinstance(config, Mapping):
        raise UnsupportedModel(
            f"{what}: its config.json cannot be read, so vldesk cannot tell what model it is."
        )
    model_type = str(config.get("model_type") or "")
    family = family_of_model_type(model_type)
    if family is None:
        names = config.get("architectures")
        classes = ", ".join(map(str, names)) if isinstance(names, list) and names else ""
        supported = ", ".join(f.value for f in Family)
        raise UnsupportedModel(
            f"{what} is not a model vldesk can run: its config.json says model type "
            f"'{model_type or 'none'}'" + (f" ({classes})" if classes else "") + "; vldesk runs "
            f"Qwen2.5-VL, Qwen3-VL and Qwen3.5 models ({supported})."
        )
    return family


def _bytes_per_param(config: Mapping[str, Any]) -> int:
    text = config.get("text_config")
    text_config: Mapping[str, Any] = text if isinstance(text, Mapping) else {}
    dtype = config.get("torch_dtype") or config.get("dtype") or text_config.get("dtype")
    return 4 if str(dtype or "") == "float32" else 2


def spec_for_repository(
    model_id: str,
    config: Any,
    *,
    revision: str = "master",
    weights_bytes: int = 0,
    download_bytes: int | None = None,
) -> ModelSpec:
    """A spec for any repository of a supported architecture, from its config.json.

    A catalog id gives its catalog entry. For another id the family comes from ``config``
    (checked with :func:`check_config`) and the parameters from ``weights_bytes``, the size of
    its .safetensors files, at the precision the config names (bfloat16 unless float32).

    Raises:
        UnsupportedModel: the config is unreadable or not a supported architecture.
    """
    known = find_model(model_id)
    if known is not None:
        return known
    name = model_id.strip()
    family = check_config(config, name)
    return ModelSpec(
        id=name,
        family=family,
        display_name=name.rsplit("/", 1)[-1],
        params=weights_bytes // _bytes_per_param(config),
        download_bytes=download_bytes if download_bytes is not None else weights_bytes,
        revision=revision,
        summary="Downloaded from ModelScope by its id.",
    )
