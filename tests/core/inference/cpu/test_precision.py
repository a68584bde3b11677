"""CPU precision: bfloat16 where the CPU multiplies it in hardware, checked against float32."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.core.inference.cpu.test_capabilities import (
    CASCADE_LAKE,
    SAPPHIRE_RAPIDS,
    ZEN3,
    ZEN4,
    cpuinfo,
)
from tests.helpers import PROJECT_ROOT
from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.images import LoadedImage
from vldesk.core.inference.cpu.capabilities import CAPS_ENV, CpuCapabilities, detect
from vldesk.core.inference.device import (
    HardwareProbe,
    choose_device,
    expected_cpu_precision,
    physical_cores_from_cpuinfo,
)
from vldesk.core.models.catalog import Family, Precision

AMX = HardwareProbe(cpu=CpuCapabilities.at_level("amx"), physical_cores=8)
AVX512_BF16 = HardwareProbe(cpu=CpuCapabilities.at_level("avx512_bf16"), physical_cores=8)
AVX2 = HardwareProbe(cpu=CpuCapabilities.at_level("avx2"), physical_cores=4)

#: bf16 keeps 8 significant bits: on the tiny models the logits differ from float32 by about
#: 0.5 % of the largest logit. Allow 3 %, and the same top-1 token at 95 % of the positions.
RELATIVE_LOGIT_TOLERANCE = 0.03
TOP1_AGREEMENT = 0.95


@pytest.mark.parametrize(("probe", "feature"), [(AMX, "AMX-BF16"), (AVX512_BF16, "AVX512-BF16")])
def test_cpu_with_fast_bf16_runs_bf16_and_says_why(probe: HardwareProbe, feature: str) -> None:
    choice = choose_device("auto", "auto", probe)
    assert (choice.device, choice.dtype) == ("cpu", Precision.BFLOAT16)
    assert feature in choice.reason
    assert "no GPU found" in choice.reason


def test_cpu_without_fast_bf16_stays_float32_and_says_why() -> None:
    choice = choose_device("auto", "auto", AVX2)
    assert choice.dtype is Precision.FLOAT32
    assert "no fast bfloat16" in choice.reason


def test_explicit_cpu_precision_wins_over_the_feature() -> None:
    assert choose_device("cpu", "float32", AMX).dtype is Precision.FLOAT32
    assert choose_device("cpu", "bfloat16", AVX2).dtype is Precision.BFLOAT16


def test_gpu_choice_ignores_cpu_features() -> None:
    amx = CpuCapabilities.at_level("amx")
    probe = HardwareProbe(cuda_available=True, cuda_bf16_supported=False, cpu=amx)
    assert choose_device(probe=probe).dtype is Precision.FLOAT16
    mac = HardwareProbe(mps_available=True, cpu=amx)
    assert choose_device(probe=mac).dtype is Precision.FLOAT16


@pytest.mark.parametrize(
    ("flags", "environ", "precision", "reason_part"),
    [
        (SAPPHIRE_RAPIDS, {}, Precision.BFLOAT16, "the CPU has AMX-BF16"),
        (ZEN4, {}, Precision.BFLOAT16, "the CPU has AVX512-BF16"),
        (CASCADE_LAKE, {}, Precision.FLOAT32, "no fast bfloat16"),
        (ZEN3, {}, Precision.FLOAT32, "no fast bfloat16"),
        ("", {}, Precision.FLOAT32, "no fast bfloat16"),
        (ZEN4, {"ONEDNN_MAX_CPU_ISA": "AVX2"}, Precision.FLOAT32, "ONEDNN_MAX_CPU_ISA=AVX2"),
        (SAPPHIRE_RAPIDS, {CAPS_ENV: "avx512_bf16"}, Precision.BFLOAT16, "has AVX512-BF16"),
        (SAPPHIRE_RAPIDS, {CAPS_ENV: "avx2"}, Precision.FLOAT32, f"limited by {CAPS_ENV}=avx2"),
    ],
    ids=["amx", "zen4", "cascade-lake", "zen3", "unknown", "onednn-avx2", "amx-as-zen4", "as-zen3"],
)
def test_the_cpu_read_from_cpuinfo_decides_the_precision_and_says_why(
    flags: str, environ: dict[str, str], precision: Precision, reason_part: str
) -> None:
    """What /proc/cpuinfo and the environment say gives the automatic CPU precision, its
    reason, and the same precision in the memory estimates made before torch is imported."""
    text = cpuinfo(flags)
    probe = HardwareProbe(cpu=detect(environ, cpuinfo=text, machine="x86_64"), physical_cores=4)
    choice = choose_device("cpu", "auto", probe)
    assert choice.dtype is precision
    assert reason_part in choice.reason
    assert expected_cpu_precision("auto", text, environ) is precision


def _cpuinfo(entries: list[tuple[int, int]]) -> str:
    blocks = [
        f"processor\t: {i}\nphysical id\t: {package}\ncore id\t\t: {core}\nflags\t\t: avx2\n"
        for i, (package, core) in enumerate(entries)
    ]
    return "\n".join(blocks)


def test_physical_cores_count_hyperthreads_once() -> None:
    # Two packages of two cores, two threads each: 8 logical CPUs, 4 cores.
    entries = [(p, c) for _ in range(2) for p in range(2) for c in range(2)]
    assert physical_cores_from_cpuinfo(_cpuinfo(entries)) == 4
    assert physical_cores_from_cpuinfo(_cpuinfo([(0, 0), (0, 1)])) == 2
    assert physical_cores_from_cpuinfo("processor : 0\nflags : neon\n") == 0


def _picture() -> LoadedImage:
    image = Image.new("RGB", (96, 64), (200, 30, 30))
    image.paste((20, 40, 220), (0, 0, 48, 32))
    return LoadedImage(image, "test.png", image.size)


@pytest.mark.model
def test_bf16_logits_match_float32(tiny_model: tuple[Family, Path]) -> None:
    """The same input through the same weights in float32 and bfloat16 (with the decode
    kernels the engine installs): logits within the tolerance, the same top token."""
    import torch

    from vldesk.core.inference.transformers_engine import TransformersEngine

    _family, folder = tiny_model
    exact = TransformersEngine.load(folder, device="cpu", dtype="float32")
    fast = TransformersEngine.load(folder, device="cpu", dtype="bfloat16")
    try:
        conversation = Conversation().ask("Describe this image.", [_picture()])
        inputs = exact.prepare_inputs(conversation, GenerationSettings(max_image_tokens=64))
        halved = {
            k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in inputs.items()
        }
        with torch.inference_mode():
            reference = exact.model(**inputs).logits[0].float()
            approximate = fast.model(**halved).logits[0].float()
        error = (reference - approximate).abs().max().item()
        assert error <= RELATIVE_LOGIT_TOLERANCE * reference.abs().max().item()
        # Where float32's top token leads by more than two bfloat16 steps (with the real
        # 152k-word vocabulary a random model's top two are often closer: a tie either way).
        top_two = reference.topk(2, dim=-1).values
        clear = (top_two[:, 0] - top_two[:, 1]) > 2**-7 * top_two[:, 0].abs()
        assert clear.double().mean().item() >= 0.5
        same = reference.argmax(-1) == approximate.argmax(-1)
        # In float64: 19 of 20 positions must count as 0.95 (float32 makes it 0.94999999).
        agreement = same[clear].double().mean().item()
        assert agreement >= TOP1_AGREEMENT
    finally:
        exact.unload()
        fast.unload()


@pytest.mark.model
def test_decode_kernels_are_installed_for_cpu_answers(tiny_model_dirs: dict[Family, Path]) -> None:
    """In both CPU precisions the text decoder's linear layers (not the vision tower's) take the
    measured decode kernel, and answers go through them."""
    import torch

    from vldesk.core.inference.transformers_engine import TransformersEngine

    folder = tiny_model_dirs[Family.QWEN3_VL]
    for dtype in ("bfloat16", "float32"):
        engine = TransformersEngine.load(folder, device="cpu", dtype=dtype)
        try:
            assert engine.cpu_kernels is not None
            routed = {
                name
                for name, m in engine.model.named_modules()
                if isinstance(m, torch.nn.Linear) and "forward" in vars(m)
            }
            assert routed
            assert len(routed) == engine.cpu_kernels.layers
            assert not any("visual" in name.split(".") for name in routed)
            settings = GenerationSettings(max_new_tokens=5, ignore_eos=True, max_image_tokens=16)
            conversation = Conversation().ask("Hi", [_picture()])
            assert engine.generate(conversation, settings).stats.new_tokens == 5
            assert len(engine.generate_batch([conversation, conversation], settings)) == 2
        finally:
            engine.unload()


@pytest.mark.model
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_patch_embedding_as_linear_equals_the_convolution(dtype: str) -> None:
    import torch

    from vldesk.core.inference.cpu.patch_linear import patch_as_linear

    torch.manual_seed(2)
    conv = torch.nn.Conv3d(3, 32, kernel_size=(2, 16, 16), stride=(2, 16, 16))
    conv = conv.to(getattr(torch, dtype))
    patches = torch.randn(40, 3, 2, 16, 16).to(conv.weight.dtype)
    with torch.inference_mode():
        expected = conv(patches).float()
        got = patch_as_linear(conv, patches)
        # Any other input shape is left to the convolution itself.
        wide = torch.randn(1, 3, 4, 32, 32).to(conv.weight.dtype)
        assert torch.equal(patch_as_linear(conv, wide), conv(wide))
    assert got.shape == expected.shape
    tolerance = 1e-5 if dtype == "float32" else 0.02
    assert (got.float() - expected).abs().max().item() <= tolerance * expected.abs().max().item()


@pytest.mark.model
def test_every_family_gets_its_patch_embedding_as_linear(
    tiny_model: tuple[Family, Path],
) -> None:
    from vldesk.core.inference.transformers_engine import TransformersEngine

    _family, folder = tiny_model
    engine = TransformersEngine.load(folder, device="cpu", dtype="float32")
    try:
        convs = [m for m in engine.model.modules() if type(m).__name__ == "Conv3d"]
        assert len(convs) == 1
        assert "forward" in vars(convs[0])
    finally:
        engine.unload()


def test_ignore_eos_suppresses_the_stop_tokens_cheaply() -> None:
    torch = pytest.importorskip("torch")
    from vldesk.core.inference.generation_hooks import SuppressTokens

    scores = torch.zeros(2, 10)
    out = SuppressTokens([3, 7])(torch.zeros(2, 4, dtype=torch.long), scores)
    assert torch.isinf(out[:, [3, 7]]).all()
    assert (out[:, [0, 1, 2, 4, 5, 6, 8, 9]] == 0).all()


#: Run in a fresh process, as the allocator's settings last for the process: allocates, touches
#: and frees a large block before and while a model is loaded, and notes resident memory
#: around an answer.
_ALLOCATOR_PROBE = r"""
import ctypes, json, os, sys
from PIL import Image
from vldesk.core.inference.transformers_engine import TransformersEngine
from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.images import LoadedImage

