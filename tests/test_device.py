"""Device and precision choice: automatic rules, overrides and refusals."""

from __future__ import annotations

import pytest

from vldesk.core.catalog import Precision
from vldesk.core.device import DeviceChoice, HardwareProbe, choose_device
from vldesk.core.errors import DeviceError

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


def test_detect_reads_this_machine() -> None:
    pytest.importorskip("torch")
    probe = HardwareProbe.detect()
    import torch

    assert probe.cuda_available == torch.cuda.is_available()
