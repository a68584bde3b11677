"""Device and precision choice: automatic rules, overrides and refusals."""

from __future__ import annotations

import os

import pytest

from vldesk.core.errors import DeviceError
from vldesk.core.inference.cpu.capabilities import CAPS_ENV, detect
from vldesk.core.inference.device import (
    DeviceChoice,
    HardwareProbe,
    choose_device,
    expected_cpu_precision,
)
from vldesk.core.models.catalog import Precision

CPU_ONLY = HardwareProbe()
AMPERE = HardwareProbe(cuda_available=True, cuda_name="RTX 3090", cuda_bf16_supported=True)
TURING = HardwareProbe(cuda_available=True, cuda_name="GTX 1660", cuda_bf16_supported=False)
MAC = HardwareProbe(mps_available=True)


@pytest.mark.parametrize(
    ("probe", "device", "dtype", "reason_part"),
    [
        (CPU_ONLY, "cpu", Precision.FLOAT32, "no GPU found"),
        (AMPERE, "cuda:0", Precision.BFLOAT16, "bfloat16 is supported"),
        (TURING, "cuda:0", Precision.FLOAT16, "no bfloat16 support"),
        (MAC, "mps", Precision.FLOAT16, "MPS"),
    ],
)
def test_automatic_choice(
    probe: HardwareProbe, device: str, dtype: Precision, reason_part: str
) -> None:
    choice = choose_device("auto", "auto", probe)
    assert (choice.device, choice.dtype) == (device, dtype)
    assert reason_part in choice.reason
    assert device in choice.describe()


def test_cuda_preferred_over_mps() -> None:
    probe = HardwareProbe(cuda_available=True, cuda_bf16_supported=True, mps_available=True)
    assert choose_device(probe=probe).kind == "cuda"


def test_override_device_and_dtype_with_aliases() -> None:
    choice = choose_device("cpu", "bf16", AMPERE)
    assert choice == DeviceChoice("cpu", Precision.BFLOAT16, choice.reason)
    assert "chosen in settings" in choice.reason
    assert choose_device("cuda:1", "fp16", AMPERE).device == "cuda:1"
    assert choose_device("CUDA", None, AMPERE).device == "cuda:0"


@pytest.mark.parametrize(
    ("device", "dtype", "probe", "message"),
    [
        ("cuda", "auto", CPU_ONLY, "no CUDA GPU"),
        ("mps", "auto", CPU_ONLY, "MPS was requested"),
        ("cuda", "bfloat16", TURING, "does not support bfloat16"),
        ("tpu", "auto", CPU_ONLY, "Unknown device 'tpu'"),
        ("cpu", "int4", CPU_ONLY, "Unknown precision 'int4'"),
    ],
)
def test_impossible_requests_are_refused_with_reason(
    device: str, dtype: str, probe: HardwareProbe, message: str
) -> None:
    with pytest.raises(DeviceError, match=message):
        choose_device(device, dtype, probe)


def test_detection_packs_bfloat16_exactly_where_torch_can(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The probe the app loads with, on this machine: it expects oneDNN to pack bfloat16
    weights exactly when torch's own check (which honours oneDNN's ISA cap) says it can, and
    counts at least one and no more than the logical CPUs as physical cores."""
    torch = pytest.importorskip("torch")
    monkeypatch.delenv(CAPS_ENV, raising=False)
    probe = HardwareProbe.detect()
    assert probe.cpu.onednn_bf16 is bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    assert 1 <= probe.physical_cores <= (os.cpu_count() or 1)


@pytest.mark.parametrize(
    ("flags", "dtype", "expected"),
    [
        ("fpu sse avx2 avx512f avx512_bf16", "auto", Precision.BFLOAT16),
        ("fpu sse avx2 amx_tile amx_bf16", None, Precision.BFLOAT16),
        ("fpu sse avx2 avx512f", "auto", Precision.FLOAT32),
        ("", "auto", Precision.FLOAT32),
        ("fpu sse avx2 avx512f avx512_bf16", "fp32", Precision.FLOAT32),
        ("fpu sse avx2", "bf16", Precision.BFLOAT16),
        ("fpu sse avx2 avx512_bf16", "int4", Precision.BFLOAT16),  # unknown: as if auto
    ],
)
def test_expected_cpu_precision_without_torch_matches_the_choice(
    flags: str, dtype: str | None, expected: Precision
) -> None:
    # The model manager estimates memory before torch is imported; it must expect the
    # precision that loading on the CPU will then choose.
    cpuinfo = f"processor\t: 0\nflags\t\t: {flags}\n\n"
    assert expected_cpu_precision(dtype, cpuinfo, environ={}) is expected
    probe = HardwareProbe(cpu=detect({}, cpuinfo=cpuinfo, machine="x86_64"))
    if dtype != "int4":
        assert choose_device("cpu", dtype, probe).dtype is expected
