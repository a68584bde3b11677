"""CPU kernels: measure which way of multiplying by a model's weights decodes fastest here.

A decode step multiplies one new token per answer by every weight of the text decoder, so its
speed is how fast the kernel streams the weights from memory. Which kernel does that best
depends on the CPU and the precision (docs/performance.md): on an Intel CPU with AMX,
``torch.mv`` read bfloat16 weights at about 82 % of the memory bandwidth and ``F.linear`` at 70 %;
on an AMD Zen 4 CPU ``torch.mv`` read them at a third of the rate of weights reordered once for
oneDNN. So the engine times each candidate on the model's own weights when it loads
and routes the decoder's linear layers through the fastest one.

Candidates that give an answer's row the same bits whatever the batch size come first (checked
on the weights, as it differs between CPUs), so batched greedy captions equal one-at-a-time
answers. Only kernels this build and CPU can run are candidates: oneDNN packs bfloat16 only
with AVX-512 (BW, VL, DQ) or ``avx_ne_convert``
(:mod:`vldesk.core.inference.cpu.capabilities`), and a
kernel that still fails when timed is dropped.
"""

from __future__ import annotations

import enum
import functools
import logging
import mmap
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from vldesk.core.inference.cpu import capabilities as cpu_capabilities
from vldesk.core.inference.cpu.capabilities import CpuCapabilities
from vldesk.core.inference.cpu.decode_rows import SMALL_ROWS, decode_rows
from vldesk.core.inference.cpu.quantized_weights import (
    WeightFormat,
    available,
    int4_forward,
    int8_forward,
    products_dtype,
    quantizable,
    quantize_layer,
)
from vldesk.core.inference.cpu.quantized_weights import loading_dtype as quantized_loading_dtype

log = logging.getLogger(__name__)

#: Set to ``linear``, ``matvec`` or ``onednn`` to use that kernel instead of measuring
#: (benchmarks and tests).
KERNEL_ENV = "VLDESK_CPU_KERNEL"
#: How much of the decoder's weights the measurement multiplies by: larger than CPU caches, so
#: it times memory reads as a real decode step does.
SAMPLE_BYTES = 256 * 1024**2
#: A single decode row is multiplied as this many identical rows (see :func:`_padded`).
PADDED_ROWS = 4
#: Timed passes over the sample per kernel and batch size (the fastest counts: on a shared
#: machine the slower ones measure the neighbours).
_PASSES = 3
#: Batch sizes a decode kernel is timed at: an interactive answer and a folder batch.
TIMED_ROWS = (1, 4)


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


_FORWARDS: dict[DecodeKernel, Callable[[Any, Any], Any]] = {
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
    _drop_file_pages(old.data_ptr(), old.nbytes, mapped)


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


def _inside(address: int, size: int, mapped: Sequence[tuple[int, int]]) -> bool:
    """Whether ``[address, address + size)`` lies wholly inside one of the ``mapped`` ranges."""
    return any(start <= address and address + size <= end for start, end in mapped)


def _drop_file_pages(address: int, size: int, mapped: Sequence[tuple[int, int]]) -> bool:
    """Drop the whole pages of ``[address, address + size)`` from this process's memory, if the
    range lies inside a mapped weight file; returns whether it did. Only pages wholly inside
    the range are touched: a neighbouring tensor's bytes never are."""
    if size <= 0 or not _inside(address, size, mapped):
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


@dataclass(frozen=True)
class KernelTiming:
    """How fast one kernel read the sampled weights, in GB/s, per batch size."""

    kernel: DecodeKernel
    read_gbs: dict[int, float]
    #: Each row got the same bits alone as in every batch size it was checked at.
    batch_invariant: bool = True

    @property
    def seconds_per_gb(self) -> float:
        """Time per GB, summed over :data:`TIMED_ROWS`, so interactive answers and folder
        batches count alike."""
        return sum(1 / rate if rate > 0 else float("inf") for rate in self.read_gbs.values())

    @property
    def rank(self) -> tuple[bool, float]:
        """Kernels are ranked batch-invariant first, then by :attr:`seconds_per_gb`."""
        return (not self.batch_invariant, self.seconds_per_gb)


@dataclass(frozen=True)
class KernelChoice:
    """The decode kernels a model runs with, and the measurements behind the choice."""

    kernel: DecodeKernel
    #: The output head's kernel: a head tied to the input embeddings keeps its layout.
    head_kernel: DecodeKernel
    timings: tuple[KernelTiming, ...] = ()
    #: Set through :data:`KERNEL_ENV` rather than measured.
    forced: bool = False
    layers: int = 0
    #: The output head was packed apart from the input embeddings it shared its weight with:
    #: the embeddings read their rows from the mapped file, so the weight is not held twice.
    tied_head_packed: bool = False

    def describe(self) -> str:
        how = "forced" if self.forced else "fastest measured"
        if self.kernel in QUANTIZED_KERNELS:
            how = "weights quantized"
        text = f"{self.kernel.value} ({how}), output head {self.head_kernel.value}"
        rates = "; ".join(_describe_timing(t) for t in self.timings)
        return f"{text}; GB/s read: {rates}" if rates else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "kernel": self.kernel.value,
            "head_kernel": self.head_kernel.value,
            "forced": self.forced,
            "layers": self.layers,
            "tied_head_packed": self.tied_head_packed,
            "read_gbs": {t.kernel.value: t.read_gbs for t in self.timings},
            "batch_invariant": {t.kernel.value: t.batch_invariant for t in self.timings},
        }


