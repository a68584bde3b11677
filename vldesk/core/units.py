"""Sizes and durations for people: one convention everywhere (decimal kB/MB/GB, like downloads)."""

from __future__ import annotations


def format_bytes(size: int | float) -> str:
    """``4.3 GB`` style sizes (decimal units, as download sizes are usually quoted)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def format_duration(seconds: float | None) -> str:
    """``1h05m`` / ``4m09s`` / ``12s``; ``--`` when unknown (an ETA before any speed is known)."""
    if seconds is None:
        return "--"
    whole = int(seconds + 0.5)
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    if whole >= 60:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole}s"


__all__ = ["format_bytes", "format_duration"]
