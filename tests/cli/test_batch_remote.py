"""``vldesk batch --server``: a folder captioned through several real ``vldesk serve`` servers
(one killed mid-batch, one answering 429, a stand-in answering garbage), kill -9 of the client
and ``--resume``, and the API key kept out of every file and log."""

from __future__ import annotations

import csv
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.cli.kill_and_resume import count, journal_records, kill_9, start_batch, wait_for_records
from tests.core.inference.remote.servers import (
    MODEL,
    ServerProcess,
    garbage,
    shade_image,
    slow_engine,
    stand_in,
)
from tests.helpers import PROJECT_ROOT
from tests.helpers.netguard import no_network
from tests.server.conftest import StartServer, start_server
from vldesk.cli import run_cli
from vldesk.core.inference.engine_choice import EngineChoice
from vldesk.core.inference.remote.concurrency import PROBE_PROMPT
from vldesk.server.config import Limits

__all__ = ["start_server"]

KEY = "sk-remote-test-0123456789abcdef"


def shade_folder(folder: Path, count_: int) -> list[str]:
    folder.mkdir(parents=True)
    names = [f"img{shade:02d}.png" for shade in range(count_)]
    for shade, name in enumerate(names):
        shade_image(folder / name, shade)
    return names


def remote_args(
    folder: Path, reports: Path, *servers: str, extra: tuple[str, ...] = ()
) -> list[str]:
    args = ["batch", str(folder), "--prompt", "Which shade?", "--max-image-tokens", "16"]
    for url in servers:
        args += ["--server", url]
    return [
        *args,
        "--jsonl",
        str(reports / "r.jsonl"),
        "--csv",
        str(reports / "r.csv"),
        "--md",
        str(reports / "r.md"),
        *extra,
    ]


def assert_each_image_captioned_once(folder: Path, reports: Path, names: list[str]) -> None:
    """One result per image in the journal, its caption file and report rows agreeing."""
    results = Counter(r["image"] for r in journal_records() if r["kind"] == "result")
    assert results == Counter(names)
    for shade, name in enumerate(names):
        assert (folder / name).with_suffix(".txt").read_text("utf-8") == f"shade {shade}\n"
    rows = [json.loads(line) for line in (reports / "r.jsonl").read_text("utf-8").splitlines()]
    assert sorted(r["image"] for r in rows) == names
    assert all(r["status"] == "captioned" for r in rows)
    assert {r["image"]: r["caption"] for r in rows} == {
        name: f"shade {shade}" for shade, name in enumerate(names)
    }
    with open(reports / "r.csv", encoding="utf-8-sig", newline="") as handle:
        assert sorted(r["image"] for r in csv.DictReader(handle)) == names


