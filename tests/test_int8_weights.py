"""int8 weights for the text decoder on the CPU: accuracy, the kernel's limits, the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vldesk.core.catalog import Family
from vldesk.core.errors import DeviceError
from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.images import LoadedImage

torch = pytest.importorskip("torch")

from vldesk.core import cpu_kernels  # noqa: E402
from vldesk.core.cpu_kernels import DecodeKernel  # noqa: E402
from vldesk.core.int8_weights import (  # noqa: E402
    WeightFormat,
    int8_available,
    int8_forward,
    quantizable,
    quantize,
    quantize_layer,
)

DTYPES = [torch.bfloat16, torch.float32]
needs_int8 = pytest.mark.skipif(
    not int8_available(torch.bfloat16), reason="no int8 kernel in this torch"
)


def _layer(width: int = 128, out: int = 96, bias: bool = False, dtype: Any = torch.float32) -> Any:
    torch.manual_seed(5)
    layer = torch.nn.Linear(width, out, bias=bias).to(dtype)
    layer.requires_grad_(False)
    return layer


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_quantized_weights_are_close_and_use_the_scales_they_are_stored_with(dtype: Any) -> None:
    weight = torch.randn(300, 256).to(dtype)
    weight[7] = 0  # a row of zeros gets a tiny scale, not a division by zero
    steps, scales = quantize(weight)
    assert steps.dtype == torch.int8
    assert scales.dtype == dtype
    assert int(steps.abs().max()) == 127
    assert not torch.isnan(scales.float()).any()
    assert torch.equal(steps[7], torch.zeros(256, dtype=torch.int8))
    restored = steps.float() * scales.float()[:, None]
    error = (restored - weight.float()).norm() / weight.float().norm()
    assert float(error) < 0.01
    # Each entry is the nearest grid point of its row's scale: at most half a step off.
    step = scales.float()[:, None]
    assert bool(((restored - weight.float()).abs() <= step / 2 + 1e-6).all())


@needs_int8
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (4, 1), (16, 1), (17, 1), (1, 7), (3, 300)])
def test_int8_layer_computes_the_product_of_its_dequantized_weights(
    dtype: Any, bias: bool, shape: tuple[int, int]
) -> None:
    """Decode steps take the int8 kernel, prompts the int8 values as a matrix of the
    activations' precision: both give the product with the dequantized weight."""
    layer = _layer(bias=bias, dtype=dtype)
    quantize_layer(layer)
    dequantized = layer.weight.float() * layer.weight_scale.float()[:, None]
    x = torch.randn(*shape, 128).to(dtype)
    with torch.inference_mode():
        out = int8_forward(layer, x)
    expected = torch.nn.functional.linear(
        x.float(), dequantized, None if layer.bias is None else layer.bias.float()
    )
    assert out.shape == (*x.shape[:-1], 96)
    assert out.dtype == dtype
    tolerance = 0.02 if dtype == torch.bfloat16 else 1e-4
    assert float((out.float() - expected).norm() / expected.norm()) < tolerance


@needs_int8
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_the_int8_kernel_gives_a_row_the_same_bits_in_any_batch(dtype: Any) -> None:
    layer = _layer(dtype=dtype)
    quantize_layer(layer)
    with torch.inference_mode():
        assert cpu_kernels._batch_invariant(int8_forward, layer, dtype)


def test_only_layers_of_a_width_the_kernel_handles_are_quantized() -> None:
    # torch 2.13's bfloat16 kernel crashed for some widths that are not multiples of 16.
    assert quantizable(_layer(width=128))
    assert quantizable(_layer(width=2048))
    assert not quantizable(_layer(width=24))
    assert not quantizable(_layer(width=96))


# --- through the engine -----------------------------------------------------------------------


def _lively(tmp_path_factory: pytest.TempPathFactory, family: Family) -> Path:
    from tests.test_batch_runner import lively_model_dir

    return lively_model_dir(tmp_path_factory, family)


