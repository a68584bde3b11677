"""Downloads through the real modelscope_hub client against a fake hub on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.fake_modelscope import COMMIT, FakeModelScope, model_files
from tests.netguard import no_network
from vldesk.cli import run_cli
from vldesk.cli.models import ProgressPrinter
from vldesk.core import downloads
from vldesk.core.catalog import find_model
from vldesk.core.downloads import (
    DownloadProgress,
    _Tracker,
    download_model,
    hub_endpoint,
    select_files,
)
from vldesk.core.errors import (
    DiskSpaceError,
    DownloadCancelled,
    DownloadError,
    HubUnavailableError,
    RemoteModelNotFoundError,
)
from vldesk.core.store import MANIFEST_NAME, InstallState, ModelStore

SPEC = find_model("Qwen/Qwen3-VL-2B-Instruct")
assert SPEC is not None
FILES = model_files()
WEIGHTS = FILES["model.safetensors"]
#: What a download must fetch: everything but the code, pickles, README and sub-folders.
WANTED = {
    "chat_template.jinja",
    "config.json",
    "configuration.json",
    "generation_config.json",
    "merges.txt",
    "model.safetensors",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "video_preprocessor_config.json",
    "vocab.json",
}
FILE_ENDPOINT = f"/api/v1/models/{SPEC.id}/repo"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("VLDESK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VLDESK_MODELS_DIR", raising=False)
    monkeypatch.delenv("VLDESK_MODELSCOPE_ENDPOINT", raising=False)
    # The hub client must not read or write the real ~/.modelscope or ~/.cache/modelscope.
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms-cache"))
    monkeypatch.setenv("MODELSCOPE_HOME", str(tmp_path / "ms-home"))
    monkeypatch.delenv("MODELSCOPE_API_TOKEN", raising=False)
    monkeypatch.delenv("MODELSCOPE_ENDPOINT", raising=False)
    with no_network(monkeypatch) as attempts:
        yield
    assert attempts == [], "only the fake hub on 127.0.0.1 may be contacted"


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # The client pauses seconds between retries; the behaviour is the same with short pauses.
    downloads._hub()
    import modelscope_hub._download as client_download
    import modelscope_hub._legacy_api as client_legacy

    monkeypatch.setattr(client_download, "DOWNLOAD_INTEGRITY_RETRY_BACKOFF", 0.01)
    monkeypatch.setattr(client_download, "DOWNLOAD_RETRY_TIMES", 1)
    monkeypatch.setattr(client_legacy, "REPO_TREE_PAGE_MAX_ATTEMPTS", 1)


@pytest.fixture
def hub() -> Iterator[FakeModelScope]:
    with FakeModelScope() as server:
        server.add_repo(SPEC.id, FILES)
        yield server


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def partial_size(store: ModelStore, name: str = "model.safetensors") -> int:
    return (store.folder_for(SPEC) / f"{name}.incomplete").stat().st_size


def cancel_when_paused(hub: FakeModelScope, cancel: threading.Event) -> threading.Thread:
    """Set ``cancel`` from another thread once the fake hub stalls mid-file."""

    def act() -> None:
        if hub.paused.wait(timeout=20):
            time.sleep(0.05)  # let the bytes before the stall reach the file
            cancel.set()

    thread = threading.Thread(target=act, daemon=True)
    thread.start()
    return thread


# -- a full download -----------------------------------------------------------------------------


def test_a_full_download_installs_the_model_with_a_manifest(
    hub: FakeModelScope, store: ModelStore
) -> None:
    seen: list[DownloadProgress] = []
    folder = download_model(SPEC, store, endpoint=hub.endpoint, on_progress=seen.append)

    assert folder == store.folder_for(SPEC)
    assert {p.name for p in folder.iterdir()} == WANTED | {MANIFEST_NAME}
    for name in WANTED:
        assert (folder / name).read_bytes() == FILES[name]
    assert store.is_installed(SPEC)
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["model_id"] == SPEC.id
    assert manifest["revision"] == SPEC.revision
    assert manifest["commit"] == COMMIT
    assert manifest["endpoint"] == hub.endpoint
    assert manifest["downloaded_at"]
    assert {f["path"]: (f["size"], f["sha256"]) for f in manifest["files"]} == {
        name: (len(FILES[name]), sha(FILES[name])) for name in WANTED
    }

    # Only the hub's own endpoints were called, every file at the pinned revision.
    assert len(hub.listing_requests()) == 1
    fetched = hub.file_requests()
    assert sorted(r.file or "" for r in fetched) == sorted(WANTED)
    assert {(r.path, r.query["Revision"]) for r in fetched} == {(FILE_ENDPOINT, "master")}

    assert seen[0].phase == "listing"
    assert seen[-1].phase == "done"
    total = sum(len(FILES[n]) for n in WANTED)
    assert seen[-1].bytes_done == seen[-1].bytes_total == total
    assert seen[-1].files_done == seen[-1].files_total == len(WANTED)
    assert seen[-1].fraction == 1.0
    middle = [p for p in seen if p.phase == "downloading"]
    assert middle
    assert all(0 <= p.bytes_done <= p.bytes_total == total for p in middle)
    assert all(p.speed >= 0 and (p.eta is None or p.eta >= 0) for p in middle)
    assert any(p.current_file in WANTED for p in middle)


def test_an_installed_model_is_not_downloaded_again(hub: FakeModelScope, store: ModelStore) -> None:
    download_model(SPEC, store, endpoint=hub.endpoint)
    before = len(hub.requests)
    hub.stop()  # no hub at all: the installed model is found from local files
    seen: list[DownloadProgress] = []
    assert download_model(SPEC, store, endpoint=hub.endpoint, on_progress=seen.append)
    assert len(hub.requests) == before
    assert [p.phase for p in seen] == ["done"]


def test_the_revision_is_pinned(hub: FakeModelScope, store: ModelStore) -> None:
    pinned = dataclasses.replace(SPEC, revision=COMMIT)
    download_model(pinned, store, endpoint=hub.endpoint)
    assert {r.query["Revision"] for r in hub.requests if "Revision" in r.query} == {COMMIT}
    manifest = store.read_manifest(pinned)
    assert manifest is not None
    assert manifest.revision == COMMIT


def test_the_endpoint_comes_from_the_environment(
    hub: FakeModelScope, store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VLDESK_MODELSCOPE_ENDPOINT", hub.endpoint + "/")
    assert hub_endpoint() == hub.endpoint
    download_model(SPEC, store)
    assert store.is_installed(SPEC)
    assert hub_endpoint() == hub.endpoint
    monkeypatch.delenv("VLDESK_MODELSCOPE_ENDPOINT")
    assert hub_endpoint() == "https://www.modelscope.cn"
    with pytest.raises(DownloadError, match="must start with https://"):
        hub_endpoint("ftp://example.com")


def test_only_safe_top_level_inference_files_are_selected() -> None:
    entries: list[dict[str, Any]] = [
        {"Path": name, "Size": 1, "Sha256": "0" * 64}
        for name in [
            "config.json",
            "model-00001-of-00002.safetensors",
            "tokenizer.model",
            "vocab.txt",
            "merges.txt",
            "chat_template.jinja",
            "pytorch_model.bin",
            "model.pt",
            "modeling_qwen.py",
            "README.md",
            ".gitattributes",
            "onnx/model.json",
            "../escape.json",
            "C:evil.json",
            "..\\evil.json",
        ]
    ]
    entries.append({"Path": "sub", "Type": "tree"})
    names = [f.path for f in select_files(entries)]
    assert sorted(names) == [
        "chat_template.jinja",
        "config.json",
        "merges.txt",
        "model-00001-of-00002.safetensors",
        "tokenizer.model",
        "vocab.txt",
    ]


# -- cancel and resume ---------------------------------------------------------------------------


def test_cancel_mid_file_then_resume_with_a_range_request(
    hub: FakeModelScope, store: ModelStore
) -> None:
    hub.faults.pause_once["model.safetensors"] = 1_000_000  # the hub stalls here
    cancel = threading.Event()
    cancel_when_paused(hub, cancel)
    started = time.monotonic()
    with pytest.raises(DownloadCancelled, match="start the download again to resume"):
        download_model(SPEC, store, endpoint=hub.endpoint, cancel=cancel)
    assert time.monotonic() - started < 10
    hub.release.set()

    kept = partial_size(store)
    assert 0 < kept <= 1_000_000
    assert not store.is_installed(SPEC)
    assert store.status(SPEC).state is InstallState.PARTIAL
    assert not (store.folder_for(SPEC) / "model.safetensors").exists()

    seen: list[DownloadProgress] = []
    download_model(SPEC, store, endpoint=hub.endpoint, on_progress=seen.append)
    ranges = [r.range for r in hub.file_requests("model.safetensors")]
    assert ranges == [None, f"bytes={kept}-"]
    assert (store.folder_for(SPEC) / "model.safetensors").read_bytes() == WEIGHTS
    assert store.is_installed(SPEC)
    # The bytes kept on disk count as done, from the first report on.
    assert seen[1].bytes_done >= kept


def test_cancel_through_the_progress_hook_alone(
    hub: FakeModelScope, store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client without the private stop event (an older or newer release) still stops when
    cancelled: vldesk raises from the progress hook instead."""
    import modelscope_hub

    calls: list[dict[str, Any]] = []

    class ClientWithoutStopEvent:
        """The real downloader, offered with only the public ``download_file`` keywords."""

        def __init__(self, real: Any) -> None:
            self.real = real

        def download_file(self, **public: Any) -> Path:
            calls.append(public)
            return self.real.download_file(**public)  # type: ignore[no-any-return]

    real_downloader = modelscope_hub.HubApi.downloader
    monkeypatch.setattr(
        modelscope_hub.HubApi,
        "downloader",
        property(lambda api: ClientWithoutStopEvent(real_downloader.__get__(api))),
    )
    hub.faults.chunk_delay = 0.01  # about 6 MB/s: the cancel lands mid-file
    cancel = threading.Event()

    def on_progress(progress: DownloadProgress) -> None:
        if progress.current_file == "model.safetensors" and progress.bytes_done > 500_000:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        download_model(SPEC, store, endpoint=hub.endpoint, cancel=cancel, on_progress=on_progress)
    assert calls
    assert all(not name.startswith("_") for call in calls for name in call)
    kept = partial_size(store)
    assert 0 < kept < len(WEIGHTS)

    hub.faults.chunk_delay = 0
    download_model(SPEC, store, endpoint=hub.endpoint)
    assert hub.file_requests("model.safetensors")[-1].range == f"bytes={kept}-"
    assert store.is_installed(SPEC)


