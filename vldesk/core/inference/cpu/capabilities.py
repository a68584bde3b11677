"""What this CPU can run: the features that decide the CPU's precision and decode kernels."""

from __future__ import annotations

import enum
import functools
import logging
import os
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

log = logging.getLogger(__name__)

#: Set to a :data:`LEVELS` name to run as if the CPU had at most that level (tests, benchmarks):
#: ``avx2`` runs the branch of an AMD Zen 3 CPU on any machine. It only takes features away.
CAPS_ENV = "VLDESK_CPU_CAPS"
#: oneDNN's cap on the instructions it uses (``DNNL_MAX_CPU_ISA`` is its older name). With
#: ``AVX2`` it refuses to pack bfloat16 weights as on a CPU without AVX-512, so it is honoured.
ONEDNN_ISA_ENVS = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")


class Level(enum.IntEnum):
    """Steps of x86 matrix support, each including the ones below (oneDNN's order)."""

    BASELINE = 0
    AVX2 = 1
    #: AVX2 with VNNI and ``avx_ne_convert``: oneDNN packs bfloat16 without AVX-512.
    AVX2_VNNI_2 = 2
    #: AVX-512 F, BW, VL and DQ: oneDNN packs bfloat16 (converting it, not multiplying it).
    AVX512 = 3
    #: Multiplies bfloat16 in hardware.
    AVX512_BF16 = 4
    AVX512_FP16 = 5
    #: Matrix tiles that multiply bfloat16.
    AMX = 6


#: The names :data:`CAPS_ENV` takes: one per branch of the precision and kernel choice.
LEVELS = {
    "baseline": Level.BASELINE,
    "avx2": Level.AVX2,
    "avx2_vnni_2": Level.AVX2_VNNI_2,
    "avx512": Level.AVX512,
    "avx512_bf16": Level.AVX512_BF16,
    "amx": Level.AMX,
}

#: oneDNN's ISA names (``ONEDNN_MAX_CPU_ISA``) as levels; ``ALL`` and ``DEFAULT`` set no cap.
_ONEDNN_ISAS = {
    "SSE41": Level.BASELINE,
    "AVX": Level.BASELINE,
    "AVX2": Level.AVX2,
    "AVX2_VNNI": Level.AVX2,
    "AVX2_VNNI_2": Level.AVX2_VNNI_2,
    "AVX512_CORE": Level.AVX512,
    "AVX512_CORE_VNNI": Level.AVX512,
    "AVX512_CORE_BF16": Level.AVX512_BF16,
    "AVX512_CORE_FP16": Level.AVX512_FP16,
    "AVX10_1_512": Level.AVX512_FP16,
    "AVX10_2_512": Level.AVX512_FP16,
    "AVX512_CORE_AMX": Level.AMX,
    "AVX512_CORE_AMX_FP16": Level.AMX,
    "AVX10_1_512_AMX": Level.AMX,
    "AVX10_1_512_AMX_FP16": Level.AMX,
    "AVX10_2_512_AMX_2": Level.AMX,
}

#: The /proc/cpuinfo flags (x86) that make each level, for :meth:`CpuCapabilities.at_level`.
_LEVEL_FLAGS = {
    Level.AVX2: ("avx2",),
    Level.AVX2_VNNI_2: ("avx_vnni", "avx_ne_convert"),
    Level.AVX512: ("avx512f", "avx512bw", "avx512vl", "avx512dq"),
    Level.AVX512_BF16: ("avx512_bf16",),
    Level.AVX512_FP16: ("avx512_fp16",),
    Level.AMX: ("amx_tile", "amx_bf16"),
}
_AVX512_CORE = frozenset(_LEVEL_FLAGS[Level.AVX512][1:])
#: arm64's bfloat16 instructions (/proc/cpuinfo ``Features``), with which oneDNN packs bfloat16.
ARM_BF16 = "bf16"


def _flag_level(flag: str, arch: str) -> Level | None:
    """The level a flag belongs to; ``None`` for flags no choice depends on (kept as they are)."""
    if arch == "arm64":
        return Level.AVX512 if flag == ARM_BF16 else None  # the level that packs bfloat16
    for level, flags in _LEVEL_FLAGS.items():
        if flag in flags:
            return level
    if flag.startswith("amx"):
        return Level.AMX
    if flag.startswith("avx512"):
        return Level.AVX512
    if flag.startswith("avx_"):
        return Level.AVX2_VNNI_2
    return None


