"""The model catalog: data that agrees with each model's config, and any supported repository."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.real_models import REAL_MODELS
from vldesk.core.inference.cpu.quantized_weights import WeightFormat, quantizable
from vldesk.core.inference.sampling import Sampling
from vldesk.core.models.catalog import (
    CATALOG,
    CATALOG_FILE,
    GIB,
    Family,
    ModelSpec,
    ParameterSplit,
    Precision,
    UnsupportedModel,
    check_config,
    default_model,
    family_of_model_type,
    find_model,
    load_catalog,
    published_config,
    running_allowance_bytes,
    spec_for_repository,
)

EXPECTED_IDS = {
    "Qwen/Qwen3-VL-2B-Instruct",
    "Qwen/Qwen3-VL-4B-Instruct",
    "Qwen/Qwen3-VL-8B-Instruct",
    "Qwen/Qwen2.5-VL-3B-Instruct",
    "Qwen/Qwen2.5-VL-7B-Instruct",
    "Qwen/Qwen3.5-0.8B",
    "Qwen/Qwen3.5-2B",
}


def test_catalog_has_the_supported_models_and_one_default() -> None:
    assert {spec.id for spec in CATALOG} == EXPECTED_IDS
    assert default_model().id == "Qwen/Qwen3-VL-2B-Instruct"
    assert sum(spec.default for spec in CATALOG) == 1


@pytest.mark.parametrize("spec", CATALOG, ids=lambda s: s.id)
def test_entry_is_complete(spec) -> None:  # type: ignore[no-untyped-def]
    assert spec.params > 0.5e9
    # bf16 download is about two bytes a parameter.
    assert 1.6 < spec.download_bytes / spec.params < 2.3
    assert spec.revision
    assert spec.quirks
    assert "/" not in spec.folder_name
    needed = spec.memory_needed()
    assert set(needed) == set(Precision)
    assert (
        needed[Precision.FLOAT32]
        > needed[Precision.BFLOAT16]
        > spec.weights_bytes(Precision.BFLOAT16)
    )
    assert needed[Precision.BFLOAT16] < spec.weights_bytes(Precision.BFLOAT16) * 1.3 + 2 * GIB
    for precision in (Precision.BFLOAT16, Precision.FLOAT32):
        full, int8, int4 = (spec.memory_needed_bytes(precision, fmt) for fmt in WeightFormat)
        assert full > int8 > int4 > spec.weights_bytes(Precision.BFLOAT16) // 4


def test_quantized_weights_are_estimated_from_where_the_parameters_are() -> None:
    """int8 and int4 hold the text decoder's linear layers in 1 and 0.625 bytes a weight and
    the output head in int8; the rest keeps its precision, except that bfloat16 input
    embeddings stay in the mapped file."""
    tied = replace(default_model(), params=1_000, split=ParameterSplit(600, 100, tied_head=True))
    f32, bf16, full = Precision.FLOAT32, Precision.BFLOAT16, WeightFormat.FULL
    assert tied.weights_bytes(f32, full) == 4_000
    assert tied.weights_bytes(f32, WeightFormat.INT8) == 400 * 4 + 600 + 100
    assert tied.weights_bytes(f32, WeightFormat.INT4) == 400 * 4 + 375 + 100
    assert tied.weights_bytes(bf16, WeightFormat.INT8) == 300 * 2 + 600 + 100
    f32_allowance = running_allowance_bytes(f32)
    assert tied.memory_needed_bytes(f32, WeightFormat.INT4) == 400 * 4 + 375 + 100 + f32_allowance
    # An untied head is replaced by its int8 copy rather than added to.
    untied = replace(tied, params=1_100, split=ParameterSplit(600, 100, tied_head=False))
    assert untied.weights_bytes(f32, WeightFormat.INT8) == 400 * 4 + 600 + 100
    assert untied.weights_bytes(bf16, WeightFormat.INT4) == 300 * 2 + 375 + 100
    # Without the split (a repository downloaded by its id) quantized is estimated as full.
    unknown = replace(tied, split=None)
    assert unknown.memory_needed_bytes(f32, WeightFormat.INT4) == unknown.memory_needed_bytes(f32)
    # A float32 model is converted from the bfloat16 download tensor by tensor: no copy beside.
    assert tied.memory_needed_bytes(f32) == 4_000 + f32_allowance
    # Outside the catalog the file may be float16 or float32, loaded as a copy beside it.
    assert unknown.memory_needed_bytes(f32) == 4_000 + 2_000 + f32_allowance
    assert unknown.memory_needed_bytes(bf16) == 2_000 + running_allowance_bytes(bf16)
    # The activations take twice the bytes in float32.
    assert running_allowance_bytes(bf16) == GIB + GIB // 4
    assert f32_allowance == GIB + GIB // 2


def test_patch_factors_match_the_families() -> None:
    factors = {spec.family: (spec.patch_size, spec.patch_factor) for spec in CATALOG}
    assert factors == {
        Family.QWEN2_5_VL: (14, 28),
        Family.QWEN3_VL: (16, 32),
        Family.QWEN3_5: (16, 32),
    }


def test_lookup() -> None:
    assert find_model(" qwen/qwen3.5-2b ") is find_model("Qwen/Qwen3.5-2B")
    assert find_model("Qwen/Qwen9") is None
    assert family_of_model_type("qwen3_5") is Family.QWEN3_5
    assert family_of_model_type("llava") is None


# -- the catalog is data -------------------------------------------------------------------------

SHIPPED = (resources.files("vldesk") / "data" / CATALOG_FILE).read_text(encoding="utf-8")


def _config(spec: ModelSpec) -> dict[str, Any]:
    """The model's config.json: the real one where ../shared/real-models has it (the package's
    copy must then agree), else the published one the package keeps."""
    real = REAL_MODELS / spec.folder_name / "config.json"
    kept = published_config(spec)
    if real.is_file():
        config: dict[str, Any] = json.loads(real.read_text(encoding="utf-8"))
        if kept is not None:
            ignored = {"transformers_version"}
            assert {k: v for k, v in kept.items() if k not in ignored} == {
                k: v for k, v in config.items() if k not in ignored
            }
        return config
    if kept is None:
        pytest.skip(f"{spec.id} keeps no config in the package and {real} is absent")
    return kept


def _counted(config: dict[str, Any]) -> tuple[int, int, int, ParameterSplit]:
    """(all parameters, the vision tower's, the multi-token-prediction layers', where the
    weight formats see them) that transformers builds from ``config`` (on the meta device: no
    memory, no weights)."""
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText

    with torch.device("meta"):
        model = AutoModelForImageTextToText.from_config(AutoConfig.for_model(**config))
    total = sum(p.numel() for p in model.parameters())
    vision = sum(p.numel() for n, p in model.named_parameters() if "visual." in n)
    head, embeddings = model.get_output_embeddings(), model.get_input_embeddings()
    # What install_decode_kernels quantizes (decoder_linears, on the meta device here): every
    # catalog layer takes int4 as well as int8.
    linears = [
        module
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
        and "visual" not in name.split(".")
        and module is not head
    ]
    assert all(quantizable(layer, WeightFormat.INT4) for layer in linears)
    split = ParameterSplit(
        sum(layer.weight.numel() for layer in linears),
        embeddings.weight.numel(),
        head.weight is embeddings.weight,
    )
    text = config.get("text_config", config)
    mtp = 0
    if text.get("mtp_num_hidden_layers"):
        # Qwen3.5 checkpoints also carry a full-attention layer, a 2h -> h projection and three
        # norms for multi-token prediction, which transformers does not build.
        kinds = text["layer_types"]
        layer = model.model.language_model.layers[kinds.index("full_attention")]
        hidden = text["hidden_size"]
        per_layer = sum(p.numel() for p in layer.parameters())
        mtp = text["mtp_num_hidden_layers"] * per_layer + 2 * hidden * hidden + 3 * hidden
    return total, vision, mtp, split


@pytest.mark.model
@pytest.mark.parametrize("spec", CATALOG, ids=lambda s: s.id)
def test_every_entrys_figures_agree_with_its_config(spec: ModelSpec) -> None:
    config = _config(spec)
    assert check_config(config, spec.id) is spec.family
    vision_config = config["vision_config"]
    assert vision_config["patch_size"] == spec.patch_size
    assert vision_config["spatial_merge_size"] == spec.traits.spatial_merge_size
    params, vision, mtp, split = _counted(config)
    assert spec.params == params
    assert spec.vision_params == vision
    assert spec.split == split
    # The download is the bfloat16 weights, to within the rounding of the figure.
    assert spec.download_bytes == pytest.approx(2 * (params + mtp), rel=0.005)


def _generation_config(spec: ModelSpec) -> Path:
    return REAL_MODELS / spec.folder_name / "generation_config.json"


@pytest.mark.parametrize(
    "spec", [s for s in CATALOG if _generation_config(s).is_file()], ids=lambda s: s.id
)
def test_every_entrys_sampling_is_its_generation_config(spec: ModelSpec) -> None:
    real = _generation_config(spec)
    generation = json.loads(real.read_text(encoding="utf-8"))
    assert spec.sampling == Sampling.from_generation_config(generation)


def test_the_published_sampling_differs_between_families() -> None:
    penalties = {spec.family: spec.sampling.repetition_penalty for spec in CATALOG}
    assert penalties == {Family.QWEN2_5_VL: 1.05, Family.QWEN3_VL: 1.0, Family.QWEN3_5: 1.0}


def test_adding_a_model_of_a_supported_architecture_is_one_entry() -> None:
    data = json.loads(SHIPPED)
    data["models"].append(
        {
            "id": "Qwen/Qwen3-VL-32B-Instruct",
            "family": "qwen3_vl",
            "display_name": "Qwen3-VL 32B Instruct",
            "summary": "Big.",
            "revision": "master",
            "params": 33_000_000_000,
            "download_bytes": 66_000_000_000,
            "config": None,
            "sampling": {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.0},
        }
    )
    specs = load_catalog(json.dumps(data))
    added = specs[-1]
    assert added.family is Family.QWEN3_VL
    assert added.patch_factor == 32
    assert added.folder_name == "Qwen--Qwen3-VL-32B-Instruct"
    assert added.memory_needed_bytes(Precision.BFLOAT16) > 66_000_000_000
    assert added.split is None  # quantized weights are then estimated as full ones
    assert added.sampling.repetition_penalty == 1.0
    assert specs[: len(CATALOG)] == CATALOG


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"family": "llava"}, "entry Qwen/Qwen3-VL-2B-Instruct is invalid"),
        ({"params": "many"}, "entry Qwen/Qwen3-VL-2B-Instruct is invalid"),
        ({"download_bytes": 0}, "entry Qwen/Qwen3-VL-2B-Instruct is invalid"),
        ({"tied_head": "yes"}, "entry Qwen/Qwen3-VL-2B-Instruct is invalid"),
        ({"text_linear_params": 2_000_000_000}, "entry Qwen/Qwen3-VL-2B-Instruct is invalid"),
        ({"default": False}, "exactly one default"),
        ({"id": "Qwen/Qwen3-VL-4B-Instruct"}, "unique ids"),
    ],
)
def test_a_mistake_in_the_data_fails_loudly(change: dict[str, Any], message: str) -> None:
    data = json.loads(SHIPPED)
    data["models"][0].update(change)
    with pytest.raises(ValueError, match=re.escape(message)):
        load_catalog(json.dumps(data))


# -- any repository of a supported architecture ---------------------------------------------------


def test_check_config_names_the_family_or_says_why_not() -> None:
    assert check_config({"model_type": "qwen3_5"}, "x") is Family.QWEN3_5
    with pytest.raises(UnsupportedModel) as error:
        check_config(
            {"model_type": "qwen3_vl_moe", "architectures": ["Qwen3VLMoeForConditionalGeneration"]},
            "Qwen/Qwen3-VL-30B-A3B-Instruct on ModelScope",
        )
    assert str(error.value) == (
        "Qwen/Qwen3-VL-30B-A3B-Instruct on ModelScope is not a model vldesk can run: its "
        "config.json says model type 'qwen3_vl_moe' (Qwen3VLMoeForConditionalGeneration); "
        "vldesk runs Qwen2.5-VL, Qwen3-VL and Qwen3.5 models (qwen2_5_vl, qwen3_vl, qwen3_5)."
    )
    with pytest.raises(UnsupportedModel, match=r"config\.json cannot be read"):
        check_config(["not", "an", "object"], "x")


def test_a_repository_outside_the_catalog_gets_a_spec_from_its_config() -> None:
    config = {"model_type": "qwen3_vl", "text_config": {"dtype": "bfloat16"}}
    spec = spec_for_repository(
        "someone/My-Qwen3-VL", config, revision="v1", weights_bytes=8_000, download_bytes=9_000
    )
    assert (spec.id, spec.family, spec.revision) == ("someone/My-Qwen3-VL", Family.QWEN3_VL, "v1")
    assert (spec.params, spec.download_bytes) == (4_000, 9_000)
    assert spec.folder_name == "someone--My-Qwen3-VL"
    assert spec_for_repository(" qwen/qwen3.5-2b ", {}) is find_model("Qwen/Qwen3.5-2B")
    float32 = spec_for_repository(
        "a/b", {"model_type": "qwen3_5", "torch_dtype": "float32"}, weights_bytes=8_000
    )
    assert float32.params == 2_000
    with pytest.raises(UnsupportedModel, match="model type 'llava'"):
        spec_for_repository("a/b", {"model_type": "llava"}, weights_bytes=8)