def test_resume_after_a_crash_from_the_partial_file(hub: FakeModelScope, store: ModelStore) -> None:
    # A crash or a reboot leaves the partial file and no manifest: the next run resumes it.
    folder = store.folder_for(SPEC)
    folder.mkdir(parents=True)
    (folder / "model.safetensors.incomplete").write_bytes(WEIGHTS[:123_456])
    download_model(SPEC, store, endpoint=hub.endpoint)
    assert [r.range for r in hub.file_requests("model.safetensors")] == ["bytes=123456-"]
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert store.is_installed(SPEC)


def test_a_stale_partial_file_is_caught_by_the_hash(hub: FakeModelScope, store: ModelStore) -> None:
    folder = store.folder_for(SPEC)
    folder.mkdir(parents=True)
    (folder / "model.safetensors.incomplete").write_bytes(b"\0" * 100_000)  # other content
    download_model(SPEC, store, endpoint=hub.endpoint)
    assert [r.range for r in hub.file_requests("model.safetensors")] == ["bytes=100000-", None]
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS


def test_the_per_file_time_budget_running_out_only_resumes(
    hub: FakeModelScope, store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client gives each file a fixed time budget (1 h by default): on a slow line a big
    # file outlasts it, and the download must carry on from the partial file.
    import modelscope_hub._download as client_download

    monkeypatch.setattr(client_download, "DOWNLOAD_TOTAL_TIMEOUT", 0.4)
    hub.faults.chunk_delay = 0.02  # the weights take about 0.7 s
    download_model(SPEC, store, endpoint=hub.endpoint)
    ranges = [r.range for r in hub.file_requests("model.safetensors")]
    assert len(ranges) >= 2
    assert ranges[0] is None
    assert all(r is not None and r != "bytes=0-" for r in ranges[1:])
    assert (store.folder_for(SPEC) / "model.safetensors").read_bytes() == WEIGHTS


def test_resume_through_the_cdn_redirect(hub: FakeModelScope, store: ModelStore) -> None:
    # The real hub answers file requests with a redirect to its CDN; Range must reach the CDN.
    hub.faults.redirect = True
    hub.faults.drop_once["model.safetensors"] = 500_000
    download_model(SPEC, store, endpoint=hub.endpoint)
    cdn = [r for r in hub.file_requests("model.safetensors") if r.path.startswith("/cdn/")]
    assert [r.range for r in cdn] == [None, "bytes=500000-"]
    assert (store.folder_for(SPEC) / "model.safetensors").read_bytes() == WEIGHTS
    assert store.is_installed(SPEC)


def test_cancel_before_anything_was_fetched(hub: FakeModelScope, store: ModelStore) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DownloadCancelled):
        download_model(SPEC, store, endpoint=hub.endpoint, cancel=cancel)
    assert hub.file_requests() == []


