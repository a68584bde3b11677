"""The machine's ceiling: memory bandwidth, matrix-multiply rates and the decode rate they allow."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

GB = 1e9


def _best_seconds(run: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` runs after one warm-up: a ceiling is what the machine *can*
    do, and on a shared machine the slower runs measure the neighbours."""
    run()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def measure_bandwidth(buffer_bytes: int = 2 * 1024**3, repeats: int = 5) -> dict[str, float]:
    """Memory read bandwidth in GB/s: a float32 sum and a copy over buffers far larger than any
    cache. ``read_gbs`` (the better of the two reads) is what decoding can hope for."""
    import torch

    rows = 4096
    count = max(rows, buffer_bytes // 4 // rows * rows)
    buffer_bytes = count * 4
    values = torch.ones(count, dtype=torch.float32)
    sum_s = _best_seconds(lambda: values.sum(), repeats)
    half = values[: values.numel() // 2]
    target = torch.empty_like(half)
    copy_s = _best_seconds(lambda: target.copy_(half), repeats)
    # A matrix-vector product is the decode kernel itself; float32 reaches the bandwidth.
    matrix = values.view(rows, -1)
    vector = torch.ones(matrix.shape[1], dtype=torch.float32)
    mv_s = _best_seconds(lambda: torch.mv(matrix, vector), repeats)
    sum_gbs = buffer_bytes / sum_s / GB
    mv_gbs = buffer_bytes / mv_s / GB
    copy_gbs = 2 * half.numel() * 4 / copy_s / GB  # read and write
    return {
        "read_gbs": max(sum_gbs, mv_gbs),
        "sum_gbs": sum_gbs,
        "mv_fp32_gbs": mv_gbs,
        "copy_gbs": copy_gbs,
        "buffer_bytes": float(buffer_bytes),
    }


def measure_matmul(size: int = 2048, repeats: int = 5) -> dict[str, float]:
    """Square matrix-multiply rates in GFLOP/s for float32 and bfloat16 (and float16 on a GPU)."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtypes = [torch.float32, torch.bfloat16] + ([torch.float16] if device == "cuda" else [])
    rates: dict[str, float] = {}
    for dtype in dtypes:
        a = torch.randn(size, size, device=device).to(dtype)
        b = torch.randn(size, size, device=device).to(dtype)

        def multiply(a: Any = a, b: Any = b) -> None:
            a @ b
            if device == "cuda":
                torch.cuda.synchronize()

        seconds = _best_seconds(multiply, repeats)
        rates[f"{str(dtype).removeprefix('torch.')}_gflops"] = 2 * size**3 / seconds / 1e9
    return rates


def decode_ceiling(bytes_per_token: int, read_gbs: float) -> float:
    """Tokens per second if each step only had to read the weights once at ``read_gbs``."""
    return read_gbs * GB / bytes_per_token if bytes_per_token else 0.0
