"""Timing the decode kernels on a sample of the model's own layers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from vldesk.core.inference.cpu.decode_forwards import FORWARDS, DecodeKernel, packed_weight
from vldesk.core.inference.cpu.decode_rows import SMALL_ROWS

log = logging.getLogger(__name__)

#: How much of the decoder's weights the measurement multiplies by: larger than CPU caches, so
#: it times memory reads as a real decode step does.
SAMPLE_BYTES = 256 * 1024**2


#: Timed passes over the sample per kernel and batch size (the fastest counts: on a shared
#: machine the slower ones measure the neighbours).
_PASSES = 3


#: Batch sizes a decode kernel is timed at: an interactive answer and a folder batch.
TIMED_ROWS = (1, 4)


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
    forward = FORWARDS[kernel]
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
