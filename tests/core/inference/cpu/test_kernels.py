"""CPU decode kernels: each candidate is exact enough and batch-invariant; the fastest is picked."""

from __future__ import annotations

import logging
import mmap
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.core.batch.test_runner import distinct_pictures, lively_model_dir
from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.inference.cpu.capabilities import CAPS_ENV, CpuCapabilities, detect
from vldesk.core.models.catalog import Family, Precision

torch = pytest.importorskip("torch")

from vldesk.core.inference.cpu import decode_forwards, kernel_timing  # noqa: E402
from vldesk.core.inference.cpu import kernels as cpu_kernels  # noqa: E402
from vldesk.core.inference.cpu.decode_forwards import DecodeKernel, pack_for_onednn  # noqa: E402
from vldesk.core.inference.cpu.decode_rows import decode_rows  # noqa: E402
from vldesk.core.inference.cpu.kernel_timing import measure_kernels  # noqa: E402
from vldesk.core.inference.cpu.kernels import (  # noqa: E402
    KERNEL_ENV,
    KernelChoice,
    candidates,
    choose_kernels,
)

pytestmark = pytest.mark.model

# The measured kernels (int8 weights are the user's choice: test_quantized_weights.py).
LINEAR, MATVEC, ONEDNN = DecodeKernel.LINEAR, DecodeKernel.MATVEC, DecodeKernel.ONEDNN
KERNELS = [LINEAR, MATVEC, ONEDNN]
DTYPES = ["bfloat16", "float32"]
#: A CPU on which every measured kernel is a candidate (choices that run no kernel).
AMX = CpuCapabilities.at_level("amx")
needs_onednn = pytest.mark.skipif(
    not decode_forwards.onednn_built(), reason="no oneDNN in this torch"
)


def _needs(kernel: DecodeKernel, dtype: str) -> None:
    """Skip a kernel this CPU cannot run for ``dtype``, by the check the app chooses with."""
    if kernel is DecodeKernel.ONEDNN and not decode_forwards.onednn_available(
        getattr(torch, dtype)
    ):
        pytest.skip(f"oneDNN cannot pack {dtype} weights here ({detect().describe()})")


def _layer(kernel: DecodeKernel, dtype: str, bias: bool, seed: int = 0) -> Any:
    torch.manual_seed(seed)
    layer = torch.nn.Linear(256, 96, bias=bias).to(getattr(torch, dtype))
    reference = torch.nn.Linear(256, 96, bias=bias).to(layer.weight.dtype)
    reference.load_state_dict(layer.state_dict())
    if kernel is DecodeKernel.ONEDNN:
        pack_for_onednn(layer)
    return layer, reference


def _forward(kernel: DecodeKernel, layer: Any, x: Any) -> Any:
    with torch.inference_mode():
        return decode_forwards.FORWARDS[kernel](layer, x)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.value)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize(
    "shape", [(1, 1, 256), (256,), (3, 1, 256), (1, 7, 256), (16, 256), (17, 1, 256), (2, 9, 256)]
)
def test_every_kernel_computes_the_linear_layer(
    kernel: DecodeKernel, dtype: str, bias: bool, shape: tuple[int, ...]
) -> None:
    """Decode rows (1 to 16 answers, one token each) take the kernel's route; anything else
    (prompts, plain vectors) the general one. All agree with ``F.linear``."""
    _needs(kernel, dtype)
    layer, reference = _layer(kernel, dtype, bias)
    x = torch.randn(*shape).to(reference.weight.dtype)
    with torch.inference_mode():
        expected = reference(x).float()
    got = _forward(kernel, layer, x)
    assert got.shape == expected.shape
    assert got.dtype == reference.weight.dtype
    tolerance = 0.02 if dtype == "bfloat16" else 1e-5
    assert (got.float() - expected).abs().max().item() <= tolerance * expected.abs().max().item()


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.value)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [False, True])
def test_a_kernel_found_batch_invariant_is(kernel: DecodeKernel, dtype: str, bias: bool) -> None:
    """Batched greedy answers equal one-at-a-time ones only if every row's result is
    bit-identical whatever the batch size, and laid out like F.linear's (contiguous). Which
    kernels manage that depends on the CPU's BLAS routines, so the engine checks it when it
    measures: a kernel that passes its check passes this exhaustive one, on other data."""
    _needs(kernel, dtype)
    layer, _ = _layer(kernel, dtype, bias, seed=1)
    forward = decode_forwards.FORWARDS[kernel]
    with torch.inference_mode():
        verdict = kernel_timing._batch_invariant(forward, layer, getattr(torch, dtype))
    if not verdict:
        pytest.skip(f"{kernel.value} in {dtype} is not batch-invariant on this CPU")
    x = (torch.randn(16, 1, 256) * 3).to(getattr(torch, dtype))
    alone = [_forward(kernel, layer, x[row : row + 1]) for row in range(16)]
    for size in range(2, 17):
        batched = _forward(kernel, layer, x[:size])
        assert batched.is_contiguous()
        for row in range(size):
            assert torch.equal(batched[row : row + 1], alone[row]), (size, row)


