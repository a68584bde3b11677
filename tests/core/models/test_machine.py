"""Memory figures and the "fits this machine?" hint."""

from __future__ import annotations

import sys

import pytest

from vldesk.core.inference.cpu.quantized_weights import WeightFormat
from vldesk.core.models.catalog import (
    GIB,
    LLAMA_CPP_OVERHEAD_BYTES,
    Precision,
    find_model,
    gguf_variant,
)
from vldesk.core.models.machine import Fit, available_memory_bytes, fit_hint, total_memory_bytes

SMALL = find_model("Qwen/Qwen3.5-0.8B")
LARGE = find_model("Qwen/Qwen3-VL-8B-Instruct")


def test_this_machine_reports_its_memory() -> None:
    total = total_memory_bytes()
    assert total is not None
    assert total > GIB
    if sys.platform.startswith("linux"):
        available = available_memory_bytes()
        assert available is not None
        assert 0 < available <= total


@pytest.mark.parametrize(
    ("ram", "vram", "fit", "words"),
    [
        (32 * GIB, None, Fit.FITS, "Fits: needs ~5.0 GB (float32)"),
        (5 * GIB, None, Fit.TIGHT, "Tight:"),
        (4 * GIB, None, Fit.TOO_BIG, "Too big:"),
        (4 * GIB, 24 * GIB, Fit.FITS, "GPU memory"),
        (None, None, Fit.UNKNOWN, "unknown"),
    ],
)
def test_fit_hint_for_the_small_model(
    ram: int | None, vram: int | None, fit: Fit, words: str
) -> None:
    assert SMALL is not None
    hint = fit_hint(SMALL, ram, vram)
    assert hint.fit is fit
    assert words in hint.text


def test_bf16_cpu_halves_the_need() -> None:
    assert LARGE is not None
    assert fit_hint(LARGE, 32 * GIB).fit is Fit.TOO_BIG
    assert fit_hint(LARGE, 32 * GIB, cpu_precision=Precision.BFLOAT16).fit is Fit.FITS


def test_the_cpu_estimate_takes_the_weight_format_and_a_gpu_keeps_full_weights() -> None:
    assert LARGE is not None
    for precision in (Precision.FLOAT32, Precision.BFLOAT16):
        for fmt in WeightFormat:
            hint = fit_hint(LARGE, 24 * GIB, cpu_precision=precision, cpu_weights=fmt)
            assert hint.need_bytes == LARGE.memory_needed_bytes(precision, fmt)
            shown = (
                precision.value if fmt is WeightFormat.FULL else f"{precision.value}, {fmt.value}"
            )
            assert f"({shown}) of" in hint.text
    # The 8B model in float32: too big for 24 GiB with full weights, fits with int4.
    assert fit_hint(LARGE, 24 * GIB).fit is Fit.TOO_BIG
    assert fit_hint(LARGE, 24 * GIB, cpu_weights=WeightFormat.INT4).fit is Fit.FITS
    on_gpu = fit_hint(LARGE, 24 * GIB, 24 * GIB, cpu_weights=WeightFormat.INT4)
    assert on_gpu.need_bytes == LARGE.memory_needed_bytes(Precision.BFLOAT16)
    assert on_gpu.weights == "bfloat16"


def test_a_gguf_quant_is_judged_by_its_files_on_the_cpu_whatever_the_precision() -> None:
    base = find_model("Qwen/Qwen3-VL-2B-Instruct")
    assert base is not None
    q4 = gguf_variant(base, "Q4_K_M")
    expected = q4.download_bytes + LLAMA_CPP_OVERHEAD_BYTES
    for vram in (None, 24 * GIB):  # llama.cpp runs it on the CPU even beside a GPU
        hint = fit_hint(q4, 32 * GIB, vram, Precision.FLOAT32)
        assert (hint.need_bytes, hint.weights, hint.on_gpu) == (expected, "Q4_K_M", False)
        assert "(Q4_K_M) of 34.4 GB RAM" in hint.text
        assert "float32" not in hint.text
    on_disk = fit_hint(q4, 32 * GIB, file_bytes=3 * GIB)
    assert on_disk.need_bytes == 3 * GIB + LLAMA_CPP_OVERHEAD_BYTES
    # Smaller quantizations need less: the need follows the files, not the base model's size.
    needs = [fit_hint(gguf_variant(base, q), 32 * GIB).need_bytes for q in ("Q4_K_M", "Q8_0")]
    assert needs[0] < needs[1] < fit_hint(base, 32 * GIB).need_bytes
