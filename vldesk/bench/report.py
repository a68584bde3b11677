"""Turn the phases' figures into ratios, target checks and a table for the terminal."""

from __future__ import annotations

from typing import Any

#: The issue's targets.
BATCH_SPEEDUP_TARGET = 3.0
DECODE_CEILING_TARGET = 0.7
WINDOW_SHOWN_TARGET_S = 1.5


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _ratio(ours: Any, baseline: Any) -> float | None:
    if isinstance(ours, (int, float)) and isinstance(baseline, (int, float)) and baseline > 0:
        return float(ours) / float(baseline)
    return None


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """Ratios against the baseline, the decode ceiling and each target (met, missed or not
    measured) from a report's phases."""
    interactive = report.get("interactive") or {}
    batch = report.get("batch") or {}
    baseline = report.get("baseline") or {}
    ceiling = report.get("ceiling") or {}
    startup = report.get("startup") or {}
    photo = _get(interactive, "cases", "photo") or {}
    base_photo = baseline.get("photo") or {}

    per_token = interactive.get("decode_bytes_per_token")
    # The best read bandwidth seen (ceiling phase, or right after decoding): conservative.
    readings = [ceiling.get("read_gbs"), interactive.get("read_gbs_after_decode")]
    read_gbs = max((r for r in readings if isinstance(r, float)), default=None)
    ceiling_tps = read_gbs * 1e9 / per_token if read_gbs is not None and per_token else None
    decode = photo.get("decode_tokens_per_s_median_step")
    ours_first = None
    if "time_to_first_token_s" in photo:
        ours_first = photo["time_to_first_token_s"] + photo.get("image_decode_s", 0.0)
    figures = {
        "batch_images_per_hour": batch.get("images_per_hour"),
        "baseline_images_per_hour": baseline.get("images_per_hour"),
        "batch_speedup": _ratio(batch.get("images_per_hour"), baseline.get("images_per_hour")),
        "photo_first_token_s": ours_first,
        "baseline_photo_first_token_s": base_photo.get("time_to_first_token_s"),
        "first_token_speedup": _ratio(base_photo.get("time_to_first_token_s"), ours_first),
        "decode_tokens_per_s": decode,
        "baseline_decode_tokens_per_s": base_photo.get("decode_tokens_per_s_median_step"),
        "decode_speedup": _ratio(decode, base_photo.get("decode_tokens_per_s_median_step")),
        "read_gbs": read_gbs,
        "decode_ceiling_tokens_per_s": ceiling_tps,
        "decode_ceiling_fraction": _ratio(decode, ceiling_tps),
        "window_shown_s": startup.get("window_shown_s"),
        "model_ready_s": startup.get("model_ready_s"),
    }
    memory = interactive.get("memory") or {}
    targets = {
        "batch_3x_baseline": _target(figures["batch_speedup"], BATCH_SPEEDUP_TARGET, above=True),
        "decode_70pct_of_ceiling": _target(
            figures["decode_ceiling_fraction"], DECODE_CEILING_TARGET, above=True
        ),
        "window_under_1_5s": _target(figures["window_shown_s"], WINDOW_SHOWN_TARGET_S, above=False),
        "peak_memory": {
            "value": memory.get("peak_over_runtime_bytes"),
            "limit": memory.get("allowance_bytes"),
            "met": memory.get("met"),
        },
    }
    return {"figures": figures, "targets": targets, "busy_phases": busy_phases(report)}


#: Other processes' share of the CPU above which a phase's figures are flagged (and re-run).
BUSY_LOAD = 0.15


def phase_load(result: Any) -> float | None:
    """The highest share of the CPU other processes took during a phase's timed runs."""
    if not isinstance(result, dict):
        return None
    loads = [result.get("other_load")]
    loads += [case.get("other_load") for case in (result.get("cases") or {}).values()]
    numbers = [load for load in loads if isinstance(load, (int, float))]
    return max(numbers) if numbers else None


def busy_phases(report: dict[str, Any]) -> dict[str, float]:
    """Phases during which other processes took more than :data:`BUSY_LOAD` of the CPU."""
    loads = {p: phase_load(report.get(p)) for p in ("ceiling", "interactive", "batch", "baseline")}
    return {phase: load for phase, load in loads.items() if load is not None and load > BUSY_LOAD}


def _target(value: Any, limit: float, *, above: bool) -> dict[str, Any]:
    met = None
    if isinstance(value, (int, float)):
        met = value >= limit if above else value < limit
    return {"value": value, "limit": limit, "met": met}


def _num(value: Any, digits: int = 1, suffix: str = "") -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def _gb(value: Any) -> str:
    return _num(value / 1e9, 2, " GB") if isinstance(value, (int, float)) else "-"


