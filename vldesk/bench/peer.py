"""``vldesk bench --peer llama.cpp``: llama.cpp on the very same random weights, side by side.

What LM Studio and Ollama users run is llama.cpp, so that is the speed to match. The model
folder vldesk measures is converted to GGUF with llama.cpp's own converter (F16, then Q8_0 and
Q4_K_M with llama.cpp's quantizer) and both engines answer the same token counts in fresh
processes, one precision at a time: decode with an empty and a ~1,000-token cache, prompt
reading, a 1024x1024 image to the first token, and each process's peak memory. vldesk's own
llama.cpp engine (what ``--engine auto`` picks on CPUs without fast bfloat16) is measured on the
very same GGUF file too: what it adds to llama.cpp (templating, sampling from the full logits in
Python, resizing images) is its ratio to llama.cpp's figures.

Needs ``llama-cpp-python`` (it builds llama.cpp from source: 10-40 minutes on 2 cores; pip keeps
the built wheel) and ``gguf``. The converter is not part of the installed package: it is taken
from the same version's source archive on the package registry, once, into the bench folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from vldesk.bench.llama_cpp import Progress, gguf_files
from vldesk.bench.llama_cpp import llama_cpp_version as llama_cpp_version
from vldesk.bench.peer_measure import (
    PeerSpec,
    measure_llama_cpp,
    measure_vldesk,
    measure_vldesk_llama_cpp,
)

PEERS = ("llama.cpp",)
#: The measurements by ``PeerSpec.engine``.
MEASURES = {
    "vldesk": measure_vldesk,
    "llama.cpp": measure_llama_cpp,
    "vldesk-llama.cpp": measure_vldesk_llama_cpp,
}
#: vldesk's weight format and the llama.cpp type of about the same bits.
MATCHED_FORMATS = (("full", "F16"), ("int8", "Q8_0"), ("int4", "Q4_K_M"))
WEIGHT_FORMATS = tuple(ours for ours, _peer in MATCHED_FORMATS)


# ---------------------------------------------------------------------------------------------
# The measurements, each in its own process (``python -m vldesk.bench.peer SPEC OUT``).


def run_measurement(spec: PeerSpec) -> dict[str, Any]:
    """One measurement in a fresh Python process (its own peak memory)."""
    with tempfile.TemporaryDirectory(prefix="vldesk-peer-") as tmp:
        spec_file, out_file = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_file.write_text(json.dumps(asdict(spec)), encoding="utf-8")
        command = [sys.executable, "-m", "vldesk.bench.peer", str(spec_file), str(out_file)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not out_file.is_file():
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
            return {"error": f"{spec.engine} {spec.weights} failed: {tail}"}
        result: dict[str, Any] = json.loads(out_file.read_text(encoding="utf-8"))
        return result


# ---------------------------------------------------------------------------------------------
# The comparison and its table.


def compare(
    model_dir: Path,
    work: Path,
    *,
    square_image: Path | None,
    formats: Sequence[str] = WEIGHT_FORMATS,
    prompt_tokens: int = 1000,
    new_tokens: int = 32,
    threads: int = 0,
    progress: Progress = lambda _text: None,
) -> dict[str, Any]:
    """Both engines at each matched precision: ``{"rows": [...], "llama_cpp_version": ...}``."""
    pairs = [(ours, peer) for ours, peer in MATCHED_FORMATS if ours in formats]
    threads = threads or os.cpu_count() or 1
    files, mmproj = gguf_files(model_dir, work, [peer for _o, peer in pairs], threads, progress)
    rows = []
    for ours, peer in pairs:
        base = PeerSpec(
            engine="vldesk",
            weights=ours,
            model_dir=str(model_dir),
            square_image=str(square_image) if square_image else None,
            prompt_tokens=prompt_tokens,
            new_tokens=new_tokens,
            threads=threads,
        )
        progress(f"vldesk {ours} ...")
        mine = run_measurement(base)
        # llama.cpp reads as many prompt tokens as vldesk's chat template gave.
        theirs_spec = replace(
            base,
            engine="llama.cpp",
            weights=peer,
            gguf=str(files[peer]),
            mmproj=str(mmproj),
            prompt_tokens=int(mine.get("prefill_tokens") or prompt_tokens),
        )
        progress(f"llama.cpp {peer} ...")
        theirs = run_measurement(theirs_spec)
        # vldesk's llama.cpp engine picks the same file from the GGUF folder by its bits.
        engine_spec = replace(
            theirs_spec,
            engine="vldesk-llama.cpp",
            weights=ours,
            model_dir=str(files[peer].parent),
            prompt_tokens=prompt_tokens,
        )
        progress(f"vldesk's llama.cpp engine on {peer} ...")
        engine = run_measurement(engine_spec)
        rows.append(
            {"vldesk": ours, "llama_cpp": peer, "ours": mine, "peer": theirs, "engine": engine}
        )
    return {"llama_cpp_version": llama_cpp_version(), "rows": rows}


#: The table's lines: (label, key, higher is better).
_FIGURES = (
    ("decode, empty cache (tok/s)", "decode_empty_tokens_per_s", True),
    ("decode, ~1,000 cached (tok/s)", "decode_cached_tokens_per_s", True),
    ("prompt reading (tok/s)", "prefill_tokens_per_s", True),
    ("1024x1024 image to first token (s)", "image_first_token_s", False),
    ("peak memory (GB)", "peak_rss_bytes", False),
)


def ratio(ours: Any, peer: Any, *, higher_is_better: bool) -> float | None:
    """How vldesk compares: above 1 is better than llama.cpp, whichever way the figure runs."""
    if not isinstance(ours, (int, float)) or not isinstance(peer, (int, float)):
        return None
    if ours <= 0 or peer <= 0:
        return None
    return ours / peer if higher_is_better else peer / ours


def format_comparison(result: dict[str, Any]) -> str:
    """The side-by-side table: each figure for both engines and vldesk's advantage, then
    vldesk's llama.cpp engine against llama.cpp on the same file."""
    lines = [f"vldesk against llama.cpp (llama-cpp-python {result['llama_cpp_version']})"]
    header = f"{'':36} {'vldesk':>9} {'llama.cpp':>10} {'advantage':>10}"
    for row in result["rows"]:
        lines += ["", f"{row['vldesk']} weights against {row['llama_cpp']}", header]
        for side in ("ours", "peer"):
            if "error" in row[side]:
                lines.append(f"  {row[side]['error'].splitlines()[-1]}")
        for label, key, higher in _FIGURES:
            ours, peer = row["ours"].get(key), row["peer"].get(key)
            advantage = ratio(ours, peer, higher_is_better=higher)
            mark = f"{advantage:.2f}x" if advantage is not None else "-"
            lines.append(f"{label:36} {_shown(key, ours):>9} {_shown(key, peer):>10} {mark:>10}")
        tokens = (row["ours"].get("image_tokens"), row["peer"].get("image_tokens"))
        if all(tokens):
            lines.append(f"{'image tokens':36} {tokens[0]:>9} {tokens[1]:>10}")
        if "engine" in row:  # reports written before the engine was measured have none
            lines += _engine_lines(row)
    lines.append("")
    lines.append(
        "advantage: above 1.00x vldesk is faster or smaller; each figure from a fresh process."
    )
    return "\n".join(lines)