# -- faults --------------------------------------------------------------------------------------


def test_a_dropped_connection_resumes_where_it_broke(
    hub: FakeModelScope, store: ModelStore
) -> None:
    hub.faults.drop_once["model.safetensors"] = 700_000
    download_model(SPEC, store, endpoint=hub.endpoint)
    ranges = [r.range for r in hub.file_requests("model.safetensors")]
    assert ranges == [None, "bytes=700000-"]
    assert (store.folder_for(SPEC) / "model.safetensors").read_bytes() == WEIGHTS
    assert store.is_installed(SPEC)


def test_a_corrupted_file_is_fetched_again(hub: FakeModelScope, store: ModelStore) -> None:
    hub.faults.corrupt_once.add("model.safetensors")
    download_model(SPEC, store, endpoint=hub.endpoint)
    assert len(hub.file_requests("model.safetensors")) == 2
    assert (store.folder_for(SPEC) / "model.safetensors").read_bytes() == WEIGHTS
    manifest = store.read_manifest(SPEC)
    assert manifest is not None
    assert {f.path: f.sha256 for f in manifest.files}["model.safetensors"] == sha(WEIGHTS)


def test_a_file_that_stays_corrupt_is_never_kept(hub: FakeModelScope, store: ModelStore) -> None:
    hub.faults.corrupt_always.add("model.safetensors")
    with pytest.raises(DownloadError, match="kept arriving damaged"):
        download_model(SPEC, store, endpoint=hub.endpoint)
    folder = store.folder_for(SPEC)
    assert not (folder / "model.safetensors").exists()
    assert not (folder / "model.safetensors.incomplete").exists()
    assert not store.is_installed(SPEC)


