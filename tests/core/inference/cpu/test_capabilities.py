"""CPU capabilities: the branch each CPU takes, what narrows it, and agreement with torch."""

from __future__ import annotations

import logging
import os
import sys

import pytest

from vldesk.core.inference.cpu.capabilities import (
    CAPS_ENV,
    LEVELS,
    ONEDNN_ISA_ENVS,
    CpuCapabilities,
    detect,
    torch_features,
)

#: /proc/cpuinfo flags of the CPUs CI has run on, and of others the choice must handle.
SAPPHIRE_RAPIDS = (
    "fpu sse2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni "
    "avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8 avx_vnni"
)
ZEN4 = (
    "fpu sse2 avx avx2 fma avx512f avx512dq avx512ifma avx512cd avx512bw avx512vl "
    "avx512_bf16 avx512vbmi avx512_vnni"
)
CASCADE_LAKE = "fpu sse2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni"
ZEN3 = "fpu sse2 avx avx2 fma sha_ni vaes vpclmulqdq"
#: arm64 lists ``Features`` instead of ``flags``.
GRAVITON3 = "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics asimddp sve i8mm bf16"
GRAVITON2 = "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics asimddp"


def cpuinfo(flags: str, arch: str = "x86_64") -> str:
    key = "Features" if arch == "arm64" else "flags"
    return f"processor\t: 0\n{key}\t\t: {flags}\n\nprocessor\t: 1\n{key}\t\t: {flags}\n"


def caps_of(flags: str, arch: str = "x86_64", **environ: str) -> CpuCapabilities:
    """What the app makes of a CPU with ``flags``, under the ``environ`` settings only."""
    return detect(environ, cpuinfo=cpuinfo(flags, arch), machine=arch)


@pytest.mark.parametrize(
    ("flags", "arch", "feature", "bf16_fast", "packs_bf16"),
    [
        (SAPPHIRE_RAPIDS, "x86_64", "AMX-BF16", True, True),
        (ZEN4, "x86_64", "AVX512-BF16", True, True),
        (CASCADE_LAKE, "x86_64", "AVX512", False, True),
        (ZEN3, "x86_64", "AVX2", False, False),
        ("fpu sse2 avx avx2 fma avx_vnni avx_ne_convert", "x86_64", "AVX2", False, True),
        ("fpu sse2", "x86_64", "", False, False),
        (GRAVITON3, "arm64", "", False, True),
        (GRAVITON2, "arm64", "", False, False),
    ],
    ids=["amx", "zen4", "cascade-lake", "zen3", "avx-ne-convert", "sse2", "arm-bf16", "arm"],
)
def test_each_cpu_gets_its_branch(
    flags: str, arch: str, feature: str, bf16_fast: bool, packs_bf16: bool
) -> None:
    """Fast bfloat16 needs AMX or AVX512-BF16; oneDNN packs bfloat16 with AVX-512 BW/VL/DQ or
    avx_ne_convert (x86) or bf16 (arm64); float32 packs everywhere, float16 nowhere."""
    caps = caps_of(flags, arch)
    assert caps.matrix_feature == feature
    assert caps.bf16_fast is bf16_fast
    assert caps.onednn_packs("bfloat16") is packs_bf16
    assert caps.onednn_packs("torch.float32")
    assert not caps.onednn_packs("torch.float16")
    assert caps.limited_by == ""