libc = ctypes.CDLL("libc.so.6")
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
BLOCK = int(sys.argv[2])

def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def mapped_alone():
    before = libc.mallinfo2().hblks
    block = libc.malloc(BLOCK)
    ctypes.memset(block, 1, BLOCK)
    mapped = libc.mallinfo2().hblks > before
    libc.free(block)
    return mapped

figures = {"mapped_before_loading": mapped_alone()}
engine = TransformersEngine.load(sys.argv[1], device="cpu", dtype="float32")
figures["mapped_while_loaded"] = mapped_alone()
figures["resident_before_answer"] = resident()
image = Image.new("RGB", (64, 64), (200, 30, 30))
conversation = Conversation().ask("Hi", [LoadedImage(image, "red.png", image.size)])
engine.generate(conversation, GenerationSettings(max_new_tokens=2, max_image_tokens=16))
figures["resident_after_answer"] = resident()
print(json.dumps(figures))
"""


@pytest.mark.model
@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the allocator is tuned with glibc only; elsewhere it is left as it is",
)
def test_large_blocks_stay_with_a_loaded_model_and_go_back_after_an_answer(
    tiny_model_dirs: dict[Family, Path],
) -> None:
    """glibc maps each large block afresh by default (page faults and zeroing at every
    activation); while a model is loaded it serves them from the heap and keeps them when
    freed, and hands the memory back to the system after each answer."""
    block = 256 * 1024**2
    folder = tiny_model_dirs[Family.QWEN3_VL]
    done = subprocess.run(
        [sys.executable, "-c", _ALLOCATOR_PROBE, str(folder), str(block)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["mapped_before_loading"]  # glibc's default, so the probe can tell
    assert not figures["mapped_while_loaded"]
    assert figures["resident_after_answer"] < figures["resident_before_answer"] - block // 2


@pytest.mark.model
def test_static_cache_is_gpu_only(
    tiny_model_dirs: dict[Family, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vldesk.core.inference.generation_hooks import generation_config
    from vldesk.core.inference.transformers_engine import STATIC_CACHE_ENV, TransformersEngine

    monkeypatch.setenv(STATIC_CACHE_ENV, "1")
    engine = TransformersEngine.load(tiny_model_dirs[Family.QWEN3_VL], device="cpu")
    try:
        sampling = engine.recommended_sampling
        config = generation_config(
            GenerationSettings(), sampling, engine._stop_ids, engine._pad_id, engine._static_cache
        )
        assert config.cache_implementation is None
    finally:
        engine.unload()
