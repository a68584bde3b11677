"""Start-up of the desktop app, timed from outside: process start to window shown and model ready.

The app writes ``{"window_shown": t, "model_ready": t}`` (``time.time()`` stamps) into the file
named by ``VLDESK_STARTUP_REPORT`` and quits; without a display, Qt runs offscreen.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STARTUP_ENV = "VLDESK_STARTUP_REPORT"


def _environment(home: Path, report: Path) -> dict[str, str]:
    env = {**os.environ, "VLDESK_HOME": str(home), STARTUP_ENV: str(report)}
    headless = sys.platform.startswith("linux") and not (
        env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")
    )
    if headless:
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def _one_start(model_dir: Path | None, timeout: float, command: list[str]) -> dict[str, Any]:
    from vldesk.core.paths import HOME_ENV, app_paths
    from vldesk.core.settings import Settings, save_settings

    with tempfile.TemporaryDirectory(prefix="vldesk-startup-") as tmp:
        home, report = Path(tmp) / "home", Path(tmp) / "startup.json"
        previous = os.environ.get(HOME_ENV)
        os.environ[HOME_ENV] = str(home)
        try:
            paths = app_paths().ensure()
        finally:
            if previous is None:
                os.environ.pop(HOME_ENV, None)
            else:
                os.environ[HOME_ENV] = previous
        settings = Settings().replace(model=str(model_dir) if model_dir else "none")
        save_settings(settings, paths.settings_file)
        env = _environment(home, report)
        started = time.time()
        try:
            done = subprocess.run(
                command,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"the app did not report within {timeout:.0f} s"}
        if not report.is_file():
            tail = " ".join((done.stderr or "").strip().splitlines()[-3:])
            return {"error": f"no start-up report (exit code {done.returncode}) {tail}".strip()}
        data = json.loads(report.read_text(encoding="utf-8"))
        stamps = {key: value - started for key, value in data.items() if isinstance(value, float)}
        return {
            "window_shown_s": stamps.get("window_shown"),
            "model_ready_s": stamps.get("model_ready"),
            "exit_code": done.returncode,
            "platform": env.get("QT_QPA_PLATFORM", "native"),
        }


def measure_startup(
    model_dir: Path | None,
    runs: int = 3,
    timeout: float = 300,
    command: list[str] | None = None,
) -> dict[str, Any]:
    """Start the app (``command``, default ``python -m vldesk``) ``runs`` times with the model
    chosen in a private settings file: the median time to the window and to the model."""
    command = command or [sys.executable, "-m", "vldesk"]
    results = [_one_start(model_dir, timeout, command) for _ in range(runs)]
    good = [r for r in results if "error" not in r]
    if not good:
        return {"error": results[0]["error"] if results else "not run", "runs": results}
    summary: dict[str, Any] = {"runs": results, "platform": good[0]["platform"]}
    for key in ("window_shown_s", "model_ready_s"):
        values = [r[key] for r in good if isinstance(r.get(key), float)]
        summary[key] = statistics.median(values) if values else None
    return summary
