"""Quantized weights (int8, int4) for the text decoder on the CPU: accuracy, the kernels'
limits, the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.core.batch.test_runner import distinct_pictures, lively_model_dir
from vldesk.core.errors import DeviceError
from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.models.catalog import Family

torch = pytest.importorskip("torch")

from vldesk.core.inference.cpu import kernel_timing  # noqa: E402
from vldesk.core.inference.cpu import kernels as cpu_kernels  # noqa: E402
from vldesk.core.inference.cpu.decode_forwards import DecodeKernel  # noqa: E402
from vldesk.core.inference.cpu.quantized_weights import (  # noqa: E402
    FORWARDS,
    INT4_GROUP,
    WeightFormat,
    available,
    dequantize_int4,
    int4_values,
    products_dtype,
    quantizable,
    quantize_int4,
    quantize_int8,
    quantize_layer,
)

DTYPES = [torch.bfloat16, torch.float32]
FORMATS = [WeightFormat.INT8, WeightFormat.INT4]
#: Relative error of a layer's output against its full weights (Gaussian random weights).
LAYER_ERROR = {WeightFormat.INT8: 0.01, WeightFormat.INT4: 0.1}


def _needs(fmt: WeightFormat) -> Any:
    return pytest.mark.skipif(
        not available(fmt, torch.bfloat16), reason=f"no {fmt.value} kernel in this torch"
    )


QUANTIZED = [pytest.param(fmt, marks=_needs(fmt), id=fmt.value) for fmt in FORMATS]


def _layer(width: int = 128, out: int = 96, bias: bool = False, dtype: Any = torch.float32) -> Any:
    """A linear layer with Gaussian weights (a larger spread than the default init: the
    relative error of quantization does not depend on it)."""
    torch.manual_seed(5)
    layer = torch.nn.Linear(width, out, bias=bias).to(dtype)
    layer.requires_grad_(False)
    return layer


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_int8_weights_are_the_nearest_grid_points_of_their_stored_scales(dtype: Any) -> None:
    weight = torch.randn(300, 256).to(dtype)
    weight[7] = 0  # a row of zeros gets a tiny scale, not a division by zero
    original = weight.clone()
    steps, scales = quantize_int8(weight)
    assert torch.equal(weight, original)  # the source is left alone
    assert steps.dtype == torch.int8
    assert scales.dtype == dtype
    assert int(steps.abs().max()) == 127
    assert not torch.isnan(scales.float()).any()
    assert torch.equal(steps[7], torch.zeros(256, dtype=torch.int8))
    restored = steps.float() * scales.float()[:, None]
    error = (restored - weight.float()).norm() / weight.float().norm()
    assert float(error) < 0.01
    assert bool(((restored - weight.float()).abs() <= scales.float()[:, None] / 2 + 1e-6).all())


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_int4_weights_are_the_nearest_grid_points_of_their_groups(dtype: Any) -> None:
    weight = torch.randn(48, 256).to(dtype)
    weight[3, :INT4_GROUP] = 0.5  # a constant group: zero range, no division by zero
    original = weight.clone()
    values, scales_zeros = quantize_int4(weight)
    assert torch.equal(weight, original)
    assert values.dtype == torch.int32
    assert int(values.min()) >= 0
    assert int(values.max()) == 15
    assert scales_zeros.shape == (256 // INT4_GROUP, 48, 2)
    assert scales_zeros.dtype == dtype
    restored = dequantize_int4(values, scales_zeros, torch.float32)
    assert not torch.isnan(restored).any()
    error = (restored - weight.float()).norm() / weight.float().norm()
    assert float(error) < 0.1
    step = scales_zeros[..., 0].t().float().repeat_interleave(INT4_GROUP, dim=1)
    assert bool(((restored - weight.float()).abs() <= step / 2 + 1e-3).all())
    torch.testing.assert_close(restored[3, :INT4_GROUP], weight[3, :INT4_GROUP].float())


@pytest.mark.parametrize("fmt", QUANTIZED)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (4, 1), (16, 1), (17, 1), (1, 7), (3, 300)])
def test_a_quantized_layer_computes_the_product_of_its_dequantized_weights(
    fmt: WeightFormat, dtype: Any, bias: bool, shape: tuple[int, int]
) -> None:
    """Decode steps take the quantized kernel, prompts the weights turned back into the
    activations' precision: both give the product with the dequantized weight, close to the
    full one."""
    layer = _layer(bias=bias, dtype=dtype)
    full = layer.weight.float().clone()
    quantize_layer(layer, fmt)
    if fmt is WeightFormat.INT8:
        dequantized = layer.weight.float() * layer.weight_scale.float()[:, None]
    else:
        dequantized = dequantize_int4(int4_values(layer), layer.weight_scales_zeros, torch.float32)
    x = torch.randn(*shape, 128).to(dtype)
    with torch.inference_mode():
        out = FORWARDS[fmt](layer, x)
    bias_value = None if layer.bias is None else layer.bias.float()
    expected = torch.nn.functional.linear(x.float(), dequantized, bias_value)
    assert out.shape == (*x.shape[:-1], 96)
    assert out.dtype == dtype
    tolerance = 0.02 if dtype == torch.bfloat16 else 1e-4
    assert float((out.float() - expected).norm() / expected.norm()) < tolerance
    exact = torch.nn.functional.linear(x.float(), full, bias_value)
    assert float((out.float() - exact).norm() / exact.norm()) < LAYER_ERROR[fmt]


@pytest.mark.parametrize("fmt", QUANTIZED)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_the_quantized_kernels_give_a_row_the_same_bits_in_any_batch(
    fmt: WeightFormat, dtype: Any
) -> None:
    layer = _layer(dtype=dtype)
    quantize_layer(layer, fmt)
    with torch.inference_mode():
        assert kernel_timing._batch_invariant(FORWARDS[fmt], layer, dtype)


@pytest.mark.parametrize("fmt", QUANTIZED)
def test_float32_rows_are_multiplied_in_bfloat16_on_x86(fmt: WeightFormat) -> None:
    """torch's int8/int4 kernels are vectorized for bfloat16 rows only (float32 rows: 13-30x
    slower, docs/performance.md), so CPUs that run float32 round the decode rows."""
    assert products_dtype(fmt, torch.float32, "x86_64") == torch.bfloat16
    assert products_dtype(fmt, torch.bfloat16, "x86_64") == torch.bfloat16
    assert products_dtype(fmt, torch.float32, "arm64") == torch.float32


@pytest.mark.parametrize("fmt", QUANTIZED)
@pytest.mark.parametrize("rows", [1, 4, 16])
def test_float32_rows_in_bfloat16_products_stay_accurate(fmt: WeightFormat, rows: int) -> None:
    """Against the float32 product with the same dequantized weights, rounding the rows adds
    about bfloat16's 0.4 %; against the full weights the format's own error dominates."""
    layer = _layer(bias=True)
    full = layer.weight.clone()
    quantize_layer(layer, fmt, torch.bfloat16)
    if fmt is WeightFormat.INT8:
        assert layer.weight_scale.dtype == torch.bfloat16
        dequantized = layer.weight.float() * layer.weight_scale.float()[:, None]
    else:
        dequantized = dequantize_int4(int4_values(layer), layer.weight_scales_zeros, torch.float32)
    x = torch.randn(rows, 1, 128)
    with torch.inference_mode():
        out = FORWARDS[fmt](layer, x)
        # One sequence of twice the rows: a prompt, never a decode step.
        prompt = FORWARDS[fmt](layer, x.view(1, rows, 128).repeat(1, 2, 1))[0, :rows, None]
    assert out.dtype == torch.float32
    expected = torch.nn.functional.linear(x, dequantized, layer.bias)
    assert float((out - expected).norm() / expected.norm()) < 0.01
    assert float((prompt - expected).norm() / expected.norm()) < 1e-4  # prompts: float32
    exact = torch.nn.functional.linear(x, full, layer.bias)
    assert float((out - exact).norm() / exact.norm()) < LAYER_ERROR[fmt]


@pytest.mark.parametrize("fmt", QUANTIZED)
def test_bfloat16_products_give_a_float32_row_the_same_bits_in_any_batch(
    fmt: WeightFormat,
) -> None:
    layer = _layer()
    quantize_layer(layer, fmt, torch.bfloat16)
    with torch.inference_mode():
        assert kernel_timing._batch_invariant(FORWARDS[fmt], layer, torch.float32)


@_needs(WeightFormat.INT4)
@pytest.mark.parametrize("rows", [128, 48])
def test_int4_prompts_read_the_values_the_kernel_was_given(rows: int) -> None:
    """Where the kernel's packed layout is verified for a shape, no second copy is kept and
    the values read from it are exactly those quantized; elsewhere a plain copy is."""
    from vldesk.core.inference.cpu.quantized_weights import kernel_layout_known

    layer = _layer(width=128, out=rows, dtype=torch.bfloat16)
    values, _ = quantize_int4(layer.weight)
    quantize_layer(layer, WeightFormat.INT4)
    known = kernel_layout_known(rows, 128)
    assert hasattr(layer, "weight_nibbles") is not known
    if rows % 64:
        assert not known  # not a whole number of the layout's 64-row blocks
    assert torch.equal(int4_values(layer).to(torch.int32), values)


def test_only_layers_of_shapes_the_kernels_handle_are_quantized() -> None:
    # torch 2.13's bfloat16 int8 kernel crashed for some widths that are not multiples of 16;
    # the int4 kernel takes groups of 32 inputs and blocks of 16 outputs.
    assert quantizable(_layer(width=128), WeightFormat.INT8)
    assert quantizable(_layer(width=2048), WeightFormat.INT8)
    assert not quantizable(_layer(width=24), WeightFormat.INT8)
    assert not quantizable(_layer(width=96), WeightFormat.INT8)
    assert quantizable(_layer(width=96, out=32), WeightFormat.INT4)
    assert not quantizable(_layer(width=80, out=32), WeightFormat.INT4)
    assert not quantizable(_layer(width=128, out=40), WeightFormat.INT4)
    assert not quantizable(_layer(), WeightFormat.FULL)


# --- through the engine -----------------------------------------------------------------------


def _text_linears(model: Any) -> list[Any]:
    return [
        module
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and "visual" not in name.split(".")
    ]


@pytest.mark.parametrize("fmt", QUANTIZED)
@pytest.mark.parametrize("family", list(Family), ids=lambda f: f.value)
@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_the_engine_answers_with_quantized_weights(
    tmp_path_factory: pytest.TempPathFactory, family: Family, dtype: str, fmt: WeightFormat
) -> None:
    """Every decoder layer a kernel takes is quantized (the vision tower keeps its weights;
    with int4 the output head is int8), the logits stay near the full weights' and batched
    answers equal single ones."""
    from vldesk.core.inference.transformers_engine import TransformersEngine

    folder = lively_model_dir(tmp_path_factory, family)
    conversations = [Conversation().ask("What is this?", [p]) for p in distinct_pictures()]
    settings = GenerationSettings(max_new_tokens=6, max_image_tokens=32)
    full = TransformersEngine.load(folder, device="cpu", dtype=dtype)
    try:
        inputs = full.prepare_inputs(conversations[0], settings)
        with torch.inference_mode():
            full_logits = full.model(**inputs).logits[0, -4:].float()
    finally:
        full.unload()
    engine = TransformersEngine.load(folder, device="cpu", dtype=dtype, weights=fmt.value)
    try:
        assert engine.weights is fmt
        assert engine.cpu_kernels is not None
        assert engine.cpu_kernels.kernel is DecodeKernel(fmt.value)
        assert engine.cpu_kernels.head_kernel is DecodeKernel.INT8
        assert f"{fmt.value} weights" in engine.describe()
        layers = _text_linears(engine.model)
        held = {torch.int8: WeightFormat.INT8, torch.uint8: WeightFormat.INT4}
        quantized = [layer for layer in layers if layer.weight.dtype in held]
        assert any(held[layer.weight.dtype] is fmt for layer in quantized)
        assert all(quantizable(layer, held[layer.weight.dtype]) for layer in quantized)
        kept = [layer for layer in layers if layer.weight.dtype not in held]
        assert all(layer.weight.dtype == getattr(torch, dtype) for layer in kept)
        visual = [p for n, p in engine.model.named_parameters() if "visual" in n.split(".")]
        assert visual
        assert all(p.dtype == getattr(torch, dtype) for p in visual)
        with torch.inference_mode():
            logits = engine.model(**inputs).logits[0, -4:].float()
        # Random weights ten times the usual size amplify every rounding (int4: about 50 %
        # here, docs/performance.md); logits unrelated to the full ones (a broken scale or
        # layout) differ by about 140 % (the square root of 2).
        bound = 0.1 if fmt is WeightFormat.INT8 else 0.8
        assert float((logits - full_logits).norm() / full_logits.norm()) < bound
        single = [engine.generate(c, settings).text for c in conversations]
        batched = [r.text for r in engine.generate_batch(conversations, settings)]
        # The comparison means something: the answers depend on the picture (int4 can make a
        # tiny random model's greedy text the same for all three; its logits still differ).
        with torch.inference_mode():
            last = [
                engine.model(**engine.prepare_inputs(c, settings)).logits[0, -1].float()
                for c in conversations[:2]
            ]
    finally:
        engine.unload()
    assert batched == single
    assert len(set(single)) > 1 or not torch.allclose(last[0], last[1])


def test_unknown_weights_are_a_clear_error(tiny_model_dirs: dict[Family, Path]) -> None:
    from vldesk.core.inference.transformers_engine import TransformersEngine

    with pytest.raises(DeviceError, match="Unknown weights 'int3'"):
        TransformersEngine.load(tiny_model_dirs[Family.QWEN3_VL], device="cpu", weights="int3")


def test_without_an_int8_kernel_the_weights_stay_full(
    tiny_model_dirs: dict[Family, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from vldesk.core.inference.transformers_engine import TransformersEngine

    monkeypatch.setattr(cpu_kernels, "available", lambda _fmt, _dtype: False)
    engine = TransformersEngine.load(tiny_model_dirs[Family.QWEN3_VL], device="cpu", weights="int8")
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


FROM_THE_FILE = [
    *(pytest.param(WeightFormat.FULL, family, id=f"full-{family.value}") for family in Family),
    *(pytest.param(p.values[0], Family.QWEN3_VL, marks=p.marks, id=p.id) for p in QUANTIZED),
]


def test_float32_engines_load_bfloat16_files_as_bfloat16_only() -> None:
    """A float32 engine loads a bfloat16 file as it is stored and converts it afterwards; a
    float16 or float32 file, or a bfloat16 engine, loads as it runs."""
    assert cpu_kernels.loading_dtype(WeightFormat.FULL, torch.float32, True) == torch.bfloat16
    for fmt in WeightFormat:
        assert cpu_kernels.loading_dtype(fmt, torch.float32, False) == torch.float32
        assert cpu_kernels.loading_dtype(fmt, torch.bfloat16, True) == torch.bfloat16
        assert cpu_kernels.loading_dtype(fmt, torch.float16, True) == torch.float16


@pytest.mark.parametrize(("fmt", "family"), FROM_THE_FILE)
def test_float32_engines_convert_from_the_file_with_the_same_numbers(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    fmt: WeightFormat,
    family: Family,
) -> None:
    """A float32 engine converts (full weights) or quantizes (int8, int4) the file's bfloat16
    weights one tensor at a time instead of loading a whole float32 copy: every weight,
    buffer and logit is the one the copy gave (the copy holds the same values), and
    everything but the quantized layers runs in float32."""
    from vldesk.core.inference import transformers_loading as loading_module
    from vldesk.core.inference.transformers_engine import TransformersEngine

    folder = lively_model_dir(tmp_path_factory, family)
    conversation = Conversation().ask("What is this?", [distinct_pictures()[0]])
    settings = GenerationSettings(max_new_tokens=4, max_image_tokens=32)
    loaded_in: list[Any] = []
    choose = loading_module.loading_dtype

    def loading_dtype(weights: WeightFormat, dtype: Any, file_bfloat16: bool) -> Any:
        loaded_in.append(choose(weights, dtype, file_bfloat16))
        return loaded_in[-1]

    def converted_state(engine: Any) -> tuple[dict[str, Any], Any]:
        inputs = engine.prepare_inputs(conversation, settings)
        with torch.inference_mode():
            logits = engine.model(**inputs).logits[0, -4:].float()
        state = {
            name: tensor.clone()
            for name, tensor in engine.model.state_dict().items()
            if not tensor.is_mkldnn
        }
        return state, logits

    monkeypatch.setattr(loading_module, "loading_dtype", loading_dtype)
    from_file = TransformersEngine.load(folder, device="cpu", dtype="float32", weights=fmt.value)
    try:
        assert loaded_in == [torch.bfloat16]
        assert from_file.weights is fmt
        floating = [
            (name, tensor.dtype)
            for name, tensor in from_file.model.state_dict().items()
            if tensor.is_floating_point() and not name.endswith(("weight_scale", "zeros"))
        ]
        assert {dtype for _, dtype in floating} == {torch.float32}
        ours, our_logits = converted_state(from_file)
    finally:
        from_file.unload()
    monkeypatch.setattr(loading_module, "loading_dtype", lambda _weights, dtype, _file: dtype)
    from_copy = TransformersEngine.load(folder, device="cpu", dtype="float32", weights=fmt.value)
    try:
        theirs, their_logits = converted_state(from_copy)
    finally:
        from_copy.unload()
    assert ours.keys() == theirs.keys()
    for name, tensor in ours.items():
        assert tensor.dtype == theirs[name].dtype, name
        assert torch.equal(tensor, theirs[name]), name
    assert torch.equal(our_logits, their_logits)
