"""Quantized weights for the text decoder on the CPU: fewer bytes for each decode step to read.

A decode step is bound by how fast the weights stream from memory. Held as int8 (one scale per
output channel) or int4 (a scale and a zero point per 32 weights), they take a half or about a
quarter of the bytes of bfloat16, and PyTorch's ``_weight_int8pack_mm`` and
``_weight_int4pack_mm_for_cpu`` multiply them without converting the matrix first. On a 2-core
AMD Zen 4 CPU, for a 6144x2048 layer and one answer: bfloat16 1.3-1.5 ms, int8 0.86 ms, int4
0.42 ms (docs/performance.md).

A prompt's many rows run faster as one matrix multiply in the activations' precision, so they
take the weights converted back (int4 reads its values from the kernel's packed layout where
that layout is verified for the shape, else from a second, plain copy).

The price is accuracy: a layer's output moves by about 1 % (int8) or 8 % (int4, random
weights) against bfloat16's 0.2 %, which is why it is an option and not the default. The output
head stays int8 with int4 weights (its errors reach every token's probabilities directly).
"""

from __future__ import annotations

import enum
import functools
import logging
from typing import Any

from vldesk.core.inference.cpu.decode_rows import decode_rows

log = logging.getLogger(__name__)


class WeightFormat(enum.Enum):
    """How the text decoder's weights are held on the CPU."""

    #: As loaded: the precision of :class:`vldesk.core.models.catalog.Precision`.
    FULL = "full"
    #: int8 with one scale per output channel.
    INT8 = "int8"
    #: int4 with a scale and a zero point per :data:`INT4_GROUP` weights of a row.
    INT4 = "int4"


WEIGHT_CHOICES = tuple(f.value for f in WeightFormat)


def weight_format(value: str | None) -> WeightFormat:
    """The format a setting or a loaded model names (``"int8"``); full weights for none or
    any other name (a GGUF file's quantization)."""
    try:
        return WeightFormat((value or "").strip().lower())
    except ValueError:
        return WeightFormat.FULL


#: Layers whose input width is not a multiple of this keep their weights. torch 2.13's
#: bfloat16 int8 kernel crashed or returned garbage for widths that are not multiples of 16
#: (seen: 8, 17, 24); every catalog model's widths are multiples of 64.
INT8_WIDTH_MULTIPLE = 64
#: Weights of one row sharing an int4 scale and zero point (the kernel takes 32 to 256; 32
#: is the most accurate, 7.9 % error against 9.9 % at 128, and as fast at one row).
INT4_GROUP = 32
#: The int4 kernel packs output rows in blocks of 16.
INT4_ROWS_MULTIPLE = 16
#: Output rows per block of the x86 int4 kernel layout (:func:`_from_kernel_layout`).
_KERNEL_BLOCK_ROWS = 64
_INT8_LEVELS = 127
_INT4_LEVELS = 15
_QUANTIZE_ROWS = 128


# --- int8 -----------------------------------------------------------------------------------


def quantize_int8(weight: Any, scale_dtype: Any = None) -> tuple[Any, Any]:
    """``weight`` (out, in) as int8 and a scale per output row in ``scale_dtype`` (default:
    ``weight``'s precision), such that ``q * scale`` is the nearest int8 grid point for every
    entry (symmetric, per channel).

    The scales are rounded to the weight's precision *before* quantizing, so the int8 values
    fit the scales the kernel actually multiplies by (bfloat16 scales would otherwise add
    their own 0.4 % error).
    """
    import torch

    weight = weight.detach()
    scale_dtype = scale_dtype or weight.dtype
    steps = torch.empty(weight.shape, dtype=torch.int8)
    scales = torch.empty(weight.shape[0], dtype=scale_dtype)
    tiny = torch.finfo(torch.float32).tiny
    # A few rows at a time, in place: the float32 copies stay in the CPU's caches (6x faster
    # than whole-matrix passes: 2.3 s instead of 15 s for a 2B model on 2 cores).
    for start in range(0, weight.shape[0], _QUANTIZE_ROWS):
        values = weight[start : start + _QUANTIZE_ROWS].to(torch.float32, copy=True)
        scale = (values.abs().amax(dim=1) / _INT8_LEVELS).clamp_(min=tiny).to(scale_dtype)
        scales[start : start + _QUANTIZE_ROWS] = scale
        values.div_(scale.float()[:, None]).round_().clamp_(-_INT8_LEVELS, _INT8_LEVELS)
        steps[start : start + _QUANTIZE_ROWS] = values
    return steps, scales