@dataclass(frozen=True)
class CpuCapabilities:
    """The CPU's features as the app may use them: read from /proc/cpuinfo (or torch where
    there is none) and narrowed by oneDNN's ISA cap and :data:`CAPS_ENV`. Tests build them
    with :meth:`at_level` to run every branch of the choices on any machine."""

    arch: str = "x86_64"
    #: Feature names as /proc/cpuinfo spells them (``flags`` on x86, ``Features`` on arm64).
    features: frozenset[str] = frozenset()
    #: The setting that took features away ("ONEDNN_MAX_CPU_ISA=AVX2"), for reasons shown.
    limited_by: str = ""

    @classmethod
    def at_level(cls, level: str | Level, arch: str = "x86_64") -> CpuCapabilities:
        """A CPU with exactly the features up to ``level`` (a :data:`LEVELS` name)."""
        top = LEVELS[level] if isinstance(level, str) else level
        if arch == "arm64":
            return cls(arch, frozenset({ARM_BF16} if top >= Level.AVX512 else ()))
        flags = [flag for step, names in _LEVEL_FLAGS.items() if step <= top for flag in names]
        # AVX2_VNNI_2 is a client-CPU branch: a server CPU with AVX-512 need not have it.
        if top > Level.AVX2_VNNI_2:
            flags = [flag for flag in flags if flag not in _LEVEL_FLAGS[Level.AVX2_VNNI_2]]
        return cls(arch, frozenset(flags))

    def limited_to(self, level: Level, why: str) -> CpuCapabilities:
        """These capabilities without the features above ``level``."""
        kept = frozenset(
            flag
            for flag in self.features
            if (step := _flag_level(flag, self.arch)) is None or step <= level
        )
        if kept == self.features:
            return self
        return replace(self, features=kept, limited_by=self.limited_by or why)

    @property
    def fast_bf16_feature(self) -> str:
        """The feature that multiplies bfloat16 in hardware, in words; "" without one."""
        if "amx_bf16" in self.features:
            return "AMX-BF16"
        if "avx512_bf16" in self.features:
            return "AVX512-BF16"
        return ""

    @property
    def bf16_fast(self) -> bool:
        """bfloat16 beats float32 here (AMX or AVX512-BF16): half the bytes, no slower."""
        return bool(self.fast_bf16_feature)

    @property
    def matrix_feature(self) -> str:
        """The best matrix feature in words ("AMX-BF16", "AVX512-BF16", "AVX512", "AVX2")."""
        if self.bf16_fast:
            return self.fast_bf16_feature
        if "avx512f" in self.features:
            return "AVX512"
        return "AVX2" if "avx2" in self.features else ""

    @property
    def onednn_bf16(self) -> bool:
        """oneDNN can pack and multiply bfloat16 weights here: on x86 it needs AVX-512 BW, VL
        and DQ, or ``avx_ne_convert`` (PyTorch refuses otherwise); on arm64 bfloat16."""
        if self.arch == "arm64":
            return ARM_BF16 in self.features
        return self.features >= _AVX512_CORE or "avx_ne_convert" in self.features

    def onednn_packs(self, dtype: Any) -> bool:
        """Whether oneDNN can pack weights of ``dtype`` (a torch dtype or its name) here for
        the app: float32 and bfloat16 only (float16 runs on GPUs, never through oneDNN)."""
        name = str(dtype).rsplit(".", 1)[-1]
        if name == "float32":
            return True
        return name == "bfloat16" and self.onednn_bf16

    def describe(self) -> str:
        """The capabilities in words, for logs and warnings ("AVX2 (VLDESK_CPU_CAPS=avx2)")."""
        if self.arch == "x86_64":
            text = self.matrix_feature or "no AVX2"
        else:
            text = f"{self.arch}{' with bfloat16' if self.onednn_bf16 else ''}"
        return f"{text} ({self.limited_by})" if self.limited_by else text


def machine_arch(machine: str | None = None) -> str:
    """``x86_64``, ``arm64`` or the machine's own name."""
    name = (machine if machine is not None else platform.machine()).lower()
    if name in ("x86_64", "amd64", "x64"):
        return "x86_64"
    if name in ("arm64", "aarch64", "armv8l"):
        return "arm64"
    return name


