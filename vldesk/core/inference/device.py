"""Choose the device and precision to run on, and say why."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from vldesk.core.errors import DeviceError
from vldesk.core.inference.cpu import capabilities as cpu_capabilities
from vldesk.core.inference.cpu.capabilities import CpuCapabilities
from vldesk.core.models.catalog import Precision

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
    #: The CPU's features as the app may use them: they decide bfloat16 and the decode kernels.
    cpu: CpuCapabilities = field(default_factory=CpuCapabilities)
    #: Physical cores this process may use (0: unknown); torch gets one thread per core.
    physical_cores: int = 0

    @property
    def cpu_bf16_fast(self) -> bool:
        """The CPU multiplies bfloat16 in hardware (AMX or AVX512-BF16): bf16 beats float32."""
        return self.cpu.bf16_fast

    @property
    def cpu_feature(self) -> str:
        """The CPU's best matrix feature in words ("AMX-BF16", "AVX512-BF16", "AVX512", ...)."""
        return self.cpu.matrix_feature

    @classmethod
    def detect(cls) -> HardwareProbe:
        import torch

        cpu = cls(cpu=cpu_capabilities.detect(), physical_cores=_physical_cores())
        mps_backend = getattr(torch.backends, "mps", None)
        mps = bool(mps_backend is not None and mps_backend.is_available())
        if not torch.cuda.is_available():
            return replace(cpu, mps_available=mps)
        props = torch.cuda.get_device_properties(0)
        return replace(
            cpu,
            cuda_available=True,
            cuda_name=str(props.name),
            cuda_bf16_supported=bool(torch.cuda.is_bf16_supported()),
            cuda_total_memory=int(props.total_memory),
            mps_available=mps,
        )


def physical_cores_from_cpuinfo(text: str) -> int:
    """Distinct (package, core) pairs in /proc/cpuinfo text; 0 when it does not say."""
    cores: set[tuple[str, str]] = set()
    package = core = None
    for line in [*text.splitlines(), ""]:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            package = value.strip()
        elif key == "core id":
            core = value.strip()
        elif not line.strip():
            if core is not None:
                cores.add((package or "0", core))
            package = core = None
    return len(cores)


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _physical_cores() -> int:
    """The physical cores this process may use (/proc/cpuinfo on Linux, sysctl on macOS)."""
    text = cpu_capabilities.cpuinfo_text()
    usable = _usable_cpus()
    physical = physical_cores_from_cpuinfo(text) if text else 0
    if physical == 0 and sys.platform == "darwin":
        physical = _sysctl_int("hw.physicalcpu")
    return min(physical, usable) if physical else usable


def expected_cpu_precision(
    dtype: str | None = "auto",
    cpuinfo: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Precision:
    """The precision :func:`choose_device` will pick on the CPU, without importing torch (the
    model manager's memory estimates run before it is): the ``dtype`` setting when it names one,
    else bfloat16 where /proc/cpuinfo (``cpuinfo`` stands in for it) shows AMX or AVX512-BF16
    that the environment leaves on. Elsewhere float32, the larger estimate, as the CPU's
    bfloat16 support cannot be read cheaply there."""
    try:
        wanted = _normalise(dtype, DTYPE_CHOICES, "precision")
    except DeviceError:
        wanted = "auto"  # loading will say what is wrong with it; an estimate goes on
    if wanted != "auto":
        return Precision(wanted)
    caps = cpu_capabilities.detect(environ, cpuinfo=cpuinfo, ask_torch=False)
    return Precision.BFLOAT16 if caps.bf16_fast else Precision.FLOAT32


def _sysctl_int(name: str) -> int:
    import subprocess

    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5)
        return int(out.stdout.strip())
    except (OSError, ValueError, subprocess.SubprocessError):
        return 0


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
    """Pick the device and precision: CUDA (bf16 if supported, else fp16), then MPS, then CPU
    (bf16 where the CPU multiplies it in hardware, AMX or AVX512-BF16, else fp32).

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
    if probe.cpu_bf16_fast:
        return DeviceChoice(
            target,
            Precision.BFLOAT16,
            f"{why}; the CPU has {probe.cpu_feature or 'fast bfloat16'}: bfloat16 is faster "
            "than float32 and halves the memory",
        )
    limited = f" (limited by {probe.cpu.limited_by})" if probe.cpu.limited_by else ""
    return DeviceChoice(
        target,
        Precision.FLOAT32,
        f"{why}; float32 on CPU, which has no fast bfloat16 (AMX or AVX512-BF16){limited}",
    )
