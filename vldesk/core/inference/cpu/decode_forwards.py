"""The decode kernels' forwards: torch's linear, a matrix-vector product, oneDNN packed weights."""

from __future__ import annotations

import enum
import functools
import mmap
import sys
from collections.abc import Callable, Sequence
from typing import Any

from vldesk.core.inference.cpu import capabilities as cpu_capabilities
from vldesk.core.inference.cpu.capabilities import CpuCapabilities
from vldesk.core.inference.cpu.decode_rows import decode_rows
from vldesk.core.inference.cpu.quantized_weights import int4_forward, int8_forward

#: A single decode row is multiplied as this many identical rows (see :func:`_padded`).
PADDED_ROWS = 4


class DecodeKernel(enum.Enum):
    """How a decode step multiplies by a linear layer's weight."""

    #: ``F.linear`` (one row padded to two: see :func:`_padded`).
    LINEAR = "linear"
    #: ``torch.mv`` for one row, the weight on the left of the product for 2 to 16 rows.
    MATVEC = "matvec"
    #: Weights reordered once into oneDNN's blocked layout (one row padded to two). Replaces
    #: the weights in memory, so a head tied to the input embeddings cannot take it.
    ONEDNN = "onednn"
    #: Weights quantized to int8 or int4 (:mod:`vldesk.core.inference.cpu.quantized_weights`):
    #: chosen by the user, as they change the answers slightly; never measured against the others.
    INT8 = "int8"
    INT4 = "int4"


#: The kernels of quantized weights, named as their :class:`WeightFormat`.
QUANTIZED_KERNELS = frozenset({DecodeKernel.INT8, DecodeKernel.INT4})


def _padded(x: Any) -> Any:
    """One decode row repeated to :data:`PADDED_ROWS` rows.

    BLAS and oneDNN multiply a single row with a matrix-vector routine whose sums run in
    another order than the matrix routine they use from two rows on: a padded row gets the
    bits it would get in any batch. oneDNN's small-batch routine also streams the weights
    faster with a few rows than with two (docs/performance.md), and the extra rows cost no
    extra weight reads.
    """
    return x.expand(PADDED_ROWS, *x.shape[1:]).contiguous()


def linear_forward(module: Any, x: Any) -> Any:
    """``module(x)`` for an ``nn.Linear`` through ``F.linear``, one decode row padded to two."""
    import torch.nn.functional as F

    if decode_rows(x) == 1:
        return F.linear(_padded(x), module.weight, module.bias)[:1]
    return F.linear(x, module.weight, module.bias)


def matvec_forward(module: Any, x: Any) -> Any:
    """``module(x)`` for an ``nn.Linear``; a decode step takes a matrix-vector route:
    ``torch.mv`` for one row, the product with the weight as the left operand for 2 to 16."""
    import torch
    import torch.nn.functional as F

    rows = decode_rows(x)
    if rows == 0:
        return F.linear(x, module.weight, module.bias)
    weight = module.weight
    if rows == 1:
        out = torch.mv(weight, x.reshape(-1)).reshape(1, 1, -1)
    else:
        # Contiguous like F.linear's output: attention kernels downstream depend on the layout.
        out = (weight @ x.reshape(rows, -1).t()).t().contiguous().reshape(rows, 1, -1)
    return out + module.bias if module.bias is not None else out


def onednn_forward(module: Any, x: Any) -> Any:
    """``module(x)`` for a linear layer whose weight :func:`pack_for_onednn` reordered."""
    import torch

    if decode_rows(x) == 1:
        return torch.ops.mkldnn._linear_pointwise(
            _padded(x), module.weight, module.bias, "none", [], ""
        )[:1]
    return torch.ops.mkldnn._linear_pointwise(x, module.weight, module.bias, "none", [], "")


FORWARDS: dict[DecodeKernel, Callable[[Any, Any], Any]] = {
    DecodeKernel.LINEAR: linear_forward,
    DecodeKernel.MATVEC: matvec_forward,
    DecodeKernel.ONEDNN: onednn_forward,
    DecodeKernel.INT8: int8_forward,
    DecodeKernel.INT4: int4_forward,
}


@functools.cache
def onednn_built() -> bool:
    """Whether this torch can reorder linear weights for oneDNN at all (x86 builds can)."""
    try:
        import torch

        return bool(torch.backends.mkldnn.is_available()) and callable(
            torch.ops.mkldnn._reorder_linear_weight
        )
    except (ImportError, AttributeError, RuntimeError):
        return False


def onednn_available(dtype: Any, caps: CpuCapabilities | None = None) -> bool:
    """Whether weights of ``dtype`` can be packed for oneDNN here: this torch has it and the
    CPU (``caps``, else this machine's as the environment leaves them) runs that precision."""
    caps = caps if caps is not None else cpu_capabilities.detect()
    return caps.onednn_packs(dtype) and onednn_built()


def packed_weight(weight: Any) -> Any:
    """``weight`` reordered into oneDNN's blocked layout for small batches (a new tensor)."""
    import torch

    return torch.ops.mkldnn._reorder_linear_weight(weight.detach(), 1)


def pack_for_onednn(module: Any, mapped: Sequence[tuple[int, int]] = ()) -> None:
    """Replace an ``nn.Linear``'s weight by its oneDNN layout. The old one is freed, or its
    pages dropped when it lies in the ``mapped`` model file (:func:`mapped_weight_files`)."""
    import torch

    old = module.weight
    module.weight = torch.nn.Parameter(packed_weight(old), requires_grad=False)
    drop_file_pages(old.data_ptr(), old.nbytes, mapped)


#: madvise(2) advice: drop the pages; a private file mapping reads them from the file again.
_MADV_DONTNEED = 4


def mapped_weight_files() -> list[tuple[int, int]]:
    """Address ranges where this process maps ``.safetensors`` files (Linux).

    transformers memory-maps the weights: the model's tensors are views of the file, so a
    weight that was replaced by a packed copy still counts in the process's memory once its
    pages were read, until they are dropped.
    """
    if not sys.platform.startswith("linux"):
        return []
    ranges = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].rstrip("\n").endswith(".safetensors"):
                    start, end = (int(part, 16) for part in fields[0].split("-"))
                    ranges.append((start, end))
    except OSError:
        return []
    return ranges


def within_mapping(address: int, size: int, mapped: Sequence[tuple[int, int]]) -> bool:
    """Whether ``[address, address + size)`` lies wholly inside one of the ``mapped`` ranges."""
    return any(start <= address and address + size <= end for start, end in mapped)


def drop_file_pages(address: int, size: int, mapped: Sequence[tuple[int, int]]) -> bool:
    """Drop the whole pages of ``[address, address + size)`` from this process's memory, if the
    range lies inside a mapped weight file; returns whether it did. Only pages wholly inside
    the range are touched: a neighbouring tensor's bytes never are."""
    if size <= 0 or not within_mapping(address, size, mapped):
        return False
    page = mmap.PAGESIZE
    first = -(-address // page) * page
    last = (address + size) // page * page
    if last <= first:
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return bool(libc.madvise(first, last - first, _MADV_DONTNEED) == 0)
