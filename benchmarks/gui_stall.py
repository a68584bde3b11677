"""How long the GUI thread stalls while an answer streams or a folder is captioned (by hand).

    .venv/bin/python benchmarks/gui_stall.py [--seconds 3]

Runs the app offscreen on a private temporary home with a tiny random-weight Qwen3-VL model (no
download), ticks a 10 ms timer on the GUI thread while an endless answer streams, then while a
folder is captioned one image at a time, and prints the gaps between ticks as JSON. A gap well
over the 10 ms interval is a moment the window did not respond; the figures depend on the
machine and its load, so they are printed, never compared with a threshold.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

TICK_MS = 10


def _wait(condition: Callable[[], bool], seconds: float = 120) -> None:
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        QApplication.processEvents()
        time.sleep(0.005)


def _measure(seconds: float) -> dict[str, float]:
    """Run the event loop for ``seconds`` with a 10 ms timer; figures of the gaps between ticks."""
    from PySide6.QtCore import QEventLoop, QTimer

    gaps: list[float] = []
    last = time.perf_counter()

    def tick() -> None:
        nonlocal last
        now = time.perf_counter()
        gaps.append(now - last)
        last = now

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    last = time.perf_counter()
    timer.start()
    loop.exec()
    timer.stop()
    ordered = sorted(gaps)
    return {
        "ticks": len(gaps),
        "median_gap_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_gap_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
        "max_gap_ms": round(ordered[-1] * 1000, 1),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to measure each")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="vldesk-stall-"))
    os.environ["VLDESK_HOME"] = str(home)

    from PIL import Image
    from PySide6.QtWidgets import QApplication

    from vldesk.bench.synthetic import build_synthetic_model
    from vldesk.core.batch import BatchOptions
    from vldesk.core.generation import GenerationSettings
    from vldesk.core.models.catalog import Family
    from vldesk.core.paths import app_paths
    from vldesk.core.settings import Settings
    from vldesk.gui.app import DesktopApp
    from vldesk.gui.controllers.batch import BatchPlan

    qt_app = QApplication(sys.argv[:1])
    model = build_synthetic_model(Family.QWEN3_VL, home / "tiny-qwen3-vl")
    app = DesktopApp(app_paths(), settings=Settings(model=str(model)))
    app.window.resize(1280, 800)
    app.window.show()
    app.start()
    _wait(lambda: app.session.model_name is not None)
    # Sampled (random weights give readable-looking text only then), never ending by itself.
    endless = GenerationSettings(
        max_new_tokens=100_000, ignore_eos=True, greedy=False, temperature=1.0, top_p=1.0, top_k=0
    )
    figures: dict[str, object] = {"tick_interval_ms": TICK_MS, "seconds": args.seconds}
    try:
        pictures = home / "pictures"
        pictures.mkdir()
        for index in range(4):
            Image.new("RGB", (160 + 16 * index, 120), (40 * index, 90, 200)).save(
                pictures / f"{index}.png"
            )
        app.open_paths([str(pictures / "0.png")])
        _wait(lambda: app.session.image is not None)
        assert app.session.ask("Describe it at length.", endless)
        _wait(lambda: bool(app.window.answer_view.current_answer()))
        figures["answer_streaming"] = _measure(args.seconds)
        app.session.stop()
        _wait(lambda: not app.session.busy)

        captions = replace(endless, max_new_tokens=300)  # long enough to measure during one
        options = BatchOptions(pictures, "Describe the image.", str(model), captions)
        app.batch.start(BatchPlan(options, batch_size=1))
        _wait(lambda: bool(app.window.batch_view.caption_view.toPlainText()))
        figures["folder_captioning"] = _measure(args.seconds)
        app.batch.cancel()
        _wait(lambda: not app.batch.running)
    finally:
        app.shut_down()
        qt_app.processEvents()
        shutil.rmtree(home, ignore_errors=True)
    sys.stdout.write(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