def test_a_folder_through_three_servers_one_killed_one_busy_one_garbage(
    start_server: StartServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder, reports = tmp_path / "photos", tmp_path / "reports"
    names = shade_folder(folder, 18)
    busy_engine = slow_engine(0.03)
    busy = start_server(busy_engine, limits=Limits(queue=1, retry_after_s=1))
    doomed = ServerProcess(delay_s=0.2)
    try:

        def kill_mid_batch() -> None:
            deadline = time.monotonic() + 120
            while count("applied") < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            doomed.kill()

        killer = threading.Thread(target=kill_mid_batch)
        killer.start()
        with stand_in(garbage) as rubbish, caplog.at_level(logging.INFO):
            servers = (busy.url, doomed.url, rubbish.url)
            code = run_cli(remote_args(folder, reports, *servers, extra=("--concurrency", "3")))
        killer.join()
    finally:
        doomed.kill()
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Traceback" not in err
    assert f"Done: {len(names)} captioned, 0 failed" in err
    assert "Running on Qwen/Qwen3-VL-2B-Instruct on 3 servers" in err
    assert "/v1); engine: remote\n" in err
    assert_each_image_captioned_once(folder, reports, names)
    assert busy_engine.asked  # the busy server did its share
    said = [r.getMessage() for r in caplog.records]
    assert any("busy (429)" in line for line in said)
    for gone in (doomed.url, rubbish.url):
        assert any(line.startswith(f"{gone} is out of the rotation") for line in said), gone
    records = [r for r in journal_records() if r["kind"] == "result"]
    assert {r["model"] for r in records} == {"Qwen/Qwen3-VL-2B-Instruct"}
    assert {r["engine"] for r in records} == {"remote"}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_kill_9_of_the_client_then_resume_against_the_servers(
    start_server: StartServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, reports = tmp_path / "photos", tmp_path / "reports"
    names = shade_folder(folder, 16)
    engines = [slow_engine(0.05), slow_engine(0.05)]
    servers = [start_server(engine).url for engine in engines]
    args = remote_args(folder, reports, *servers, extra=("--concurrency", "2"))
    client = start_batch(args)
    wait_for_records(client, "applied", 3)
    kill_9(client)
    assert count("applied") < len(names)

    assert run_cli([*args, "--resume"]) == 0
    err = capsys.readouterr().err
    assert "Resuming:" in err
    assert f"Done: {len(names)} captioned, 0 failed, 0 skipped of {len(names)} images" in err
    assert_each_image_captioned_once(folder, reports, names)
    assert count("finished") == 1


def test_the_api_key_reaches_no_file_report_history_or_log(
    start_server: StartServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, reports = tmp_path / "photos", tmp_path / "reports"
    names = shade_folder(folder, 4)
    served = slow_engine(0.0)
    server = start_server(served, api_key=KEY)
    # A wrong key is a clear error, not a traceback.
    wrong = remote_args(folder, reports, server.url, extra=("--api-key", "not-the-key"))
    assert run_cli(wrong) == 1
    err = capsys.readouterr().err
    assert "refused the API key" in err
    assert "Traceback" not in err
    # The key from the environment, with every log on; one image at a time (streamed).
    monkeypatch.setenv("VLDESK_API_KEY", KEY)
    # (The probe's tiny requests come first, several at once: they are batched by the server.)
    streamed = remote_args(folder, reports, server.url, extra=("--batch-size", "1", "--verbose"))
    with caplog.at_level(logging.DEBUG):
        assert run_cli(streamed) == 0
    out, err = capsys.readouterr()
    assert_each_image_captioned_once(folder, reports, names)
    job_requests = [c for c in served.asked if c.turns[0].text != PROBE_PROMPT]
    assert len(job_requests) == len(names)  # besides the concurrency probe's tiny requests
    probe_requests = sum(1 for c in served.asked if c.turns[0].text == PROBE_PROMPT)
    assert sum(served.batches) <= probe_requests  # each job answer was streamed on its own
    assert KEY not in out + err
    assert KEY not in caplog.text
    assert all(KEY not in r.getMessage() for r in caplog.records)
    home = Path(os.environ["VLDESK_HOME"])
    assert (home / "data" / "jobs").is_dir()
    for root in (home, reports, folder):
        for path in root.rglob("*"):
            if path.is_file():
                assert KEY.encode() not in path.read_bytes(), path


def test_export_requests_a_run_batch_then_import_results_gives_the_local_captions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import vldesk.cli.batch

    folder, reports = tmp_path / "photos", tmp_path / "reports"
    names = shade_folder(folder, 6)
    shade_image(folder / "wide.png", 3, size=(1600, 1200))
    (folder / "broken.png").write_bytes(b"not an image")
    common = ["batch", str(folder), "--prompt", "Which shade?", "--max-image-tokens", "16"]

    # The local batch, on the same engine a run-batch applies.
    local = tmp_path / "local"
    local.mkdir()
    monkeypatch.setattr(
        vldesk.cli.batch,
        "choose_model",
        lambda args, ref, settings: EngineChoice(local, ref, "transformers", "a test"),
    )
    monkeypatch.setattr(vldesk.cli.batch, "load_engine", lambda request: slow_engine(0.0))
    assert run_cli([*common, "--model", MODEL, "--ext", ".local"]) == 1  # broken.png
    capsys.readouterr()

    requests, results = tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    assert run_cli([*common, "--model", MODEL, "--export-requests", str(requests)]) == 1
    assert "broken.png" in capsys.readouterr().err
    lines = [json.loads(line) for line in requests.read_text("utf-8").splitlines()]
    assert sorted(line["custom_id"] for line in lines) == sorted([*names, "wide.png"])
    wide = next(line for line in lines if line["custom_id"] == "wide.png")
    assert wide["body"]["model"] == MODEL
    url = wide["body"]["messages"][0]["content"][0]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    assert len(url) < 10_000  # resized to the 16-token budget, not the 1600x1200 original
    assert not list(tmp_path.rglob("*.tmp"))

    subprocess.run(
        [sys.executable, "-m", "tests.cli.fake_run_batch", "-i", str(requests), "-o", str(results)],
        cwd=PROJECT_ROOT,
        check=True,
        timeout=120,
    )
    imported = [*common, "--import-results", str(results), "--jsonl", str(reports / "r.jsonl")]
    assert run_cli(imported) == 1  # broken.png fails here as in the local batch
    err = capsys.readouterr().err
    assert "Done: 7 captioned, 1 failed" in err
    for name in [*names, "wide.png"]:
        local_caption = (folder / name).with_suffix(".local").read_text("utf-8")
        assert (folder / name).with_suffix(".txt").read_text("utf-8") == local_caption, name
    rows = [json.loads(line) for line in (reports / "r.jsonl").read_text("utf-8").splitlines()]
    assert Counter(r["status"] for r in rows) == Counter(captioned=7, failed=1)
    # The same journal: importing again resumes nothing and captions nothing twice.
    assert run_cli([*imported, "--resume"]) == 1
    assert "Resuming: 8 of 8 images already done." in capsys.readouterr().err
    # Two jobs (local and imported); each has one result per image.
    for journal in (Path(os.environ["VLDESK_HOME"]) / "data" / "jobs").glob("*/journal.jsonl"):
        records = [json.loads(line) for line in journal.read_text("utf-8").splitlines()]
        per_image = Counter(r["image"] for r in records if r["kind"] == "result")
        assert per_image == Counter([*names, "wide.png", "broken.png"]), journal


def test_plain_http_to_another_computer_is_warned_about_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "photos"
    shade_folder(folder, 1)
    args = remote_args(folder, tmp_path, "http://192.0.2.7:8000/v1", extra=("--api-key", KEY))
    with no_network(monkeypatch) as attempts:
        assert run_cli(args) == 1
    err = capsys.readouterr().err
    assert "http://192.0.2.7:8000/v1 is plain http:// to another computer" in err
    assert "the images and the API key cross the network unencrypted" in err
    assert "No server is ready" in err
    assert "Traceback" not in err
    assert KEY not in err
    assert attempts  # it did try (and the guard refused)
    assert not journal_records()  # no job without a server


def test_export_can_refer_to_images_by_path_on_a_shared_filesystem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "photos"
    shade_folder(folder, 2)
    (folder / "sub dir").mkdir()
    shade_image(folder / "sub dir" / "deep.png", 3, size=(1600, 1200))
    common = ["batch", str(folder), "-r", "--prompt", "Which shade?", "--model", MODEL]

    def urls(requests: Path) -> dict[str, str]:
        lines = [json.loads(line) for line in requests.read_text("utf-8").splitlines()]
        return {
            line["custom_id"]: line["body"]["messages"][0]["content"][0]["image_url"]["url"]
            for line in lines
        }

    here = tmp_path / "here.jsonl"
    assert run_cli([*common, "--export-requests", str(here), "--reference-images"]) == 0
    found = urls(here)
    assert found["sub dir/deep.png"] == (folder / "sub dir" / "deep.png").resolve().as_uri()
    assert all(url.startswith("file:///") for url in found.values())  # nothing inlined

    there = tmp_path / "there.jsonl"
    shared = ["--export-requests", str(there), "--reference-images", "/mnt/shared/photos"]
    assert run_cli([*common, *shared]) == 0
    assert urls(there)["sub dir/deep.png"] == "file:///mnt/shared/photos/sub%20dir/deep.png"
    capsys.readouterr()

    assert run_cli([*common, "--export-requests", str(there), "--reference-images", "rel"]) == 1
    assert "absolute path" in capsys.readouterr().err
    assert run_cli([*common, "--reference-images"]) == 1
    assert "--export-requests" in capsys.readouterr().err
