"""What one benchmark phase runs: plain data, so it can go to a worker process as JSON."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from vldesk.core.generation import DEFAULT_IMAGE_TOKENS

#: The "brief" preset's question: what a folder captioning job asks.
CAPTION_PROMPT = "Describe this image in one or two sentences."


@dataclass(frozen=True)
class PhaseSpec:
    """The model, images and lengths of one phase. New tokens are fixed (end-of-text is
    ignored) so that every run decodes the same amount."""

    model_dir: str
    model_name: str = "model"
    device: str = "auto"
    dtype: str = "auto"
    weights: str = "full"
    #: Photos for the batch and the interactive "default budget" case (the first one).
    photos: tuple[str, ...] = ()
    #: A 1024x1024 image for the second interactive case.
    square_image: str | None = None
    new_tokens: int = 32
    caption_tokens: int = 48
    batch_size: int = 4
    max_image_tokens: int = DEFAULT_IMAGE_TOKENS
    prompt: str = CAPTION_PROMPT
    repeats: int = 1
    #: Wait up to this many seconds for other processes to go quiet before each timed run.
    quiet_wait_s: float = 20.0
    #: Memory the bandwidth test streams through (far more than any cache) and the matrix size.
    ceiling_bytes: int = 2 * 1024**3
    matmul_size: int = 2048
    #: ``time.time()`` when the parent started this phase's process (0: not measured).
    started_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhaseSpec:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "photos" in values:
            values["photos"] = tuple(values["photos"])
        return cls(**values)


def median_of(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Field-wise median of repeated runs (numbers), keeping the first run's other values."""
    if not runs:
        return {}
    merged = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            numbers = [run[key] for run in runs if isinstance(run.get(key), (int, float))]
            merged[key] = statistics.median(numbers)
    merged["repeats"] = len(runs)
    return merged


def rate(count: float, seconds: float) -> float:
    return count / seconds if count > 0 and seconds > 0 else 0.0