def _describe_timing(timing: KernelTiming) -> str:
    rates = ", ".join(
        f"{rows} row{'s' if rows > 1 else ''} {gbs:.1f}" for rows, gbs in timing.read_gbs.items()
    )
    invariant = "" if timing.batch_invariant else " (rows differ by batch size)"
    return f"{timing.kernel.value} {rates}{invariant}"


def candidates(dtype: Any, caps: CpuCapabilities | None = None) -> list[DecodeKernel]:
    """The kernels worth timing for weights of ``dtype`` with this torch on a CPU with ``caps``
    (this machine's by default)."""
    kernels = [DecodeKernel.LINEAR, DecodeKernel.MATVEC]
    if onednn_available(dtype, caps):
        kernels.append(DecodeKernel.ONEDNN)
    return kernels


def _sample(layers: Sequence[Any], budget: int) -> list[Any]:
    """Consecutive layers from the start whose weights add up to about ``budget`` bytes."""
    sample: list[Any] = []
    total = 0
    for layer in layers:
        if total >= budget:
            break
        sample.append(layer)
        total += layer.weight.numel() * layer.weight.element_size()
    return sample


def measure_kernels(
    layers: Sequence[Any],
    kernels: Sequence[DecodeKernel],
    *,
    sample_bytes: int = SAMPLE_BYTES,
    rows: Sequence[int] = TIMED_ROWS,
) -> list[KernelTiming]:
    """Time each kernel multiplying decode rows by the weights of the first ``sample_bytes``
    of ``layers`` (nn.Linear); the layers are left as they are."""
    import torch

    sample = _sample(layers, sample_bytes)
    if not sample:
        return []
    size = sum(layer.weight.numel() * layer.weight.element_size() for layer in sample)
    dtype = sample[0].weight.dtype
    generator = torch.Generator().manual_seed(0)
    inputs = {
        (count, width): torch.randn(count, 1, width, generator=generator).to(dtype)
        for count in rows
        for width in {layer.in_features for layer in sample}
    }
    timings = []
    with torch.inference_mode():
        for kernel in kernels:
            try:
                timings.append(_time_kernel(kernel, sample, inputs, rows, size, dtype))
            except (RuntimeError, NotImplementedError, TypeError) as exc:
                # A kernel this build or CPU cannot run for these weights is simply not a
                # candidate (oneDNN's reorder is not implemented everywhere).
                log.info("decode kernel %s unavailable: %s", kernel.value, exc)
    return timings


