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

import functools
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vldesk.core.inference.cpu import capabilities as cpu_capabilities
from vldesk.core.inference.cpu.capabilities import CpuCapabilities
from vldesk.core.inference.cpu.decode_forwards import (
    FORWARDS,
    QUANTIZED_KERNELS,
    DecodeKernel,
    drop_file_pages,
    mapped_weight_files,
    onednn_available,
    pack_for_onednn,
    within_mapping,
)
from vldesk.core.inference.cpu.kernel_timing import KernelTiming, measure_kernels
from vldesk.core.inference.cpu.process import release_freed_memory
from vldesk.core.inference.cpu.quantized_weights import (
    WeightFormat,
    available,
    products_dtype,
    quantizable,
    quantize_layer,
)
from vldesk.core.inference.cpu.quantized_weights import loading_dtype as quantized_loading_dtype

log = logging.getLogger(__name__)

#: Set to ``linear``, ``matvec`` or ``onednn`` to use that kernel instead of measuring
#: (benchmarks and tests).
KERNEL_ENV = "VLDESK_CPU_KERNEL"


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
        how = "forced" if self.forced else self._why_measured()
        if self.kernel in QUANTIZED_KERNELS:
            how = "weights quantized"
        text = f"{self.kernel.value} ({how}), output head {self.head_kernel.value}"
        rates = "; ".join(_describe_timing(t) for t in self.timings)
        return f"{text}; GB/s read: {rates}" if rates else text

    def _why_measured(self) -> str:
        """Kernels whose rows change with the batch size rank last whatever their speed: say so
        when that, not speed, made the choice."""
        chosen = next((t for t in self.timings if t.kernel is self.kernel), None)
        if chosen is None or not self.timings:
            return "measured"
        fastest = min(self.timings, key=lambda t: t.seconds_per_gb)
        if fastest.seconds_per_gb >= chosen.seconds_per_gb:
            return "fastest measured"
        return (
            "the fastest whose rows do not depend on the batch size; "
            f"{fastest.kernel.value} is faster"
        )

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
    head_packable = not tied or within_mapping(head.weight.data_ptr(), head.weight.nbytes, mapped)
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
        layer.forward = functools.partial(FORWARDS[kernel], layer)
    log.info("CPU decode kernels for %d linear layers: %s", len(layers), choice.describe())
    return choice


def loading_dtype(weights: WeightFormat, dtype: Any, file_bfloat16: bool) -> Any:
    """The precision to load a model in for ``weights`` on this CPU, when it runs in ``dtype``
    and its file holds bfloat16 weights only (``file_bfloat16``).

    Where it runs in float32 and the file is bfloat16, bfloat16: the weights stay views of the
    mapped file, and :func:`install_decode_kernels` converts them (or quantizes them, see
    :func:`vldesk.core.inference.cpu.quantized_weights.loading_dtype`) one tensor at a time,
    dropping each one's file pages, instead of loading a whole float32 copy beside the file's
    pages (a peak of 13.5 GB for the 2B model, docs/performance.md). A float16 or float32 file
    loads as it runs: rounding it to bfloat16 would change its numbers."""
    import torch

    if not file_bfloat16 or dtype != torch.float32:
        return dtype
    if weights is WeightFormat.FULL:
        return torch.bfloat16
    if not available(weights, dtype):
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
                drop_file_pages(address, size, mapped)
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
            drop_file_pages(old.data_ptr(), old.nbytes, mapped)
            del old
            # Quantizing leaves freed scratch (int32 values, float32 rows) scattered in the
            # heap; handed back each layer, it does not pile up into the loading peak.
            release_freed_memory()
        counts[kernel] = counts.get(kernel, 0) + 1
        if layer is head:
            head_kernel = kernel
        layer.forward = functools.partial(FORWARDS[kernel], layer)
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