def cpuinfo_features(text: str) -> frozenset[str]:
    """The feature names in /proc/cpuinfo text: ``flags`` (x86) or ``Features`` (arm64)."""
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


@functools.cache
def cpuinfo_text() -> str:
    """/proc/cpuinfo (read once: it does not change); "" where there is none."""
    if not sys.platform.startswith("linux"):
        return ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:
        return ""


def torch_features(
    arch: str,
    *,
    avx2: bool = False,
    avx512: bool = False,
    avx512_bf16: bool = False,
    amx: bool = False,
    onednn_bf16: bool = False,
) -> frozenset[str]:
    """Feature names for what torch reports about the CPU. ``onednn_bf16`` is torch's own
    verdict on packing bfloat16 for oneDNN: without AVX-512 on x86 it means ``avx_ne_convert``
    (which /proc/cpuinfo may not list), on arm64 bfloat16 instructions."""
    if arch == "arm64":
        return frozenset({ARM_BF16} if onednn_bf16 else ())
    reported = {
        Level.AVX2: avx2,
        Level.AVX2_VNNI_2: onednn_bf16 and not avx512,
        Level.AVX512: avx512,
        Level.AVX512_BF16: avx512_bf16,
        Level.AMX: amx,
    }
    flags = [flag for level, on in reported.items() if on for flag in _LEVEL_FLAGS[level]]
    return frozenset(flag for flag in flags if flag != "avx_vnni")


@functools.cache
def _torch_reported_features(arch: str) -> frozenset[str]:
    """What torch's CPU checks report (read once; imports torch)."""
    import torch

    def says(owner: Any, check: str) -> bool:
        try:
            return bool(getattr(owner, check)())
        except (AttributeError, RuntimeError, TypeError):
            return False

    cpu = getattr(torch, "cpu", None)
    return torch_features(
        arch,
        avx2=says(cpu, "_is_avx2_supported"),
        avx512=says(cpu, "_is_avx512_supported"),
        avx512_bf16=says(cpu, "_is_avx512_bf16_supported"),
        amx=says(cpu, "_is_amx_tile_supported"),
        onednn_bf16=says(torch.ops.mkldnn, "_is_mkldnn_bf16_supported"),
    )


def limits_from_environment(
    caps: CpuCapabilities, environ: Mapping[str, str] | None = None
) -> CpuCapabilities:
    """``caps`` narrowed by oneDNN's ISA cap (x86) and by :data:`CAPS_ENV`."""
    env = os.environ if environ is None else environ
    if caps.arch == "x86_64":
        for name in ONEDNN_ISA_ENVS:
            value = env.get(name, "").strip().upper()
            if value in _ONEDNN_ISAS:
                caps = caps.limited_to(_ONEDNN_ISAS[value], f"{name}={value}")
                break
    wanted = env.get(CAPS_ENV, "").strip().lower()
    if wanted in LEVELS:
        caps = caps.limited_to(LEVELS[wanted], f"{CAPS_ENV}={wanted}")
    elif wanted:
        log.warning("%s=%s is not one of %s: ignored", CAPS_ENV, wanted, ", ".join(LEVELS))
    return caps


def detect(
    environ: Mapping[str, str] | None = None,
    *,
    cpuinfo: str | None = None,
    machine: str | None = None,
    ask_torch: bool = True,
) -> CpuCapabilities:
    """This CPU's capabilities as the app may use them.

    The features come from /proc/cpuinfo; with ``ask_torch`` torch's checks fill what it cannot
    say (no /proc/cpuinfo; ``avx_ne_convert``, which it may not list) and on arm64 decide
    whether bfloat16 packs. The environment then narrows them (:func:`limits_from_environment`).
    ``cpuinfo`` and ``machine`` stand in for this machine's (tests): torch is not asked then.
    """
    arch = machine_arch(machine)
    text = cpuinfo_text() if cpuinfo is None else cpuinfo
    features = frozenset(f for f in cpuinfo_features(text) if _flag_level(f, arch) is not None)
    if ask_torch and cpuinfo is None and machine is None:
        try:
            reported = _torch_reported_features(arch)
        except ImportError:
            reported = None
        if reported is not None and not features:
            features = reported
        elif reported is not None and arch == "arm64":
            features = (features - {ARM_BF16}) | reported
        elif reported is not None:
            features |= reported & {"avx_ne_convert"}
    return limits_from_environment(CpuCapabilities(arch, features), environ)
