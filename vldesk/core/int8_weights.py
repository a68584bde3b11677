"""Weight-only int8 for the text decoder on the CPU: half the bytes each decode step reads.

A decode step is bound by how fast the weights stream from memory. Stored as int8 with one
scale per output channel, they take half the bytes of bfloat16; ``torch._weight_int8pack_mm``
multiplies them without converting the matrix first. On a 2-core AMD Zen 4 CPU that made one
answer's linear layers 1.5x faster (0.86 against 1.27 ms for a 6144x2048 layer) and four
answers' 1.4x; from eight rows on bfloat16 is faster again, and a prompt's many rows take the
weights converted back to the activations' precision (docs/performance.md).

The price is accuracy: each layer's output moves by about 1 % (relative) against bfloat16's
0.2 %, which is why it is an option and not the default.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from vldesk.core.decode_rows import decode_rows

log = logging.getLogger(__name__)

#: Layers whose input width is not a multiple of this keep their weights. torch 2.13's
#: bfloat16 int8 kernel crashed or returned garbage for widths that are not multiples of 16
#: (seen: 8, 17, 24); every catalog model's widths are multiples of 64.
WIDTH_MULTIPLE = 64
_LEVELS = 127
_QUANTIZE_ROWS = 128


class WeightFormat(enum.Enum):
    """How the text decoder's weights are held on the CPU."""

    #: As loaded: the precision of :class:`vldesk.core.catalog.Precision`.
    FULL = "full"
    #: int8 with one scale per output channel.
    INT8 = "int8"


WEIGHT_CHOICES = tuple(f.value for f in WeightFormat)


def quantize(weight: Any) -> tuple[Any, Any]:
    """``weight`` (out, in) as int8 and a scale per output row in ``weight``'s precision, such
    that ``q * scale`` is the nearest int8 grid point for every entry (symmetric, per channel).

    The scales are rounded to the weight's precision *before* quantizing, so the int8 values
    fit the scales the kernel actually multiplies by (bfloat16 scales would otherwise add
    their own 0.4 % error).
    """
    import torch

    weight = weight.detach()
    steps = torch.empty(weight.shape, dtype=torch.int8)
    scales = torch.empty(weight.shape[0], dtype=weight.dtype)
    tiny = torch.finfo(torch.float32).tiny
    # A few rows at a time, in place: the float32 copies stay in the CPU's caches (6x faster
    # than whole-matrix passes: 2.3 s instead of 15 s for a 2B model on 2 cores).
    for start in range(0, weight.shape[0], _QUANTIZE_ROWS):
        values = weight[start : start + _QUANTIZE_ROWS].to(torch.float32, copy=True)
        scale = (values.abs().amax(dim=1) / _LEVELS).clamp_(min=tiny).to(weight.dtype)
        scales[start : start + _QUANTIZE_ROWS] = scale
        values.div_(scale.float()[:, None]).round_().clamp_(-_LEVELS, _LEVELS)
        steps[start : start + _QUANTIZE_ROWS] = values
    return steps, scales


def int8_forward(module: Any, x: Any) -> Any:
    """``module(x)`` for a linear layer whose weight :func:`quantize_layer` replaced."""
    import torch
    import torch.nn.functional as F

    if decode_rows(x):
        rows, width = x.shape[0], x.shape[-1]
        out = torch._weight_int8pack_mm(x.reshape(rows, width), module.weight, module.weight_scale)
        out = out.reshape(rows, 1, out.shape[-1])
    else:
        # int8 values are exact in bfloat16 and float32; the scales apply to the output.
        out = F.linear(x, module.weight.to(x.dtype)) * module.weight_scale
    return out + module.bias if module.bias is not None else out


def quantizable(module: Any) -> bool:
    """Whether :func:`quantize_layer` may take this ``nn.Linear``."""
    return bool(module.in_features % WIDTH_MULTIPLE == 0 and module.weight.dim() == 2)


def quantize_layer(module: Any) -> None:
    """Replace an ``nn.Linear``'s weight by int8 and its per-channel scales (``weight_scale``)."""
    import torch

    steps, scale = quantize(module.weight)
    module.weight = torch.nn.Parameter(steps, requires_grad=False)
    module.register_buffer("weight_scale", scale, persistent=False)


def int8_available(dtype: Any) -> bool:
    """Whether this torch build multiplies int8 weights by activations of ``dtype``."""
    import torch

    try:
        with torch.inference_mode():
            x = torch.ones(2, 64, dtype=dtype)
            weight = torch.ones(8, 64, dtype=torch.int8)
            out = torch._weight_int8pack_mm(x, weight, torch.ones(8, dtype=dtype))
        return bool(out.shape == (2, 8) and float(out[0, 0]) == 64.0)
    except (AttributeError, RuntimeError, NotImplementedError, TypeError) as exc:
        log.info("int8 weights unavailable for %s: %s", dtype, exc)
        return False