def test_force_repairs_a_file_damaged_on_disk(hub: FakeModelScope, store: ModelStore) -> None:
    download_model(SPEC, store, endpoint=hub.endpoint)
    weights = store.folder_for(SPEC) / "model.safetensors"
    damaged = bytearray(WEIGHTS)
    damaged[1000] ^= 0xFF
    weights.write_bytes(bytes(damaged))
    assert store.is_installed(SPEC)  # start-up checks sizes only
    download_model(SPEC, store, endpoint=hub.endpoint, force=True)
    assert weights.read_bytes() == WEIGHTS
    assert len(hub.file_requests("model.safetensors")) == 2
    assert len(hub.file_requests("config.json")) == 1  # good files are kept
    assert store.is_installed(SPEC)


def test_not_enough_disk_space_starts_nothing(
    hub: FakeModelScope, store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Usage(NamedTuple):
        total: int
        used: int
        free: int

    monkeypatch.setattr(downloads.shutil, "disk_usage", lambda path: Usage(10**9, 10**9, 50_000))
    with pytest.raises(DiskSpaceError) as error:
        download_model(SPEC, store, endpoint=hub.endpoint)
    message = str(error.value)
    assert "Not enough disk space" in message
    assert "needs 2.1 MB" in message
    assert "only 50.0 kB is free" in message
    assert hub.file_requests() == []
    assert not store.folder_for(SPEC).exists()


def test_a_model_the_hub_does_not_have(hub: FakeModelScope, store: ModelStore) -> None:
    missing = dataclasses.replace(SPEC, id="Qwen/No-Such-Model")
    with pytest.raises(RemoteModelNotFoundError, match="has no model Qwen/No-Such-Model"):
        download_model(missing, store, endpoint=hub.endpoint)
    with pytest.raises(RemoteModelNotFoundError, match=r"at revision 'v9\.9'"):
        download_model(dataclasses.replace(SPEC, revision="v9.9"), store, endpoint=hub.endpoint)
    assert hub.file_requests() == []


def test_a_repo_without_safetensors_weights_is_refused(
    hub: FakeModelScope, store: ModelStore
) -> None:
    files = {k: v for k, v in FILES.items() if k != "model.safetensors"}
    hub.add_repo(SPEC.id, files)  # .bin weights only
    with pytest.raises(DownloadError, match=r"no config\.json and \.safetensors weights"):
        download_model(SPEC, store, endpoint=hub.endpoint)
    assert hub.file_requests() == []


def test_a_hub_that_is_down(hub: FakeModelScope, store: ModelStore) -> None:
    hub.faults.hub_down = True
    with pytest.raises(HubUnavailableError, match=r"not working properly.*HTTP 503"):
        download_model(SPEC, store, endpoint=hub.endpoint)


def test_the_hub_going_down_mid_file_keeps_the_partial_file(
    hub: FakeModelScope, store: ModelStore
) -> None:
    hub.faults.drop_once["model.safetensors"] = 900_000
    hub.faults.down_after_drop = True
    with pytest.raises(HubUnavailableError, match="already downloaded is kept"):
        download_model(SPEC, store, endpoint=hub.endpoint)
    assert partial_size(store) == 900_000
    assert not store.is_installed(SPEC)

    hub.faults.hub_down = False
    download_model(SPEC, store, endpoint=hub.endpoint)
    assert hub.file_requests("model.safetensors")[-1].range == "bytes=900000-"
    assert store.is_installed(SPEC)


def test_an_unreachable_hub(store: ModelStore) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HubUnavailableError, match="Cannot reach ModelScope"):
        download_model(SPEC, store, endpoint=f"http://127.0.0.1:{port}")


