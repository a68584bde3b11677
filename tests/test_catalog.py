"""The model catalog: every entry complete and consistent with its family."""

from __future__ import annotations

import pytest

from vldesk.core.catalog import (
    CATALOG,
    GIB,
    Family,
    Precision,
    default_model,
    family_of_model_type,
    find_model,
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
