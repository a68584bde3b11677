"""Ctrl-C while ``vldesk batch --server`` probes a server that holds its requests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.core.inference.remote.servers import completion, shade_image, stand_in
from tests.helpers import PROJECT_ROOT


def test_ctrl_c_while_probing_ends_at_once(tmp_path: Path) -> None:
    release = threading.Event()

    def held(count: int) -> tuple[int, dict[str, str], bytes]:
        release.wait(60)  # a stuck server: the probe's first request gets no answer
        return 200, {"Content-Type": "application/json"}, completion("ok")

    folder = tmp_path / "photos"
    folder.mkdir()
    shade_image(folder / "a.png", 3)
    with stand_in(held) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "vldesk", "batch", str(folder), "--server", server.url],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while server.chats < 1 and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert server.chats >= 1, process.communicate(timeout=5)
            process.send_signal(signal.SIGINT)
            _out, err = process.communicate(timeout=20)
            assert not release.is_set()  # it ended while the probe's request was still out
            assert process.returncode == 130
            assert "interrupted" in err
        finally:
            release.set()
            if process.poll() is None:
                process.kill()
                process.wait()
