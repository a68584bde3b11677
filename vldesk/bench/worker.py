"""Run one benchmark phase, in this process or in a fresh one (its own peak memory and start-up).

As a program: ``python -m vldesk.bench.worker PHASE SPEC.json RESULT.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vldesk.bench.spec import PhaseSpec
from vldesk.core.errors import VldeskError

PHASES = ("ceiling", "interactive", "batch", "baseline")


def _ceiling(spec: PhaseSpec) -> dict[str, Any]:
    import torch

    from vldesk.bench.ceiling import measure_bandwidth, measure_matmul
    from vldesk.bench.system import LoadMeter, wait_for_quiet
    from vldesk.core.inference.device import HardwareProbe

    cores = HardwareProbe.detect().physical_cores
    if cores:
        torch.set_num_threads(cores)
    quiet = wait_for_quiet(timeout=spec.quiet_wait_s)
    meter = LoadMeter().start()
    figures = {**measure_bandwidth(spec.ceiling_bytes), **measure_matmul(spec.matmul_size)}
    return {
        "threads": torch.get_num_threads(),
        **figures,
        "other_load_before": quiet,
        "other_load": meter.stop(),
    }


def _runner(phase: str) -> Callable[[PhaseSpec], dict[str, Any]]:
    if phase == "ceiling":
        return _ceiling
    if phase == "interactive":
        from vldesk.bench.ours import run_interactive

        return run_interactive
    if phase == "batch":
        from vldesk.bench.ours import run_batch

        return run_batch
    if phase == "baseline":
        from vldesk.bench.baseline import run_baseline

        return run_baseline
    raise ValueError(f"unknown phase {phase!r}")


def run_phase(phase: str, spec: PhaseSpec, *, isolate: bool = True) -> dict[str, Any]:
    """The phase's figures. ``isolate`` runs it in a new Python process, so its peak memory is
    its own and the process start to model ready time is real."""
    if not isolate:
        return _runner(phase)(spec)
    with tempfile.TemporaryDirectory(prefix="vldesk-bench-") as tmp:
        spec_file, out_file = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        started = time.time()
        spec_data = {**spec.to_dict(), "started_at": started}
        spec_file.write_text(json.dumps(spec_data), encoding="utf-8")
        command = [sys.executable, "-m", "vldesk.bench.worker", phase, str(spec_file)]
        command.append(str(out_file))
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0 or not out_file.is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-8:]
            raise VldeskError(
                f"The {phase} phase failed (exit code {done.returncode}):\n" + "\n".join(tail)
            )
        result: dict[str, Any] = json.loads(out_file.read_text(encoding="utf-8"))
        return result


def main(argv: list[str]) -> int:
    phase, spec_path, out_path = argv
    import logging

    logging.basicConfig(level=logging.WARNING)
    for noisy in ("transformers", "accelerate"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    spec = PhaseSpec.from_dict(json.loads(Path(spec_path).read_text(encoding="utf-8")))
    result = _runner(phase)(spec)
    Path(out_path).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