def _shown(key: str, value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "-"
    return f"{value / 1e9:.2f}" if key == "peak_rss_bytes" else f"{value:.2f}"


def _engine_lines(row: dict[str, Any]) -> list[str]:
    """vldesk's llama.cpp engine against llama.cpp itself on the same GGUF file."""
    engine, peer = row["engine"], row["peer"]
    lines = [
        "",
        f"vldesk's llama.cpp engine on the same {row['llama_cpp']} file",
        f"{'':36} {'engine':>9} {'llama.cpp':>10} {'advantage':>10}",
    ]
    if "error" in engine:
        lines.append(f"  {engine['error'].splitlines()[-1]}")
    for label, key, higher in _FIGURES:
        ours, theirs = engine.get(key), peer.get(key)
        advantage = ratio(ours, theirs, higher_is_better=higher)
        mark = f"{advantage:.2f}x" if advantage is not None else "-"
        lines.append(f"{label:36} {_shown(key, ours):>9} {_shown(key, theirs):>10} {mark:>10}")
    tokens = (engine.get("image_tokens"), peer.get("image_tokens"))
    if all(tokens):
        lines.append(f"{'image tokens':36} {tokens[0]:>9} {tokens[1]:>10}")
    return lines


def main(argv: list[str]) -> int:
    spec_path, out_path = argv
    import logging

    logging.basicConfig(level=logging.ERROR)
    spec = PeerSpec(**json.loads(Path(spec_path).read_text(encoding="utf-8")))
    Path(out_path).write_text(json.dumps(MEASURES[spec.engine](spec)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