def test_decode_rows_are_one_token_per_answer_up_to_sixteen() -> None:
    assert decode_rows(torch.zeros(1, 1, 8)) == 1
    assert decode_rows(torch.zeros(16, 1, 8)) == 16
    assert decode_rows(torch.zeros(17, 1, 8)) == 0
    assert decode_rows(torch.zeros(1, 2, 8)) == 0
    assert decode_rows(torch.zeros(4, 8)) == 0


def test_batch_invariant_kernels_rank_first() -> None:
    fast = kernel_timing.KernelTiming(DecodeKernel.LINEAR, {1: 30.0}, batch_invariant=False)
    slow = kernel_timing.KernelTiming(DecodeKernel.MATVEC, {1: 10.0})
    assert sorted([fast, slow], key=lambda t: t.rank) == [slow, fast]
    assert "rows differ by batch size" in cpu_kernels._describe_timing(fast)


@pytest.mark.parametrize("dtype", DTYPES)
def test_measuring_times_every_candidate_and_leaves_the_layers_alone(dtype: str) -> None:
    torch.manual_seed(3)
    layers = [torch.nn.Linear(128, 384).to(getattr(torch, dtype)) for _ in range(4)]
    before = [layer.weight.clone() for layer in layers]
    kernels = candidates(getattr(torch, dtype))
    timings = measure_kernels(layers, kernels, rows=(1, 4))
    assert [t.kernel for t in timings] == kernels
    for timing in timings:
        assert set(timing.read_gbs) == {1, 4}
        assert all(rate > 0 for rate in timing.read_gbs.values())
        assert 0 < timing.seconds_per_gb < float("inf")
    for layer, weight in zip(layers, before, strict=True):
        assert not layer.weight.is_mkldnn
        assert torch.equal(layer.weight, weight)


def test_a_kernel_that_fails_here_is_no_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    def unsupported(_weight: Any) -> Any:
        raise NotImplementedError("no reorder for this CPU")

    monkeypatch.setattr(kernel_timing, "packed_weight", unsupported)
    layers = [torch.nn.Linear(64, 64).to(torch.bfloat16) for _ in range(2)]
    measured = [DecodeKernel.LINEAR, DecodeKernel.MATVEC, DecodeKernel.ONEDNN]
    timings = measure_kernels(layers, measured, rows=(1,))
    assert [t.kernel for t in timings] == [DecodeKernel.LINEAR, DecodeKernel.MATVEC]


def test_measuring_samples_only_the_first_layers() -> None:
    layers = [torch.nn.Linear(64, 64) for _ in range(10)]
    per_layer = 64 * 64 * 4
    assert len(kernel_timing._sample(layers, 3 * per_layer)) == 3
    assert len(kernel_timing._sample(layers, 100 * per_layer)) == 10