def _time_kernel(
    kernel: DecodeKernel,
    sample: Sequence[Any],
    inputs: dict[tuple[int, int], Any],
    rows: Sequence[int],
    size: int,
    dtype: Any,
) -> KernelTiming:
    modules: Sequence[Any] = sample
    if kernel is DecodeKernel.ONEDNN:
        modules = [
            SimpleNamespace(
                weight=packed_weight(layer.weight), bias=layer.bias, in_features=layer.in_features
            )
            for layer in sample
        ]
    forward = _FORWARDS[kernel]
    rates = {count: size / _best_seconds(forward, modules, inputs, count) / 1e9 for count in rows}
    widest = max(modules, key=lambda module: module.in_features)
    invariant = all(_batch_invariant(forward, m, dtype) for m in (modules[0], widest))
    return KernelTiming(kernel, rates, invariant)


def _batch_invariant(forward: Callable[[Any, Any], Any], module: Any, dtype: Any) -> bool:
    """Whether every decode row through ``module`` gets the same bits alone as in batches of
    2 to 16. Which BLAS routine runs for which batch size differs between CPUs and precisions
    (float32 on an AMD Zen 4 CPU fails for ``F.linear``), so it is checked, not assumed."""
    import torch

    generator = torch.Generator().manual_seed(1)
    x = torch.randn(SMALL_ROWS, 1, module.in_features, generator=generator).to(dtype)
    alone = [forward(module, x[row : row + 1]) for row in range(SMALL_ROWS)]
    for size in (2, 3, 4, 5, 8, SMALL_ROWS):
        batched = forward(module, x[:size])
        if not all(torch.equal(batched[row : row + 1], alone[row]) for row in range(size)):
            return False
    return True


def _best_seconds(
    forward: Callable[[Any, Any], Any],
    modules: Sequence[Any],
    inputs: dict[tuple[int, int], Any],
    rows: int,
) -> float:
    """The fastest of :data:`_PASSES` passes of ``rows`` decode rows through ``modules``,
    after a warm-up pass (first-call setup, kernel selection)."""
    best = float("inf")
    for attempt in range(_PASSES + 1):
        start = time.perf_counter()
        for module in modules:
            forward(module, inputs[rows, module.in_features])
        if attempt:
            best = min(best, time.perf_counter() - start)
    return best


def _forced_kernel() -> DecodeKernel | None:
    value = os.environ.get(KERNEL_ENV, "").strip().lower()
    if not value or value == "auto":
        return None
    try:
        return DecodeKernel(value)
    except ValueError:
        log.warning(
            "%s=%s is not one of %s: measuring instead",
            KERNEL_ENV,
            value,
            ", ".join(k.value for k in DecodeKernel),
        )
        return None


def decoder_linears(model: Any) -> list[Any]:
    """The text decoder's linear layers on the CPU and the output head, in model order. The
    vision tower runs once per image on many rows: it keeps ``F.linear``."""
    import torch

    return [
        module
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
        and "visual" not in name.split(".")
        and module.weight.device.type == "cpu"
        and module.weight.dtype in (torch.bfloat16, torch.float32)
    ]


def _head_is_tied(model: Any) -> bool:
    head = model.get_output_embeddings()
    embedding = model.get_input_embeddings()
    if head is None or embedding is None:
        return False
    return bool(head.weight.data_ptr() == embedding.weight.data_ptr())