def test_a_broken_progress_callback_does_not_break_the_download(
    hub: FakeModelScope, store: ModelStore
) -> None:
    def explode(progress: DownloadProgress) -> None:
        raise RuntimeError("display broke")

    download_model(SPEC, store, endpoint=hub.endpoint, on_progress=explode)
    assert store.is_installed(SPEC)


def test_a_windowed_app_without_stderr_can_download(hub: FakeModelScope, tmp_path: Path) -> None:
    # pythonw and frozen windowed apps have sys.stderr = None; the client's tqdm must not crash.
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.stderr = None
        from vldesk.core.catalog import find_model
        from vldesk.core.downloads import download_model
        from vldesk.core.store import ModelStore
        store = ModelStore(Path({str(tmp_path / "w")!r}))
        spec = find_model({SPEC.id!r})
        download_model(spec, store, endpoint={hub.endpoint!r})
        print("installed", store.is_installed(spec))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "MODELSCOPE_DOWNLOAD_MAX_RETRIES": "1"},
    )
    assert result.stdout.strip() == "installed True", result.stdout + result.stderr


# -- progress accounting -------------------------------------------------------------------------


def test_resumed_bytes_count_as_done_but_not_as_speed(tmp_path: Path) -> None:
    now = [0.0]
    remote = select_files([{"Path": "model.safetensors", "Size": 1000, "Sha256": "a" * 64}])
    (tmp_path / "model.safetensors.incomplete").write_bytes(b"x" * 600)
    seen: list[DownloadProgress] = []
    tracker = _Tracker("m", tmp_path, remote, seen.append, clock=lambda: now[0])
    assert tracker.snapshot().bytes_done == 600
    tracker.start_file("model.safetensors")
    tracker.add("model.safetensors", 600)  # the client re-reports what is on disk
    now[0] = 1.0
    tracker.add("model.safetensors", 100)
    snap = tracker.snapshot()
    assert snap.bytes_done == 700
    assert snap.speed == pytest.approx(100.0)
    assert snap.eta == pytest.approx(3.0)
    tracker.add("model.safetensors", -700)  # the server ignored Range: start over
    assert tracker.snapshot().bytes_done == 0
    tracker.finish_file("model.safetensors")
    assert seen[-1].bytes_done == 1000
    assert seen[-1].files_done == 1