def _tiny_tied_model() -> Any:
    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(50, 32)
            self.body = torch.nn.Linear(32, 32)
            self.head = torch.nn.Linear(32, 50, bias=False)
            self.head.weight = self.embed.weight

        def get_output_embeddings(self) -> Any:
            return self.head

        def get_input_embeddings(self) -> Any:
            return self.embed

    return Tiny()


def test_the_fastest_measured_kernel_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _tiny_tied_model().to(torch.bfloat16)
    rates = {DecodeKernel.LINEAR: 10.0, DecodeKernel.MATVEC: 12.0, DecodeKernel.ONEDNN: 11.0}

    def fake_measure(layers: Any, kernels: Any, **_: Any) -> list[Any]:
        assert model.head not in layers  # the head (the whole vocabulary) is not sampled
        return [kernel_timing.KernelTiming(k, {1: rates[k], 4: rates[k]}) for k in kernels]

    monkeypatch.setattr(cpu_kernels, "measure_kernels", fake_measure)
    monkeypatch.delenv(KERNEL_ENV, raising=False)
    choice = choose_kernels(model, [model.body, model.head])
    assert choice.kernel is DecodeKernel.MATVEC
    assert choice.head_kernel is DecodeKernel.MATVEC
    assert not choice.forced
    assert "matvec (fastest measured)" in choice.describe()
    assert choice.to_dict()["read_gbs"]["linear"] == {1: 10.0, 4: 10.0}


def test_the_log_does_not_call_a_slower_batch_invariant_kernel_the_fastest() -> None:
    """Kernels whose rows depend on the batch size rank last: the reason is said, not speed."""
    timings = (
        kernel_timing.KernelTiming(LINEAR, {1: 12.0, 4: 12.0}, batch_invariant=False),
        kernel_timing.KernelTiming(ONEDNN, {1: 8.0, 4: 8.0}),
    )
    choice = KernelChoice(ONEDNN, ONEDNN, timings)
    text = choice.describe()
    assert "fastest measured" not in text
    assert "rows do not depend on the batch size; linear is faster" in text


