"""What speed to expect on this CPU, and which engine gives it, for ``vldesk models list``."""

from __future__ import annotations

from typing import Any

from vldesk.core.inference.cpu import capabilities
from vldesk.core.inference.engine_choice import (
    LLAMA_CPP,
    PEER_INSTALL,
    faster_on_cpu,
    llama_cpp_installed,
    speed_for,
)


def cpu_speed_json() -> dict[str, Any]:
    """This CPU's kind, the engine that answers sooner on it, and the measured speeds."""
    caps = capabilities.detect(ask_torch=False)
    row = speed_for(caps)
    engine, reason = faster_on_cpu(caps)
    return {
        "cpu": caps.describe(),
        "kind": row.kind,
        "faster_engine": engine,
        "reason": reason,
        "measured_on": row.machine,
        "transformers_decode": row.transformers,
        "llama_cpp_decode": row.llama_cpp,
        "llama_cpp_installed": llama_cpp_installed(),
    }


def cpu_speed_lines() -> list[str]:
    """A few lines for the listing: the kind of CPU, the expected decode speeds and what to do."""
    found = cpu_speed_json()
    lines = [
        f"This CPU: {found['cpu']} ({found['kind']}). Faster engine here: "
        f"{found['faster_engine']} ({found['reason']}).",
        f"  Qwen3-VL-2B decode, measured on {found['measured_on']}: transformers "
        f"{found['transformers_decode']}; llama.cpp {found['llama_cpp_decode']}.",
    ]
    if found["faster_engine"] == LLAMA_CPP:
        lines.append(
            "  For llama.cpp: download a GGUF version (vldesk models download "
            "Qwen/Qwen3-VL-2B-Instruct --gguf Q4_K_M)"
            + ("." if found["llama_cpp_installed"] else f" and install it ({PEER_INSTALL}).")
        )
    return lines
