"""Sizes and durations: one decimal convention, the same functions wherever they are imported."""

from __future__ import annotations

import pytest

from vldesk.core import units
from vldesk.core.units import format_bytes, format_duration


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (4_300_000_000, "4.3 GB"), (2e12, "2.0 TB")],
)
def test_sizes_are_decimal(size: float, text: str) -> None:
    assert format_bytes(size) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "--"), (12.4, "12s"), (249, "4m09s"), (3900, "1h05m")]
)
def test_durations(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_the_model_store_names_the_same_functions() -> None:
    from vldesk.core.models import files, store

    assert store.format_bytes is files.format_bytes is units.format_bytes
    assert store.format_duration is files.format_duration is units.format_duration