@needs_onednn
def test_a_tied_head_outside_a_mapped_file_keeps_its_layout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Packing a head that shares its weight with the input embeddings would need a second
    copy in memory, unless the weight is a view of the mapped model file."""
    model = _tiny_tied_model().to(torch.bfloat16)
    rates = {DecodeKernel.LINEAR: 10.0, DecodeKernel.MATVEC: 8.0, DecodeKernel.ONEDNN: 20.0}
    monkeypatch.setattr(
        cpu_kernels,
        "measure_kernels",
        lambda _layers, kernels, **_: [
            kernel_timing.KernelTiming(k, {1: rates[k], 4: rates[k]}) for k in kernels
        ],
    )
    monkeypatch.delenv(KERNEL_ENV, raising=False)
    choice = choose_kernels(model, [model.body, model.head], caps=AMX)
    assert (choice.kernel, choice.head_kernel) == (DecodeKernel.ONEDNN, DecodeKernel.LINEAR)
    weight = model.head.weight
    mapped = [(weight.data_ptr(), weight.data_ptr() + weight.nbytes)]
    choice = choose_kernels(model, [model.body, model.head], mapped, caps=AMX)
    assert (choice.kernel, choice.head_kernel) == (DecodeKernel.ONEDNN, DecodeKernel.ONEDNN)


@pytest.mark.parametrize(
    "kernel",
    [
        DecodeKernel.LINEAR,
        DecodeKernel.MATVEC,
        pytest.param(DecodeKernel.ONEDNN, marks=needs_onednn),
    ],
    ids=lambda k: k.value,
)
def test_the_environment_forces_a_kernel(
    kernel: DecodeKernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _tiny_tied_model().to(torch.bfloat16)
    monkeypatch.setattr(cpu_kernels, "measure_kernels", pytest.fail)
    monkeypatch.setenv(KERNEL_ENV, kernel.value)
    choice = choose_kernels(model, [model.body, model.head], caps=AMX)
    assert choice.kernel is kernel
    assert choice.forced
    assert choice.timings == ()


def test_an_unknown_forced_kernel_is_measured_instead(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    model = _tiny_tied_model().to(torch.bfloat16)
    monkeypatch.setenv(KERNEL_ENV, "turbo")
    with caplog.at_level(logging.WARNING, logger="vldesk.core.inference.cpu.kernels"):
        choice = choose_kernels(model, [model.body, model.head])
    assert not choice.forced
    assert [t.kernel for t in choice.timings] == candidates(torch.bfloat16)
    assert "turbo" in caplog.text


@pytest.mark.parametrize(
    ("level", "dtype", "measured"),
    [
        ("amx", "bfloat16", [LINEAR, MATVEC, ONEDNN]),
        ("avx512_bf16", "bfloat16", [LINEAR, MATVEC, ONEDNN]),
        ("avx512", "bfloat16", [LINEAR, MATVEC, ONEDNN]),
        ("avx2_vnni_2", "bfloat16", [LINEAR, MATVEC, ONEDNN]),
        ("avx2", "bfloat16", [LINEAR, MATVEC]),
        ("avx2", "float32", [LINEAR, MATVEC, ONEDNN]),
        ("amx", "float16", [LINEAR, MATVEC]),
    ],
)
def test_only_kernels_the_cpu_can_run_are_measured(
    level: str, dtype: str, measured: list[DecodeKernel], monkeypatch: pytest.MonkeyPatch
) -> None:
    """oneDNN packs bfloat16 only with AVX-512 or avx_ne_convert (an AMD Zen 3 CPU has
    neither), float32 everywhere, float16 nowhere this app uses it."""
    if ONEDNN in measured and not decode_forwards.onednn_built():
        measured = [LINEAR, MATVEC]  # this torch has no oneDNN at all
    model = _tiny_tied_model().to(getattr(torch, dtype))
    timed: list[list[DecodeKernel]] = []

    def fake_measure(_layers: Any, kernels: Any, **_: Any) -> list[Any]:
        timed.append(list(kernels))
        return [kernel_timing.KernelTiming(k, {1: 10.0, 4: 10.0}) for k in kernels]

    monkeypatch.setattr(cpu_kernels, "measure_kernels", fake_measure)
    monkeypatch.delenv(KERNEL_ENV, raising=False)
    choice = choose_kernels(model, [model.body, model.head], caps=CpuCapabilities.at_level(level))
    assert timed == [measured]
    assert choice.kernel in measured


@needs_onednn
def test_forcing_a_kernel_the_cpu_cannot_run_measures_instead(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    model = _tiny_tied_model().to(torch.bfloat16)
    monkeypatch.setattr(
        cpu_kernels,
        "measure_kernels",
        lambda _layers, kernels, **_: [
            kernel_timing.KernelTiming(k, {1: 10.0, 4: 10.0}) for k in kernels
        ],
    )
    monkeypatch.setenv(KERNEL_ENV, DecodeKernel.ONEDNN.value)
    with caplog.at_level(logging.WARNING, logger="vldesk.core.inference.cpu.kernels"):
        choice = choose_kernels(
            model, [model.body, model.head], caps=CpuCapabilities.at_level("avx2")
        )
    assert not choice.forced
    assert [t.kernel for t in choice.timings] == [LINEAR, MATVEC]
    assert "onednn is not available for torch.bfloat16 weights on this CPU (AVX2)" in caplog.text


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_check_says_what_onednn_really_packs_here(dtype: str) -> None:
    """The app's check against the kernel itself, on this CPU, with oneDNN's ISA cap as set
    (only the app's own override, which narrows on purpose, is left out)."""
    real = detect({name: value for name, value in os.environ.items() if name != CAPS_ENV})
    weight = torch.randn(96, 256).to(getattr(torch, dtype))
    try:
        layer = SimpleNamespace(weight=decode_forwards.packed_weight(weight), bias=None)
        out = decode_forwards.onednn_forward(layer, torch.randn(1, 1, 256).to(weight.dtype))
        packs = out.shape == (1, 1, 96)
    except RuntimeError:
        packs = False
    assert decode_forwards.onednn_available(weight.dtype, real) is packs


@pytest.mark.parametrize("quantized", ["int8", "int4"])
def test_quantized_weights_cannot_be_forced_as_a_kernel(
    quantized: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Quantized weights change the answers, so they come only from the weights setting."""
    model = _tiny_tied_model().to(torch.bfloat16)
    monkeypatch.setenv(KERNEL_ENV, quantized)
    with caplog.at_level(logging.WARNING, logger="vldesk.core.inference.cpu.kernels"):
        choice = choose_kernels(model, [model.body, model.head])
    assert choice.kernel is not DecodeKernel(quantized)
    assert not choice.forced
    assert quantized in caplog.text


@pytest.fixture
def mapped_file(tmp_path: Path) -> Iterator[tuple[Any, mmap.mmap]]:
    """A float32 tensor that is a private, copy-on-write view of a ``.safetensors`` file, as
    transformers maps model weights."""
    path = tmp_path / "model.safetensors"
    values = torch.arange(4 * mmap.PAGESIZE, dtype=torch.float32)
    path.write_bytes(values.numpy().tobytes())
    with path.open("r+b") as handle:
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
    yield torch.frombuffer(mapping, dtype=torch.float32), mapping
    mapping.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
def test_pages_of_a_mapped_weight_are_dropped_and_read_again(
    mapped_file: tuple[Any, mmap.mmap],
) -> None:
    tensor, _mapping = mapped_file
    expected = tensor.clone()
    ranges = decode_forwards.mapped_weight_files()
    assert any(s <= tensor.data_ptr() and tensor.data_ptr() + tensor.nbytes <= e for s, e in ranges)
    # Only whole pages inside the tensor's bytes: here all but the partial ones at the ends.
    inner = tensor[10:-10]
    assert decode_forwards.drop_file_pages(inner.data_ptr(), inner.nbytes, ranges)
    assert torch.equal(tensor, expected)
    # Memory that is not a mapped weight file is never touched.
    other = torch.ones(4 * mmap.PAGESIZE)
    assert not decode_forwards.drop_file_pages(other.data_ptr(), other.nbytes, ranges)
    assert torch.equal(other, torch.ones(4 * mmap.PAGESIZE))


# --- through the engine, on tiny models of each family ---------------------------------------


@pytest.mark.parametrize("family", list(Family), ids=lambda f: f.value)
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.value)
@pytest.mark.parametrize("dtype", DTYPES)
def test_batched_answers_equal_single_ones_with_every_kernel(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    family: Family,
    kernel: DecodeKernel,
    dtype: str,
) -> None:
    from vldesk.core.inference.transformers_engine import TransformersEngine

    _needs(kernel, dtype)
    monkeypatch.setenv(KERNEL_ENV, kernel.value)
    engine = TransformersEngine.load(
        lively_model_dir(tmp_path_factory, family), device="cpu", dtype=dtype
    )
    try:
        assert isinstance(engine.cpu_kernels, KernelChoice)
        assert engine.cpu_kernels.kernel is kernel
        body = cpu_kernels.decoder_linears(engine.model)[0]
        with torch.inference_mode():
            if not kernel_timing._batch_invariant(body.forward.func, body, body.weight.dtype):
                pytest.skip(f"{kernel.value} in {dtype} is not batch-invariant on this CPU")
        settings = GenerationSettings(max_new_tokens=6, max_image_tokens=32)
        conversations = [Conversation().ask("What is this?", [p]) for p in distinct_pictures()]
        single = [engine.generate(c, settings).text for c in conversations]
        batched = [r.text for r in engine.generate_batch(conversations, settings)]
    finally:
        engine.unload()
    assert batched == single
    assert len(set(single)) > 1  # the answers depend on the picture: the check means something


def test_a_converted_tied_head_keeps_its_layout(
    tiny_model_dirs: dict[Family, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Weights converted to float32 from the file's bfloat16 are copies: packing the head that
    shares its weight with the input embeddings would hold it twice, so it keeps its layout."""
    from vldesk.core.inference.transformers_engine import TransformersEngine

    _needs(DecodeKernel.ONEDNN, "float32")
    monkeypatch.setenv(KERNEL_ENV, DecodeKernel.ONEDNN.value)
    converted = TransformersEngine.load(
        tiny_model_dirs[Family.QWEN3_VL], device="cpu", dtype="float32"
    )
    try:
        assert converted.cpu_kernels is not None
        assert converted.cpu_kernels.kernel is DecodeKernel.ONEDNN
        assert converted.cpu_kernels.head_kernel is not DecodeKernel.ONEDNN
        assert not converted.model.get_output_embeddings().weight.is_mkldnn
    finally:
        converted.unload()


def test_a_packed_tied_head_leaves_the_embeddings_intact(
    tiny_model_dirs: dict[Family, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Weights loaded in the file's precision (bfloat16) are views of the mapped file: the tied
    head is packed, the embeddings keep reading their rows from the file, unchanged."""
    from safetensors import safe_open

    from vldesk.core.inference.transformers_engine import TransformersEngine

    _needs(DecodeKernel.ONEDNN, "bfloat16")
    folder = tiny_model_dirs[Family.QWEN3_VL]
    monkeypatch.setenv(KERNEL_ENV, DecodeKernel.ONEDNN.value)
    engine = TransformersEngine.load(folder, device="cpu", dtype="bfloat16")
    try:
        assert engine.cpu_kernels is not None
        assert engine.cpu_kernels.head_kernel is DecodeKernel.ONEDNN
        model = engine.model
        assert model.get_output_embeddings().weight.is_mkldnn
        embedding = model.get_input_embeddings().weight
        assert not embedding.is_mkldnn
        with safe_open(str(folder / "model.safetensors"), framework="pt") as weights:
            key = next(k for k in weights.keys() if k.endswith("embed_tokens.weight"))  # noqa: SIM118
            assert torch.equal(embedding, weights.get_tensor(key))
        result = engine.generate(
            Conversation().ask("Hi", [distinct_pictures()[0]]),
            GenerationSettings(max_new_tokens=4, ignore_eos=True, max_image_tokens=16),
        )
        assert result.stats.new_tokens == 4
    finally:
        engine.unload()


def test_a_cpu_without_bfloat16_packing_loads_and_answers_without_onednn(
    tiny_model_dirs: dict[Family, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on an AMD Zen 3 CPU (AVX2 only, forced by the override on any machine): float32 is
    the automatic precision; bfloat16 asked for measures and installs only kernels that run."""
    from vldesk.core.inference.transformers_engine import TransformersEngine

    folder = tiny_model_dirs[Family.QWEN3_VL]
    monkeypatch.setenv(CAPS_ENV, "avx2")
    monkeypatch.delenv(KERNEL_ENV, raising=False)
    automatic = TransformersEngine.load(folder, device="cpu")
    try:
        assert automatic.choice.dtype is Precision.FLOAT32
    finally:
        automatic.unload()
    engine = TransformersEngine.load(folder, device="cpu", dtype="bfloat16")
    try:
        assert engine.cpu_kernels is not None
        assert set(engine.cpu_kernels.to_dict()["read_gbs"]) == {"linear", "matvec"}
        assert not any(m.weight.is_mkldnn for m in cpu_kernels.decoder_linears(engine.model))
        result = engine.generate(
            Conversation().ask("Hi", [distinct_pictures()[0]]),
            GenerationSettings(max_new_tokens=3, ignore_eos=True, max_image_tokens=16),
        )
        assert result.stats.new_tokens == 3
    finally:
        engine.unload()