def _text_linears(model: Any) -> list[Any]:
    return [
        module
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and "visual" not in name.split(".")
    ]


def _pictures() -> list[LoadedImage]:
    from PIL import Image, ImageDraw

    pictures = []
    for index, size in enumerate([(64, 64), (96, 64), (64, 128)]):
        image = Image.new("RGB", size, (index * 80 % 256, 200 - index * 50, 90))
        ImageDraw.Draw(image).ellipse((4, 4, size[0] // 2, size[1] - 4), fill=(250, 20, index))
        pictures.append(LoadedImage(image, f"p{index}.png", size))
    return pictures


@needs_int8
@pytest.mark.parametrize("family", list(Family), ids=lambda f: f.value)
@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_the_engine_answers_with_int8_weights(
    tmp_path_factory: pytest.TempPathFactory, family: Family, dtype: str
) -> None:
    """Every decoder layer the kernel takes is int8 (the vision tower keeps its weights), the
    logits stay close to full weights, and batched answers equal single ones."""
    from vldesk.core.engine import Engine

    folder = _lively(tmp_path_factory, family)
    conversations = [Conversation().ask("What is this?", [p]) for p in _pictures()]
    settings = GenerationSettings(max_new_tokens=6, max_image_tokens=32)
    full = Engine.load(folder, device="cpu", dtype=dtype)
    try:
        inputs = full.prepare_inputs(conversations[0], settings)
        with torch.inference_mode():
            full_logits = full.model(**inputs).logits[0, -4:].float()
    finally:
        full.unload()
    engine = Engine.load(folder, device="cpu", dtype=dtype, weights="int8")
    try:
        assert engine.weights is WeightFormat.INT8
        assert engine.cpu_kernels is not None
        assert engine.cpu_kernels.kernel is DecodeKernel.INT8
        layers = _text_linears(engine.model)
        quantized = [layer for layer in layers if layer.weight.dtype == torch.int8]
        assert quantized
        assert all(quantizable(layer) for layer in quantized)
        kept = [layer for layer in layers if layer.weight.dtype != torch.int8]
        assert all(layer.weight.dtype == getattr(torch, dtype) for layer in kept)
        visual = [p for n, p in engine.model.named_parameters() if "visual" in n.split(".")]
        assert visual
        assert all(p.dtype == getattr(torch, dtype) for p in visual)
        with torch.inference_mode():
            logits = engine.model(**inputs).logits[0, -4:].float()
        # Random weights ten times the usual size amplify every rounding (the real-size random
        # model moved by 5.5 %, docs/performance.md); a broken scale or layout moves them ~100 %.
        assert float((logits - full_logits).norm() / full_logits.norm()) < 0.1
        single = [engine.generate(c, settings).text for c in conversations]
        batched = [r.text for r in engine.generate_batch(conversations, settings)]
    finally:
        engine.unload()
    assert batched == single
    assert len(set(single)) > 1


def test_unknown_weights_are_a_clear_error(tiny_model_dirs: dict[Family, Path]) -> None:
    from vldesk.core.engine import Engine

    with pytest.raises(DeviceError, match="Unknown weights 'int3'"):
        Engine.load(tiny_model_dirs[Family.QWEN3_VL], device="cpu", weights="int3")


def test_without_an_int8_kernel_the_weights_stay_full(
    tiny_model_dirs: dict[Family, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from vldesk.core.engine import Engine

    monkeypatch.setattr(cpu_kernels, "int8_available", lambda _dtype: False)
    engine = Engine.load(tiny_model_dirs[Family.QWEN3_VL], device="cpu", weights="int8")
    try:
        assert engine.weights is WeightFormat.FULL
        assert engine.cpu_kernels is not None
        assert engine.cpu_kernels.kernel is not DecodeKernel.INT8
        layers = _text_linears(engine.model)
        assert layers
        assert all(layer.weight.dtype != torch.int8 for layer in layers)
    finally:
        engine.unload()
    assert "int8 weights are not available" in caplog.text