def int8_forward(module: Any, x: Any) -> Any:
    """``module(x)`` for a linear layer that :func:`quantize_layer` made int8."""
    import torch
    import torch.nn.functional as F

    if decode_rows(x):
        rows, width = x.shape[0], x.shape[-1]
        # The kernel multiplies in its scales' precision (see :func:`products_dtype`).
        scale = module.weight_scale
        rows_in = x.reshape(rows, width).to(scale.dtype)
        out = torch._weight_int8pack_mm(rows_in, module.weight, scale)
        out = out.reshape(rows, 1, out.shape[-1]).to(x.dtype)
    else:
        # int8 values are exact in bfloat16 and float32; the scales apply to the output.
        out = F.linear(x, module.weight.to(x.dtype)) * module.weight_scale
    return out + module.bias if module.bias is not None else out


# --- int4 -----------------------------------------------------------------------------------


def quantize_int4(weight: Any, scale_dtype: Any = None) -> tuple[Any, Any]:
    """``weight`` (out, in) as int4 values 0-15 (int32, one per entry) and, per group of
    :data:`INT4_GROUP` entries of a row, a scale and a zero point: ``(groups, out, 2)`` in
    ``scale_dtype`` (default: ``weight``'s precision), the kernel's layout. An entry is
    ``(q - 8) * scale + zero``.

    Scale and zero point are rounded to the weight's precision before quantizing, so every
    value is the nearest grid point of what the kernel multiplies by.
    """
    import torch

    weight = weight.detach()
    scale_dtype = scale_dtype or weight.dtype
    rows, width = weight.shape
    groups = width // INT4_GROUP
    values_out = torch.empty((rows, width), dtype=torch.int32)
    params = torch.empty((rows, groups, 2), dtype=scale_dtype)
    tiny = torch.finfo(torch.float32).tiny
    for start in range(0, rows, _QUANTIZE_ROWS):
        block = weight[start : start + _QUANTIZE_ROWS].to(torch.float32, copy=True)
        block = block.view(block.shape[0], groups, INT4_GROUP)
        low = block.amin(dim=-1)
        scale = ((block.amax(dim=-1) - low) / _INT4_LEVELS).clamp_(min=tiny)
        scale = scale.to(scale_dtype)
        zero = (low + 8 * scale.float()).to(scale_dtype)
        params[start : start + _QUANTIZE_ROWS, :, 0] = scale
        params[start : start + _QUANTIZE_ROWS, :, 1] = zero
        block.sub_(zero.float()[..., None]).div_(scale.float()[..., None]).add_(8)
        block.round_().clamp_(0, _INT4_LEVELS)
        values_out[start : start + _QUANTIZE_ROWS] = block.view(block.shape[0], width)
    return values_out, params.transpose(0, 1).contiguous()


def _nibbles(values: Any) -> Any:
    """int4 values (``(out, in)``) two to a byte: entry ``2j`` low, ``2j + 1`` high."""
    import torch

    return (values[:, ::2] | (values[:, 1::2] << 4)).to(torch.uint8)


def _from_nibbles(nibbles: Any) -> Any:
    import torch

    return torch.stack((nibbles & 15, nibbles >> 4), dim=-1).view(nibbles.shape[0], -1)