@pytest.mark.parametrize(
    ("flags", "environ", "feature", "packs_bf16", "limited_by"),
    [
        (ZEN4, {"ONEDNN_MAX_CPU_ISA": "AVX2"}, "AVX2", False, "ONEDNN_MAX_CPU_ISA=AVX2"),
        (ZEN4, {"ONEDNN_MAX_CPU_ISA": "avx512_core"}, "AVX512", True, "ONEDNN_MAX_CPU_ISA"),
        (SAPPHIRE_RAPIDS, {"DNNL_MAX_CPU_ISA": "AVX512_CORE_BF16"}, "AVX512-BF16", True, "DNNL"),
        (SAPPHIRE_RAPIDS, {"ONEDNN_MAX_CPU_ISA": "ALL"}, "AMX-BF16", True, ""),
        (ZEN4, {"ONEDNN_MAX_CPU_ISA": "no-such-isa"}, "AVX512-BF16", True, ""),
        (SAPPHIRE_RAPIDS, {CAPS_ENV: "avx2"}, "AVX2", False, f"{CAPS_ENV}=avx2"),
        (SAPPHIRE_RAPIDS, {CAPS_ENV: "AVX512"}, "AVX512", True, f"{CAPS_ENV}=avx512"),
        (ZEN4, {CAPS_ENV: "avx512_bf16"}, "AVX512-BF16", True, ""),
        # Both set: the stricter wins, and the first that took features away is named.
        (
            SAPPHIRE_RAPIDS,
            {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE", CAPS_ENV: "avx2"},
            "AVX2",
            False,
            "ONEDNN_MAX_CPU_ISA",
        ),
    ],
)
def test_the_environment_takes_features_away(
    flags: str, environ: dict[str, str], feature: str, packs_bf16: bool, limited_by: str
) -> None:
    """oneDNN's own ISA cap makes bfloat16 packing fail as on a lesser CPU, so it is honoured;
    the app's override runs a lesser CPU's branch; a setting that removes nothing is not named."""
    caps = caps_of(flags, **environ)
    assert caps.matrix_feature == feature
    assert caps.onednn_packs("bfloat16") is packs_bf16
    assert caps.bf16_fast is (feature in ("AMX-BF16", "AVX512-BF16"))
    assert caps.limited_by.startswith(limited_by)
    assert bool(caps.limited_by) is bool(limited_by)


def test_the_override_never_adds_features() -> None:
    caps = caps_of(ZEN3, **{CAPS_ENV: "amx"})
    assert (caps.matrix_feature, caps.onednn_packs("bfloat16")) == ("AVX2", False)
    assert caps.limited_by == ""


def test_on_arm64_the_override_hides_bfloat16_and_onednns_x86_names_do_nothing() -> None:
    assert caps_of(GRAVITON3, "arm64", ONEDNN_MAX_CPU_ISA="AVX2").onednn_packs("bfloat16")
    limited = caps_of(GRAVITON3, "arm64", **{CAPS_ENV: "avx2"})
    assert not limited.onednn_packs("bfloat16")
    assert limited.describe() == f"arm64 ({CAPS_ENV}=avx2)"


def test_an_unknown_override_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="vldesk.core.inference.cpu.capabilities"):
        caps = caps_of(ZEN4, **{CAPS_ENV: "turbo"})
    assert caps.bf16_fast
    assert "turbo" in caplog.text
    assert "avx2" in caplog.text  # the names it takes


@pytest.mark.parametrize(
    ("level", "bf16_fast", "packs_bf16"),
    [
        ("amx", True, True),
        ("avx512_bf16", True, True),
        ("avx512", False, True),
        ("avx2_vnni_2", False, True),
        ("avx2", False, False),
        ("baseline", False, False),
    ],
)
def test_each_level_is_the_branch_its_override_runs(
    level: str, bf16_fast: bool, packs_bf16: bool
) -> None:
    """A CPU built at a level (the tests' injection) and a richer CPU narrowed to it by the
    override take the same branch."""
    built = CpuCapabilities.at_level(level)
    narrowed = caps_of(SAPPHIRE_RAPIDS + " avx_ne_convert", **{CAPS_ENV: level})
    for caps in (built, narrowed):
        assert (caps.bf16_fast, caps.onednn_packs("bfloat16")) == (bf16_fast, packs_bf16)
    assert built.matrix_feature == narrowed.matrix_feature
    assert set(LEVELS) == {"amx", "avx512_bf16", "avx512", "avx2_vnni_2", "avx2", "baseline"}


@pytest.mark.parametrize(
    ("arch", "reports", "feature", "packs_bf16"),
    [
        (
            "x86_64",
            {"avx2": True, "avx512": True, "amx": True, "onednn_bf16": True},
            "AMX-BF16",
            True,
        ),
        ("x86_64", {"avx2": True, "avx512": True, "avx512_bf16": True}, "AVX512-BF16", True),
        ("x86_64", {"avx2": True, "onednn_bf16": True}, "AVX2", True),  # avx_ne_convert
        ("x86_64", {"avx2": True}, "AVX2", False),
        ("arm64", {"onednn_bf16": True}, "", True),
        ("arm64", {}, "", False),
    ],
)
def test_torchs_reports_stand_in_where_there_is_no_cpuinfo(
    arch: str, reports: dict[str, bool], feature: str, packs_bf16: bool
) -> None:
    """Windows and macOS have no /proc/cpuinfo; arm64 decides bfloat16 packing by torch."""
    caps = CpuCapabilities(arch, torch_features(arch, **reports))
    assert caps.matrix_feature == feature
    assert caps.onednn_packs("bfloat16") is packs_bf16


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and detect({}, ask_torch=False).arch == "x86_64"),
    reason="compares /proc/cpuinfo of an x86-64 Linux machine with torch's checks",
)
def test_this_machines_cpuinfo_agrees_with_torchs_checks() -> None:
    """Two readings of this CPU: the app's from /proc/cpuinfo and torch's own (which, for
    packing, honours oneDNN's ISA cap as the app does)."""
    torch = pytest.importorskip("torch")
    uncapped = detect({}, ask_torch=False)
    torch_fast = torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()
    assert uncapped.bf16_fast is bool(torch_fast)
    avx512_core = {"avx512f", "avx512bw", "avx512vl", "avx512dq"}
    assert (uncapped.features >= avx512_core) is bool(torch.cpu._is_avx512_supported())
    onednn_cap = {name: value for name in ONEDNN_ISA_ENVS if (value := os.environ.get(name))}
    capped = detect(onednn_cap)
    assert capped.onednn_bf16 is bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