def choose_kernels(
    model: Any,
    layers: Sequence[Any],
    mapped: Sequence[tuple[int, int]] = (),
    caps: CpuCapabilities | None = None,
) -> KernelChoice:
    """The fastest kernel for ``layers`` among the :func:`candidates` for a CPU with ``caps``
    (this machine's by default): measured, or forced through :data:`KERNEL_ENV`.

    A head tied to the input embeddings can be packed only when the shared weight is a view of
    the mapped model file (``mapped``): the embeddings then read just the rows they look up from
    the file, so the packed head costs no second copy in memory. Otherwise it takes the fastest
    kernel that keeps the weight as it is.
    """
    import torch

    head = model.get_output_embeddings()
    tied = head is not None and _head_is_tied(model)
    head_packable = not tied or _inside(head.weight.data_ptr(), head.weight.nbytes, mapped)
    caps = caps if caps is not None else cpu_capabilities.detect()
    dtype = layers[0].weight.dtype if layers else None
    kernels = candidates(dtype, caps) if layers else [DecodeKernel.LINEAR]
    forced = _forced_kernel()
    if forced is not None and forced not in kernels:
        log.warning(
            "%s=%s is not available for %s weights on this CPU (%s): measuring instead",
            KERNEL_ENV,
            forced.value,
            dtype,
            caps.describe(),
        )
        forced = None
    timings: list[KernelTiming] = []
    if forced is None and layers:
        started = time.perf_counter()
        body = [layer for layer in layers if layer is not head]
        timings = measure_kernels(body or layers, kernels)
        log.info(
            "decode kernels timed in %.2f s on %d threads",
            time.perf_counter() - started,
            torch.get_num_threads(),
        )
    ranked = [t.kernel for t in sorted(timings, key=lambda t: t.rank)]
    ranked = [forced] if forced is not None else ranked or [DecodeKernel.LINEAR]
    best = ranked[0]
    head_kernel = best
    if best is DecodeKernel.ONEDNN and not head_packable:
        head_kernel = next((k for k in ranked[1:]), DecodeKernel.LINEAR)
    return KernelChoice(
        best,
        head_kernel,
        tuple(timings),
        forced=forced is not None,
        layers=len(layers),
        tied_head_packed=tied and head_kernel is DecodeKernel.ONEDNN,
    )


def install_decode_kernels(
    model: Any, weights: WeightFormat = WeightFormat.FULL, dtype: Any = None
) -> KernelChoice:
    """Route the text decoder's linear layers (and the output head) through the kernel that
    :func:`choose_kernels` picks; packs their weights for oneDNN when that one wins. With
    ``weights`` int8 or int4 they are quantized instead, where this torch and the layer allow.

    ``dtype``: the precision the model runs in, when it was loaded in another one
    (:func:`loading_dtype`): everything but the quantized layers is converted to it."""
    layers = decoder_linears(model)
    mapped = mapped_weight_files()
    if weights is not WeightFormat.FULL:
        quantized = _install_quantized(model, layers, mapped, weights)
        if quantized is not None:
            if dtype is not None:
                convert_unquantized(model, dtype)
            return quantized
    if dtype is not None:
        convert_unquantized(model, dtype)
        mapped = mapped_weight_files()
    choice = choose_kernels(model, layers, mapped)
    head = model.get_output_embeddings()
    for layer in layers:
        kernel = choice.head_kernel if layer is head else choice.kernel
        if kernel is DecodeKernel.ONEDNN:
            try:
                pack_for_onednn(layer, mapped)
            except (RuntimeError, NotImplementedError) as exc:  # the model still runs
                log.warning("could not reorder a %s weight: %s", tuple(layer.weight.shape), exc)
                kernel = DecodeKernel.LINEAR
        layer.forward = functools.partial(_FORWARDS[kernel], layer)
    log.info("CPU decode kernels for %d linear layers: %s", len(layers), choice.describe())
    return choice


def loading_dtype(weights: WeightFormat, dtype: Any) -> Any:
    """The precision to load a model in for ``weights`` on this CPU, when it runs in ``dtype``
    (:func:`vldesk.core.inference.cpu.quantized_weights.loading_dtype`)."""
    if weights is WeightFormat.FULL or not available(weights, dtype):
        return dtype  # no quantized kernel: the weights stay full, loaded as they run
    return quantized_loading_dtype(weights, dtype, cpu_capabilities.detect().arch)


#: What quantized layers multiply with, kept in their products' precision (a bias converts).
_PRODUCT_SCALES = frozenset({"weight_scale", "weight_scales_zeros"})


def convert_unquantized(model: Any, dtype: Any) -> int:
    """Convert every floating-point weight and buffer of ``model`` to ``dtype``, except what
    quantized layers multiply with (their scales stay in their products' precision); returns
    the bytes converted. A weight that was a view of the mapped model file has its pages
    dropped, so the file's copy does not stay resident beside the converted one."""
    mapped = mapped_weight_files()
    converted = 0
    for module in model.modules():
        for store in (module._parameters, module._buffers):
            for name, tensor in store.items():
                if tensor is None or not tensor.is_floating_point() or tensor.dtype == dtype:
                    continue
                if name in _PRODUCT_SCALES:
                    continue
                address, size = tensor.data_ptr(), tensor.nbytes
                tensor.data = tensor.data.to(dtype)
                converted += size
                _drop_file_pages(address, size, mapped)
    return converted