def _from_kernel_layout(packed: Any, rows: int, width: int) -> Any | None:
    """The int4 values (uint8, ``(rows, width)``) of a weight packed for the CPU kernel, read
    in the layout x86 builds of torch 2.13 use (blocks of 64 output rows; for each input
    position 32 bytes, row ``j`` of the block in the low half, row ``32 + j`` in the high half);
    ``None`` for shapes it cannot be. :func:`kernel_layout_known` checks it for a shape."""
    import torch

    if rows % _KERNEL_BLOCK_ROWS or packed.numel() * 2 != rows * width:
        return None
    half = _KERNEL_BLOCK_ROWS // 2
    blocks = packed.reshape(rows // _KERNEL_BLOCK_ROWS, width, half)
    values = torch.empty((rows // _KERNEL_BLOCK_ROWS, 2, half, width), dtype=torch.uint8)
    values[:, 0] = (blocks & 15).transpose(1, 2)
    values[:, 1] = (blocks >> 4).transpose(1, 2)
    return values.view(rows, width)


@functools.cache
def kernel_layout_known(rows: int, width: int) -> bool:
    """Whether :func:`_from_kernel_layout` reads this torch's packing of a ``(rows, width)``
    weight exactly (tried on random values of that shape): then int4 layers need no second
    copy of their values for prompts."""
    import torch

    try:
        generator = torch.Generator().manual_seed(rows * 31 + width)
        probe = torch.randint(0, 16, (rows, width), generator=generator, dtype=torch.int32)
        packed = torch._convert_weight_to_int4pack_for_cpu(probe, 1)
        values = _from_kernel_layout(packed, rows, width)
        return values is not None and torch.equal(values.to(torch.int32), probe)
    except (AttributeError, RuntimeError, NotImplementedError) as exc:
        log.info("int4 layout check failed for %dx%d: %s", rows, width, exc)
        return False


def int4_values(module: Any) -> Any:
    """An int4 layer's values 0-15 (uint8, ``(out, in)``), for turning it back into numbers."""
    nibbles = getattr(module, "weight_nibbles", None)
    if nibbles is not None:
        return _from_nibbles(nibbles)
    return _from_kernel_layout(module.weight, module.out_features, module.in_features)


def dequantize_int4(values: Any, scales_zeros: Any, dtype: Any) -> Any:
    """The ``(out, in)`` weight in ``dtype`` from its int4 ``values`` (0-15) and the scales and
    zero points :func:`quantize_int4` gave."""
    rows = values.shape[0]
    grouped = values.reshape(rows, -1, INT4_GROUP)
    scale = scales_zeros[..., 0].t().to(dtype)[..., None]
    zero = scales_zeros[..., 1].t().to(dtype)[..., None]
    return grouped.to(dtype).sub_(8).mul_(scale).add_(zero).view(rows, -1)


def int4_forward(module: Any, x: Any) -> Any:
    """``module(x)`` for a linear layer that :func:`quantize_layer` made int4."""
    import torch
    import torch.nn.functional as F

    if decode_rows(x):
        rows, width = x.shape[0], x.shape[-1]
        scales_zeros = module.weight_scales_zeros
        out = torch._weight_int4pack_mm_for_cpu(
            x.reshape(rows, width).to(scales_zeros.dtype), module.weight, INT4_GROUP, scales_zeros
        )
        out = out.reshape(rows, 1, out.shape[-1]).to(x.dtype)
        return out + module.bias if module.bias is not None else out
    weight = dequantize_int4(int4_values(module), module.weight_scales_zeros, x.dtype)
    return F.linear(x, weight, module.bias)


# --- layers ---------------------------------------------------------------------------------


def quantizable(module: Any, fmt: WeightFormat) -> bool:
    """Whether :func:`quantize_layer` may make this ``nn.Linear`` ``fmt``."""
    if module.weight.dim() != 2 or fmt is WeightFormat.FULL:
        return False
    if fmt is WeightFormat.INT8:
        return bool(module.in_features % INT8_WIDTH_MULTIPLE == 0)
    return bool(
        module.in_features % INT4_GROUP == 0 and module.out_features % INT4_ROWS_MULTIPLE == 0
    )


def quantize_layer(module: Any, fmt: WeightFormat, products_in: Any = None) -> None:
    """Replace an ``nn.Linear``'s weight by ``fmt`` values (``weight``) and what turns them
    back into numbers (``weight_scale``; ``weight_scales_zeros`` and ``weight_nibbles``).

    ``products_in``: the precision decode rows are multiplied in (default: the weight's), which
    the scales are held in; :func:`products_dtype` chooses it."""
    import torch

    if fmt is WeightFormat.INT8:
        steps, scale = quantize_int8(module.weight, products_in)
        module.weight = torch.nn.Parameter(steps, requires_grad=False)
        module.register_buffer("weight_scale", scale, persistent=False)
        return
    values, scales_zeros = quantize_int4(module.weight, products_in)
    packed = torch._convert_weight_to_int4pack_for_cpu(values, 1)
    rows, width = values.shape
    # The kernel's layout differs between CPU builds: where it is known, prompts read the
    # values from it; elsewhere a plain copy is kept (half a byte more per weight).
    nibbles = None if kernel_layout_known(rows, width) else _nibbles(values)
    del values
    module.weight = torch.nn.Parameter(packed, requires_grad=False)
    module.register_buffer("weight_scales_zeros", scales_zeros, persistent=False)
    if nibbles is not None:
        module.register_buffer("weight_nibbles", nibbles, persistent=False)


def products_dtype(fmt: WeightFormat, activations: Any, arch: str = "x86_64") -> Any:
    """The precision ``fmt`` decode products take for ``activations`` of that dtype on a CPU of
    ``arch``: float32 rows are rounded to bfloat16 on x86, where torch's int8/int4 kernels are
    vectorized for bfloat16 only. One 6144x2048 layer, one thread, AMD Zen 4 (and imitating
    AVX2): int8 10.5 ms with float32 rows against 0.8 ms (1.6); int4 21.7 against 0.7 (1.8)
    (docs/performance.md). The rounding (0.4 % per value) is below int8's own error."""
    import torch

    if (
        activations == torch.float32
        and arch == "x86_64"
        and available(fmt, torch.bfloat16)
        and available(fmt, torch.float32, products_in=torch.bfloat16)
    ):
        return torch.bfloat16
    return activations


def loading_dtype(fmt: WeightFormat, activations: Any, arch: str = "x86_64") -> Any:
    """The precision to load a model in whose text decoder becomes ``fmt`` and whose
    ``activations`` are of that dtype: bfloat16 (the file's, so the weights stay views of the
    mapped file and are quantized from it one layer at a time) where :func:`products_dtype`
    multiplies in bfloat16 anyway; the rest of the model is converted afterwards
    (:func:`vldesk.core.inference.cpu.kernels.convert_unquantized`). Otherwise ``activations``."""
    import torch

    if fmt is not WeightFormat.FULL and products_dtype(fmt, activations, arch) == torch.bfloat16:
        return torch.bfloat16
    return activations


def available(fmt: WeightFormat, dtype: Any, products_in: Any = None) -> bool:
    """Whether this torch build multiplies ``fmt`` weights by activations of ``dtype`` (in
    ``products_in`` for decode rows, default ``dtype``; checked on a small layer against its
    dequantized weights)."""
    import torch

    if fmt is WeightFormat.FULL:
        return True
    try:
        with torch.inference_mode():
            generator = torch.Generator().manual_seed(0)
            layer = torch.nn.Linear(64, 32, bias=False).to(dtype).requires_grad_(False)
            layer.weight.copy_(torch.randn(32, 64, generator=generator))
            quantize_layer(layer, fmt, products_in)
            x = torch.randn(2, 1, 64, generator=generator).to(dtype)
            out = FORWARDS[fmt](layer, x)
            if out.dtype != dtype:
                return False
            out = out.float()
            prompt = FORWARDS[fmt](layer, x.view(1, 2, 64)).float().view(2, 1, -1)
        error = (out - prompt).norm() / prompt.norm()
        return bool(out.shape == (2, 1, 32) and float(error) < 0.02)
    except (AttributeError, RuntimeError, NotImplementedError, TypeError) as exc:
        log.info("%s weights unavailable for %s: %s", fmt.value, dtype, exc)
        return False


#: How a layer of each quantized format multiplies.
FORWARDS = {WeightFormat.INT8: int8_forward, WeightFormat.INT4: int4_forward}