def _over_runtime(phase: dict[str, Any]) -> int | None:
    peak, runtime = phase.get("peak_rss_bytes"), phase.get("rss_before_load_bytes")
    return peak - runtime if isinstance(peak, int) and isinstance(runtime, int) else None


def _verdict(target: dict[str, Any]) -> str:
    met = target.get("met")
    return "not measured" if met is None else ("met" if met else "MISSED")


def format_table(report: dict[str, Any]) -> str:
    """The report as an aligned plain-text table."""
    summary = report.get("summary") or summarize(report)
    f, t = summary["figures"], summary["targets"]
    interactive = report.get("interactive") or {}
    square = _get(interactive, "cases", "square_1024") or {}
    photo = _get(interactive, "cases", "photo") or {}
    follow_up = _get(interactive, "cases", "photo_follow_up") or {}
    ceiling = report.get("ceiling") or {}
    batch = report.get("batch") or {}
    baseline = report.get("baseline") or {}
    rows: list[tuple[str, str, str, str, str]] = [
        ("measurement", "vldesk", "baseline", "ratio", "target"),
        (
            "folder batch, images/hour",
            _num(f["batch_images_per_hour"], 0),
            _num(f["baseline_images_per_hour"], 0),
            _num(f["batch_speedup"], 2, "x"),
            f">= 3x: {_verdict(t['batch_3x_baseline'])}",
        ),
        (
            "photo: image tokens",
            _num(photo.get("image_tokens"), 0),
            _num(_get(baseline, "photo", "image_tokens"), 0),
            "",
            "",
        ),
        (
            "photo: file to first token, s",
            _num(f["photo_first_token_s"], 2),
            _num(f["baseline_photo_first_token_s"], 2),
            _num(f["first_token_speedup"], 2, "x"),
            "",
        ),
        (
            "photo: follow-up's first token, s",
            _num(follow_up.get("time_to_first_token_s"), 2),
            "",
            "",
            f"{_num(follow_up.get('reused_tokens'), 0)} tokens continued" if follow_up else "",
        ),
        (
            "decode, tokens/s",
            _num(f["decode_tokens_per_s"], 2),
            _num(f["baseline_decode_tokens_per_s"], 2),
            _num(f["decode_speedup"], 2, "x"),
            "",
        ),
        (
            "decode vs bandwidth ceiling",
            _num(f["decode_ceiling_fraction"] and f["decode_ceiling_fraction"] * 100, 0, " %"),
            "",
            f"ceiling {_num(f['decode_ceiling_tokens_per_s'], 2)} tok/s",
            f">= 70 %: {_verdict(t['decode_70pct_of_ceiling'])}",
        ),
        (
            "1024x1024: first token, s",
            _num(square.get("time_to_first_token_s"), 2),
            "",
            "",
            "",
        ),
        (
            "1024x1024: decode, tokens/s",
            _num(square.get("decode_tokens_per_s_median_step"), 2),
            "",
            "",
            "",
        ),
        (
            "peak memory above runtime",
            _gb(t["peak_memory"]["value"]),
            _gb(_over_runtime(baseline)),
            f"allowed {_gb(t['peak_memory']['limit'])}",
            f"1.3 x weights + act.: {_verdict(t['peak_memory'])}",
        ),
        (
            "start-up: window shown, s",
            _num(f["window_shown_s"], 2),
            "",
            "",
            f"< 1.5 s: {_verdict(t['window_under_1_5s'])}",
        ),
        ("start-up: model ready, s", _num(f["model_ready_s"], 2), "", "", ""),
        (
            "memory read bandwidth",
            _num(f.get("read_gbs"), 1, " GB/s"),
            "",
            "",
            "",
        ),
        (
            "matmul fp32 / bf16, GFLOP/s",
            f"{_num(ceiling.get('float32_gflops'), 0)} / {_num(ceiling.get('bfloat16_gflops'), 0)}",
            "",
            "",
            "",
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    model = report.get("model") or {}
    engine = f"{interactive['engine']}, " if interactive.get("engine") else ""
    header = (
        f"{model.get('name', 'model')} on {engine}{interactive.get('device', '?')} "
        f"{interactive.get('dtype', '')}{_weights_note(interactive)}; "
        f"baseline {baseline.get('dtype', '?')}; "
        f"batch of {batch.get('batch_size', '?')}"
    )
    busy = summary.get("busy_phases") or {}
    if busy:
        shares = ", ".join(f"{phase} {load:.0%}" for phase, load in busy.items())
        lines.append(f"WARNING: other processes used the CPU during: {shares}; figures are low.")
    return header + "\n" + "\n".join(lines)


def _weights_note(phase: dict[str, Any]) -> str:
    weights = phase.get("weights")
    return f" ({weights} weights)" if weights and weights != "full" else ""