def _install_quantized(
    model: Any, layers: Sequence[Any], mapped: Sequence[tuple[int, int]], weights: WeightFormat
) -> KernelChoice | None:
    """Quantize every layer the ``weights`` kernel takes: with int4 the output head and layers
    of other shapes take int8 where they can, the rest keep ``F.linear``. ``None`` (full
    weights, measured kernels) when this torch has no such kernel for the precision."""
    dtype = layers[0].weight.dtype if layers else None
    if dtype is None or not available(weights, dtype):
        log.warning(
            "%s weights are not available with this PyTorch: keeping full weights", weights.value
        )
        return None
    int8_ok = weights is WeightFormat.INT8 or available(WeightFormat.INT8, dtype)
    arch = cpu_capabilities.detect().arch
    products = {fmt: products_dtype(fmt, dtype, arch) for fmt in (WeightFormat.INT8, weights)}
    head = model.get_output_embeddings()
    tied = head is not None and _head_is_tied(model)
    counts: dict[DecodeKernel, int] = {}
    head_kernel = DecodeKernel.LINEAR
    for layer in layers:
        fmt = WeightFormat.INT8 if layer is head else weights
        if not quantizable(layer, fmt):
            fmt = WeightFormat.INT8
        if fmt is WeightFormat.INT8 and not (int8_ok and quantizable(layer, fmt)):
            fmt = WeightFormat.FULL
        kernel = DecodeKernel.LINEAR if fmt is WeightFormat.FULL else DecodeKernel(fmt.value)
        if fmt is not WeightFormat.FULL:
            old = layer.weight
            quantize_layer(layer, fmt, products[fmt])
            _drop_file_pages(old.data_ptr(), old.nbytes, mapped)
            del old
        counts[kernel] = counts.get(kernel, 0) + 1
        if layer is head:
            head_kernel = kernel
        layer.forward = functools.partial(_FORWARDS[kernel], layer)
    log.info(
        "%s weights: %s of %d decoder linear layers (output head %s); decode products in %s",
        weights.value,
        ", ".join(f"{count} {kernel.value}" for kernel, count in counts.items()),
        len(layers),
        head_kernel.value,
        products[weights],
    )
    return KernelChoice(
        DecodeKernel(weights.value),
        head_kernel,
        layers=len(layers),
        tied_head_packed=tied and head_kernel is not DecodeKernel.LINEAR,
    )


def patch_as_linear(module: Any, x: Any) -> Any:
    """``module(x)`` for a Conv3d whose kernel equals its stride, fed one kernel window per
    item (the vision patch embedding): the same product as one matrix multiply."""
    import torch.nn.functional as F

    if tuple(x.shape[2:]) != tuple(module.kernel_size):
        return module._conv_forward(x, module.weight, module.bias)
    weight = module.weight.reshape(module.out_channels, -1)
    out = F.linear(x.reshape(x.shape[0], -1), weight, module.bias)
    return out.reshape(x.shape[0], module.out_channels, *([1] * (x.dim() - 2)))


def use_patch_linear(model: Any) -> int:
    """Run the vision patch embeddings (Conv3d, kernel = stride, no padding) as linear layers;
    returns how many. On CPU oneDNN's 3-D convolution takes about 0.45 s for a 1024-token image
    in bfloat16, the linear 0.02 s (docs/performance.md)."""

    import torch

    count = 0
    for module in model.modules():
        if (
            isinstance(module, torch.nn.Conv3d)
            and tuple(module.kernel_size) == tuple(module.stride)
            and module.padding in ((0, 0, 0), "valid")
            and tuple(module.dilation) == (1, 1, 1)
            and module.groups == 1
        ):
            module.forward = functools.partial(patch_as_linear, module)
            count += 1
    return count
