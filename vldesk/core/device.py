"""Choose the device and precision to run on, and say why."""

from __future__ import annotations

from dataclasses import dataclass

from vldesk.core.catalog import Precision
from vldesk.core.errors import DeviceError

DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")
DTYPE_CHOICES = ("auto", "bfloat16", "float16", "float32")


@dataclass(frozen=True)
class HardwareProbe:
    """What the machine offers, read from torch once; tests build these by hand."""

    cuda_available: bool = False
    cuda_name: str = ""
    cuda_bf16_supported: bool = False
    cuda_total_memory: int = 0
    mps_available: bool = False

    @classmethod
    def detect(cls) -> HardwareProbe:
        import torch

        cuda = torch.cuda.is_available()
        mps_backend = getattr(torch.backends, "mps", None)
        mps = bool(mps_backend is not None and mps_backend.is_available())
        if not cuda:
            return cls(mps_available=mps)
        props = torch.cuda.get_device_properties(0)
        return cls(
            cuda_available=True,
            cuda_name=str(props.name),
            cuda_bf16_supported=bool(torch.cuda.is_bf16_supported()),
            cuda_total_memory=int(props.total_memory),
            mps_available=mps,
        )


@dataclass(frozen=True)
class DeviceChoice:
    """Where the model runs: ``device`` is a torch device string, ``dtype`` a :class:`Precision`."""

    device: str
    dtype: Precision
    reason: str

    @property
    def kind(self) -> str:
        return self.device.split(":", 1)[0]

    def describe(self) -> str:
        return f"{self.device} {self.dtype.value} ({self.reason})"


def _normalise(value: str | None, allowed: tuple[str, ...], what: str) -> str:
    chosen = (value or "auto").strip().lower()
    aliases = {"bf16": "bfloat16", "fp16": "float16", "half": "float16", "fp32": "float32"}
    chosen = aliases.get(chosen, chosen)
    if chosen.startswith("cuda:"):
        return chosen
    if chosen not in allowed:
        raise DeviceError(f"Unknown {what} '{value}': choose one of {', '.join(allowed)}.")
    return chosen


def choose_device(
    device: str | None = "auto",
    dtype: str | None = "auto",
    probe: HardwareProbe | None = None,
) -> DeviceChoice:
    """Pick the device and precision: CUDA (bf16 if supported, else fp16), then MPS, then CPU fp32.

    An explicit ``device`` or ``dtype`` overrides the automatic choice; asking for hardware that is
    not there, or a precision the device cannot run, raises :class:`DeviceError` with the reason.
    """
    wanted_device = _normalise(device, DEVICE_CHOICES, "device")
    wanted_dtype = _normalise(dtype, DTYPE_CHOICES, "precision")
    probe = probe if probe is not None else HardwareProbe.detect()

    if wanted_device == "auto":
        if probe.cuda_available:
            target, why = "cuda:0", f"CUDA GPU found ({probe.cuda_name or 'unnamed'})"
        elif probe.mps_available:
            target, why = "mps", "Apple GPU (MPS) found"
        else:
            target, why = "cpu", "no GPU found"
    else:
        target, why = wanted_device, "chosen in settings"
        if target.startswith("cuda") and not probe.cuda_available:
            raise DeviceError("CUDA was requested but no CUDA GPU is available to PyTorch.")
        if target == "cuda":
            target = "cuda:0"
        if target == "mps" and not probe.mps_available:
            raise DeviceError("Apple MPS was requested but is not available on this machine.")

    kind = target.split(":", 1)[0]
    if wanted_dtype != "auto":
        precision = Precision(wanted_dtype)
        if kind == "cuda" and precision is Precision.BFLOAT16 and not probe.cuda_bf16_supported:
            raise DeviceError("This GPU does not support bfloat16; use float16 or float32.")
        return DeviceChoice(target, precision, f"{why}; {precision.value} chosen in settings")

    if kind == "cuda":
        if probe.cuda_bf16_supported:
            return DeviceChoice(target, Precision.BFLOAT16, f"{why}; bfloat16 is supported")
        return DeviceChoice(target, Precision.FLOAT16, f"{why}; no bfloat16 support, using float16")
    if kind == "mps":
        return DeviceChoice(target, Precision.FLOAT16, f"{why}; float16 is fastest on MPS")
    return DeviceChoice(target, Precision.FLOAT32, f"{why}; float32 is exact and safe on CPU")