# -- the CLI -------------------------------------------------------------------------------------


def test_cli_download_shows_progress_and_installs(
    hub: FakeModelScope, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VLDESK_MODELSCOPE_ENDPOINT", hub.endpoint)
    assert run_cli(["models", "download", SPEC.id]) == 0
    out, err = capsys.readouterr()
    assert f"{SPEC.id} is installed in" in out
    assert "Looking up Qwen/Qwen3-VL-2B-Instruct on ModelScope" in err
    assert "100.0%" in err
    assert "done" in err
    assert "Traceback" not in err

    assert run_cli(["models", "download", SPEC.id.lower()]) == 0
    assert "already installed" in capsys.readouterr().out

    assert run_cli(["models", "list"]) == 0
    listing = capsys.readouterr().out
    line = next(x for x in listing.splitlines() if SPEC.id in x)
    assert "installed" in line
    assert "2.1 MB" in line


def test_cli_ctrl_c_cancels_cleanly_and_the_next_run_resumes(
    hub: FakeModelScope, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VLDESK_MODELSCOPE_ENDPOINT", hub.endpoint)
    hub.faults.pause_once["model.safetensors"] = 1_000_000

    def press_ctrl_c() -> None:
        if hub.paused.wait(timeout=20):
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)

    handler = signal.getsignal(signal.SIGINT)
    threading.Thread(target=press_ctrl_c, daemon=True).start()
    assert run_cli(["models", "download", SPEC.id]) == 130
    hub.release.set()
    err = capsys.readouterr().err
    assert "Stopping the download" in err
    assert "was cancelled" in err
    assert f"Resume with: vldesk models download {SPEC.id}" in err
    assert "Traceback" not in err
    assert signal.getsignal(signal.SIGINT) is handler  # put back as it was

    assert run_cli(["models", "list"]) == 0
    assert "partial" in next(x for x in capsys.readouterr().out.splitlines() if SPEC.id in x)

    assert run_cli(["models", "download", SPEC.id]) == 0
    assert hub.file_requests("model.safetensors")[-1].range not in (None, "bytes=0-")


def test_cli_download_errors_are_one_line(
    hub: FakeModelScope, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VLDESK_MODELSCOPE_ENDPOINT", hub.endpoint)
    hub.faults.hub_down = True
    assert run_cli(["models", "download", SPEC.id]) == 1
    err = capsys.readouterr().err
    assert "vldesk: error: ModelScope is not working properly right now (HTTP 503)" in err
    assert "Traceback" not in err

    assert run_cli(["models", "download", "Qwen/Not-In-Catalog"]) == 1
    assert "is not in the catalog" in capsys.readouterr().err


def test_progress_printer_without_a_terminal_prints_periodic_lines() -> None:
    import io

    now = [0.0]
    stream = io.StringIO()
    printer = ProgressPrinter(stream, tty=False, line_interval_s=5, clock=lambda: now[0])

    def progress(done: int, phase: Any = "downloading") -> DownloadProgress:
        return DownloadProgress("m", phase, done, 1000, 100.0, (1000 - done) / 100, "w.bin", 0, 1)

    printer(DownloadProgress("m", "listing", 0, 0, 0.0, None, None, 0, 0))
    printer(progress(100))
    now[0] = 1.0
    printer(progress(200))  # too soon for another line
    now[0] = 6.0
    printer(progress(700))
    printer(progress(1000, "done"))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "Looking up m on ModelScope ..."
    assert lines[1] == " 10.0%  100 B / 1.0 kB  100 B/s  ETA 9s  w.bin"
    assert lines[2].startswith(" 70.0%")
    assert lines[3] == "100.0%  1.0 kB / 1.0 kB  done"
    assert len(lines) == 4


def test_progress_printer_on_a_terminal_redraws_one_line() -> None:
    import io

    stream = io.StringIO()
    printer = ProgressPrinter(stream, tty=True, clock=lambda: 0.0)
    printer(DownloadProgress("m", "downloading", 500, 1000, 2e6, 125.0, "w.bin", 0, 1))
    printer.close()
    text = stream.getvalue()
    assert text.startswith("\r[############------------]   50.0%  500 B / 1.0 kB  2.0 MB/s")
    assert "ETA 2m05s  w.bin" in text
    assert text.endswith("\n")
