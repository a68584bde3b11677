"""Downloads through the real modelscope_hub client, over HTTP, against a faithful fake hub."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
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

from tests.helpers import PROJECT_ROOT
from tests.helpers.fake_modelscope import (
    CONFIG,
    QWEN3_VL_2B_FILES,
    FakeModelScope,
    add_qwen3_vl_2b,
    model_files,
    safetensors_bytes,
)
from tests.helpers.netguard import no_network
from vldesk.cli import run_cli
from vldesk.cli.models import ProgressPrinter
from vldesk.core.errors import (
    DiskSpaceError,
    DownloadCancelled,
    DownloadError,
    HubUnavailableError,
    RemoteModelNotFoundError,
)
from vldesk.core.models import downloads, hub_sites, modelscope_adapter
from vldesk.core.models.catalog import Family, find_model
from vldesk.core.models.download_progress import DownloadProgress, ProgressTracker
from vldesk.core.models.downloads import download_model, remote_model_spec
from vldesk.core.models.folder_check import validate_model_folder
from vldesk.core.models.hub_sites import hub_endpoint, hub_endpoints
from vldesk.core.models.partials import PARTIALS_NAME
from vldesk.core.models.remote_files import listing_commit, select_files
from vldesk.core.models.store import MANIFEST_NAME, InstallState, ModelStore
from vldesk.core.paths import app_paths

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
    for name in (
        "VLDESK_MODELSCOPE_ENDPOINT",
        "MODELSCOPE_ENDPOINT",
        "MODELSCOPE_DOMAIN",
        "MODELSCOPE_PREFER_AI_SITE",
        "MODELSCOPE_API_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    # The hub client must not read or write the real ~/.modelscope or ~/.cache/modelscope.
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms-cache"))
    monkeypatch.setenv("MODELSCOPE_HOME", str(tmp_path / "ms-home"))
    with no_network(monkeypatch) as attempts:
        yield
    assert attempts == [], "only the fake hub on loopback may be contacted"


@pytest.fixture(autouse=True)
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The client's retry pauses, recorded instead of waited: its real retry budgets stay."""
    seen: list[float] = []
    owner = modelscope_adapter.retry_pause_owner()

    def pause(control: Any, seconds: float) -> None:
        control.check()  # a cancel or a spent time budget still ends the pause
        seen.append(seconds)

    monkeypatch.setattr(owner, "sleep", pause)
    return seen


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


def leftovers(folder: Path) -> list[str]:
    """Anything partial the client or vldesk left in a model folder."""
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return sorted(
        n
        for n in names
        if n.endswith((".incomplete", ".parallel_tmp"))
        or n == PARTIALS_NAME
        or any(n.startswith(f"{w}_") for w in WANTED)
    )


def free_port() -> int:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_partial(store: ModelStore, size: int, name: str = "model.safetensors") -> None:
    """Wait until the bytes sent before a stall are in the partial file (or 20 s pass)."""
    path = store.folder_for(SPEC) / f"{name}.incomplete"
    for _ in range(2000):
        with contextlib.suppress(OSError):
            if path.stat().st_size >= size:
                return
        time.sleep(0.01)


def cancel_when_paused(
    hub: FakeModelScope, store: ModelStore, cancel: threading.Event, offset: int
) -> threading.Thread:
    """Set ``cancel`` from another thread once the fake hub stalls mid-file at ``offset``."""

    def act() -> None:
        if hub.paused.wait(timeout=20):
            wait_for_partial(store, offset)
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
    head = hub.repo(SPEC.id).head.id
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["model_id"] == SPEC.id
    assert manifest["revision"] == SPEC.revision
    assert manifest["commit"] == head
    assert manifest["endpoint"] == hub.endpoint
    assert manifest["downloaded_at"]
    assert {f["path"]: (f["size"], f["sha256"]) for f in manifest["files"]} == {
        name: (len(FILES[name]), sha(FILES[name])) for name in WANTED
    }

    # One listing (gzip, with the folder entry the repo has), then every file at its commit.
    (listing,) = hub.listing_requests()
    assert (listing.status, listing.encoding, listing.query["Revision"]) == (200, "gzip", "master")
    fetched = hub.file_requests()
    assert sorted(r.file or "" for r in fetched) == sorted(WANTED)
    assert {(r.path, r.query["Revision"]) for r in fetched} == {(FILE_ENDPOINT, head)}
    # The weights came from the CDN through a signed redirect; the small files straight.
    assert [r.status for r in hub.file_requests("model.safetensors")] == [302]
    assert [r.status for r in hub.cdn_requests("model.safetensors")] == [200]
    assert {r.status for r in hub.file_requests("config.json")} == {200}

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


def test_the_real_qwen3_vl_listing_downloads_as_a_usable_folder(store: ModelStore) -> None:
    with FakeModelScope() as hub:
        repo = add_qwen3_vl_2b(hub)
        folder = download_model(SPEC, store, endpoint=hub.endpoint)
        (listing,) = hub.listing_requests()

    entries = repo.listing(repo.branches["master"])
    assert sorted(e["Path"] for e in entries) == sorted(QWEN3_VL_2B_FILES)
    assert "CommitId" not in entries[0]
    # The README changed last: its commit is the repo's, though vldesk never fetches it.
    by_path = {e["Path"]: e["Revision"] for e in entries}
    assert by_path["README.md"] == repo.head.id != by_path["config.json"]
    wanted = set(QWEN3_VL_2B_FILES) - {".gitattributes", "README.md"}
    assert {p.name for p in folder.iterdir()} == wanted | {MANIFEST_NAME}
    manifest = store.read_manifest(SPEC)
    assert manifest is not None
    assert manifest.commit == repo.head.id
    assert listing.status == 200
    check = validate_model_folder(folder)
    assert check.family is Family.QWEN3_VL
    assert check.ok, check.reason


def test_an_installed_model_is_not_downloaded_again(hub: FakeModelScope, store: ModelStore) -> None:
    download_model(SPEC, store, endpoint=hub.endpoint)
    before = len(hub.requests)
    hub.stop()  # no hub at all: the installed model is found from local files
    seen: list[DownloadProgress] = []
    assert download_model(SPEC, store, endpoint=hub.endpoint, on_progress=seen.append)
    assert len(hub.requests) == before
    assert [p.phase for p in seen] == ["done"]


def test_a_revision_can_be_a_commit(hub: FakeModelScope, store: ModelStore) -> None:
    first = hub.repo(SPEC.id).head.id
    hub.repo(SPEC.id).push({"config.json": b'{"model_type": "qwen3_vl", "v": 2}'}, replace=False)
    pinned = dataclasses.replace(SPEC, revision=first)
    download_model(pinned, store, endpoint=hub.endpoint)
    assert {r.query["Revision"] for r in hub.requests if "Revision" in r.query} == {first}
    assert (store.folder_for(SPEC) / "config.json").read_bytes() == FILES["config.json"]
    manifest = store.read_manifest(pinned)
    assert manifest is not None
    assert (manifest.revision, manifest.commit) == (first, first)


def test_a_push_upstream_mid_download_cannot_mix_the_files(
    hub: FakeModelScope, store: ModelStore
) -> None:
    repo = hub.repo(SPEC.id)
    listed = repo.head.id
    hub.faults.pause_once["model.safetensors"] = 1_000_000
    errors: list[BaseException] = []

    def run() -> None:
        try:
            download_model(SPEC, store, endpoint=hub.endpoint, max_workers=1)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert hub.paused.wait(20)
    newer = {**FILES, "vocab.json": b'{"c": 0}', "model.safetensors": safetensors_bytes(seed=9)}
    repo.push(newer, "New weights")
    hub.release.set()
    worker.join(30)
    assert errors == []

    folder = store.folder_for(SPEC)
    for name in WANTED:
        assert (folder / name).read_bytes() == FILES[name], name
    assert {r.query["Revision"] for r in hub.file_requests()} == {listed}
    manifest = store.read_manifest(SPEC)
    assert manifest is not None
    assert manifest.commit == listed

    # The next forced download brings the new commit, whole.
    download_model(SPEC, store, endpoint=hub.endpoint, force=True)
    assert (folder / "model.safetensors").read_bytes() == newer["model.safetensors"]
    assert (folder / "vocab.json").read_bytes() == newer["vocab.json"]
    manifest = store.read_manifest(SPEC)
    assert manifest is not None
    assert manifest.commit == repo.head.id


def test_a_service_that_refuses_commit_ids_still_gets_checked_files(
    hub: FakeModelScope, store: ModelStore, caplog: pytest.LogCaptureFixture
) -> None:
    hub.faults.refuse_commit_ids = True
    with caplog.at_level(logging.WARNING, logger="vldesk.core.models.downloads"):
        download_model(SPEC, store, endpoint=hub.endpoint)
    head = hub.repo(SPEC.id).head.id
    asked = [(r.query["Revision"], r.status) for r in hub.file_requests("config.json")]
    assert asked == [(head, 404), ("master", 200)]
    assert {r.query["Revision"] for r in hub.file_requests("model.safetensors")} == {"master"}
    assert "does not serve files by commit id" in caplog.text
    manifest = store.read_manifest(SPEC)
    assert manifest is not None
    assert manifest.commit == head


def test_listing_commit_is_the_newest_per_file_revision() -> None:
    entries: list[dict[str, Any]] = [
        {"Path": "a.json", "Revision": "a" * 40, "CommittedDate": 10},
        {"Path": "b.json", "Revision": "b" * 40, "CommittedDate": 30},
        {"Path": "sub", "Type": "tree", "Revision": "c" * 40, "CommittedDate": 99},
        {"Path": "c.json", "Revision": "master", "CommittedDate": 50},
    ]
    assert listing_commit(entries) == "b" * 40
    assert listing_commit([{"Path": "a.json"}]) is None


# -- where ModelScope is -------------------------------------------------------------------------


def test_the_address_settings_and_their_order(monkeypatch: pytest.MonkeyPatch) -> None:
    cn, ai = hub_sites.OFFICIAL_SITES
    assert hub_endpoints() == (cn, ai)
    monkeypatch.setenv("MODELSCOPE_PREFER_AI_SITE", "true")
    assert hub_endpoints() == (ai, cn)
    monkeypatch.setenv("MODELSCOPE_DOMAIN", "modelscope.cn")
    assert hub_endpoints() == ("https://modelscope.cn", ai)
    monkeypatch.setenv("MODELSCOPE_ENDPOINT", "https://www.modelscope.ai/")
    assert hub_endpoints() == (ai, cn)
    monkeypatch.setenv("VLDESK_MODELSCOPE_ENDPOINT", "http://mirror.example:8080/")
    assert hub_endpoints() == ("http://mirror.example:8080",)  # a mirror has no fallback
    assert hub_endpoint("https://modelscope.cn") == "https://modelscope.cn"
    with pytest.raises(DownloadError, match="must start with https://"):
        hub_endpoint("ftp://example.com")


def test_the_client_s_endpoint_setting_is_honoured(
    hub: FakeModelScope, store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELSCOPE_ENDPOINT", hub.endpoint + "/")
    download_model(SPEC, store)
    manifest = store.read_manifest(SPEC)
    assert manifest is not None
    assert manifest.endpoint == hub.endpoint


def test_an_unreachable_first_site_falls_back_to_the_other_and_says_so(
    hub: FakeModelScope,
    store: ModelStore,
    monkeypatch: pytest.MonkeyPatch,
    pauses: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setattr(hub_sites, "OFFICIAL_SITES", (dead, hub.endpoint))
    seen: list[DownloadProgress] = []
    with caplog.at_level(logging.WARNING, logger="vldesk.core.models.downloads"):
        download_model(SPEC, store, on_progress=seen.append)
    said = f"ModelScope at {dead} cannot be reached; trying {hub.endpoint} instead."
    assert said in caplog.text
    assert [p.notice for p in seen if p.notice] == [said]
    assert pauses[:3] == [1, 2, 4]  # the client's own listing budget was spent on it first
    manifest = store.read_manifest(SPEC)
    assert manifest is not None
    assert manifest.endpoint == hub.endpoint


def test_a_model_only_the_other_site_has_is_found_there(
    hub: FakeModelScope, store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeModelScope() as empty:
        monkeypatch.setattr(hub_sites, "OFFICIAL_SITES", (empty.endpoint, hub.endpoint))
        download_model(SPEC, store)
        (miss,) = empty.listing_requests()
    assert miss.status == 404
    assert store.is_installed(SPEC)


def test_when_neither_site_answers_both_are_named(
    store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    monkeypatch.setattr(hub_sites, "OFFICIAL_SITES", (first, second))
    with pytest.raises(HubUnavailableError) as error:
        download_model(SPEC, store)
    assert f"{first} cannot be reached; {second} cannot be reached" in str(error.value)
    with FakeModelScope() as one, FakeModelScope() as other:
        monkeypatch.setattr(hub_sites, "OFFICIAL_SITES", (one.endpoint, other.endpoint))
        with pytest.raises(RemoteModelNotFoundError, match="Neither ModelScope site"):
            download_model(SPEC, store)


def test_an_explicit_address_has_no_fallback(store: ModelStore) -> None:
    with pytest.raises(HubUnavailableError, match="Cannot reach ModelScope"):
        download_model(SPEC, store, endpoint=f"http://127.0.0.1:{free_port()}")


# -- unknown models and revisions ----------------------------------------------------------------


def test_an_unknown_model_is_reported_as_such(hub: FakeModelScope, store: ModelStore) -> None:
    missing = dataclasses.replace(SPEC, id="Qwen/No-Such-Model")
    with pytest.raises(RemoteModelNotFoundError, match="has no model Qwen/No-Such-Model"):
        download_model(missing, store, endpoint=hub.endpoint)
    (listing,) = hub.listing_requests()
    assert listing.status == 404
    assert hub.file_requests() == []


def test_an_unknown_revision_is_reported_as_such(hub: FakeModelScope, store: ModelStore) -> None:
    hub.repo(SPEC.id).tag("v1.0")
    with pytest.raises(RemoteModelNotFoundError) as error:
        download_model(dataclasses.replace(SPEC, revision="v9.9"), store, endpoint=hub.endpoint)
    assert str(error.value) == (
        f"ModelScope ({hub.endpoint}) has no revision 'v9.9' of {SPEC.id}; it has: master, v1.0."
    )
    (listing,) = hub.listing_requests()
    assert listing.status == 200  # the service answers an unknown revision with Files: null
    assert hub.file_requests() == []


# -- the CDN -------------------------------------------------------------------------------------


def test_the_redirect_to_the_cdn_carries_range_and_no_credentials(
    hub: FakeModelScope, store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELSCOPE_API_TOKEN", "ms-secret-token")
    hub.faults.drop_once["model.safetensors"] = 500_000
    download_model(SPEC, store, endpoint=hub.endpoint)
    api = hub.file_requests("model.safetensors")
    cdn = hub.cdn_requests("model.safetensors")
    assert {r.authorization for r in api} == {"Bearer ms-secret-token"}
    assert [r.range for r in cdn] == [None, "bytes=500000-"]
    assert [r.status for r in cdn] == [200, 206]
    assert all(r.authorization is None for r in cdn)
    if hub.cdn_address[0] != "127.0.0.1":  # a real other host: the session cookie stays home
        assert all("ms-secret-token" not in (r.cookie or "") for r in cdn)
    assert (store.folder_for(SPEC) / "model.safetensors").read_bytes() == WEIGHTS


def test_a_cdn_that_resumes_with_200_and_content_range(
    hub: FakeModelScope, store: ModelStore
) -> None:
    hub.faults.range_status = 200
    hub.faults.drop_once["model.safetensors"] = 700_000
    download_model(SPEC, store, endpoint=hub.endpoint)
    cdn = hub.cdn_requests("model.safetensors")
    assert [(r.range, r.status) for r in cdn] == [(None, 200), ("bytes=700000-", 200)]
    assert (store.folder_for(SPEC) / "model.safetensors").read_bytes() == WEIGHTS


def test_small_files_that_ignore_range_start_over(hub: FakeModelScope, store: ModelStore) -> None:
    folder = store.folder_for(SPEC)
    folder.mkdir(parents=True)
    (folder / "vocab.json.incomplete").write_bytes(FILES["vocab.json"][:5])
    download_model(SPEC, store, endpoint=hub.endpoint)
    (request,) = hub.file_requests("vocab.json")
    assert (request.range, request.status) == ("bytes=5-", 200)
    assert (folder / "vocab.json").read_bytes() == FILES["vocab.json"]
    assert leftovers(folder) == []


@pytest.mark.parametrize("fault", ["empty_once", "truncate_once"])
def test_an_empty_or_cut_body_once_is_fetched_again(
    hub: FakeModelScope, store: ModelStore, fault: str
) -> None:
    getattr(hub.faults, fault).add("model.safetensors")
    download_model(SPEC, store, endpoint=hub.endpoint)
    assert len(hub.cdn_requests("model.safetensors")) == 2
    assert (store.folder_for(SPEC) / "model.safetensors").read_bytes() == WEIGHTS


@pytest.mark.parametrize("fault", ["empty_always", "truncate_always"])
def test_a_cdn_copy_that_is_always_empty_or_cut_is_refused_in_words(
    hub: FakeModelScope, store: ModelStore, fault: str
) -> None:
    getattr(hub.faults, fault).add("model.safetensors")
    with pytest.raises(DownloadError) as error:
        download_model(SPEC, store, endpoint=hub.endpoint)
    assert str(error.value).startswith(
        f"ModelScope twice served model.safetensors of {SPEC.id} with a size other than the "
        f"{len(WEIGHTS):,} bytes its listing gives"
    )
    folder = store.folder_for(SPEC)
    assert not (folder / "model.safetensors").exists()
    assert not (folder / "model.safetensors.incomplete").exists()
    assert not store.is_installed(SPEC)


# -- rate limits, gateways and the real retry budgets --------------------------------------------


def test_429_with_retry_after_is_waited_out(
    hub: FakeModelScope, store: ModelStore, pauses: list[float]
) -> None:
    hub.faults.retry_after = 7
    hub.faults.rate_limited.update({"listing": 2, "file": 1})
    download_model(SPEC, store, endpoint=hub.endpoint)
    assert pauses == [7, 7, 7]  # exactly what the service asked for, each time
    assert [r.status for r in hub.listing_requests()] == [429, 429, 200]
    assert store.is_installed(SPEC)


def test_a_gateway_error_page_is_retried_within_the_real_budgets(
    hub: FakeModelScope, store: ModelStore, pauses: list[float]
) -> None:
    # The listing gets 4 attempts and a file 1 + 5 retries: one error short of each budget.
    hub.faults.gateway_errors.update({"listing": 3, "file": 5})
    download_model(SPEC, store, endpoint=hub.endpoint)
    assert store.is_installed(SPEC)
    assert [r.status for r in hub.listing_requests()] == [502, 502, 502, 200]
    assert [r.status for r in hub.file_requests("config.json")] == [502] * 5 + [200]
    assert pauses[:3] == [1, 2, 4]


def test_a_gateway_error_page_past_the_budget_is_reported_without_its_html(
    hub: FakeModelScope, store: ModelStore
) -> None:
    hub.faults.gateway_errors["listing"] = 4
    with pytest.raises(HubUnavailableError) as error:
        download_model(SPEC, store, endpoint=hub.endpoint)
    assert "not working properly right now (HTTP 502)" in str(error.value)
    assert "<" not in str(error.value)
    assert len(hub.listing_requests()) == 4


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
    assert leftovers(store.folder_for(SPEC)) == []


# -- the architecture, before the weights --------------------------------------------------------


def test_a_model_of_another_architecture_is_refused_before_its_weights(
    hub: FakeModelScope, store: ModelStore
) -> None:
    llama = {"architectures": ["LlamaForCausalLM"], "model_type": "llama"}
    hub.add_repo("someone/Llama-3-8B", {**FILES, "config.json": json.dumps(llama).encode()})
    with pytest.raises(DownloadError) as error:
        remote_model_spec("someone/Llama-3-8B", store, endpoint=hub.endpoint)
    assert str(error.value).startswith(
        "someone/Llama-3-8B on ModelScope is not a model vldesk can run: its config.json says "
        "model type 'llama' (LlamaForCausalLM);"
    )
    assert str(error.value).endswith("Nothing else was downloaded.")
    assert [r.file for r in hub.file_requests()] == ["config.json"]
    assert hub.cdn_requests() == []


def test_a_catalog_model_whose_config_changed_architecture_is_refused(
    hub: FakeModelScope, store: ModelStore
) -> None:
    other = {**CONFIG, "model_type": "qwen2_5_vl"}
    hub.add_repo(SPEC.id, {**FILES, "config.json": json.dumps(other).encode()})
    with pytest.raises(DownloadError, match="now a qwen2_5_vl model, not the qwen3_vl model"):
        download_model(SPEC, store, endpoint=hub.endpoint)
    assert hub.cdn_requests() == []
    assert not store.folder_for(SPEC).exists()


def test_a_refused_update_leaves_the_installed_model_as_it_was(
    hub: FakeModelScope, store: ModelStore
) -> None:
    download_model(SPEC, store, endpoint=hub.endpoint)
    llama = {"architectures": ["LlamaForCausalLM"], "model_type": "llama"}
    hub.repo(SPEC.id).push({"config.json": json.dumps(llama).encode()}, replace=False)
    with pytest.raises(DownloadError, match="model type 'llama'"):
        download_model(SPEC, store, endpoint=hub.endpoint, force=True)
    assert store.is_installed(SPEC)
    assert (store.folder_for(SPEC) / "config.json").read_bytes() == FILES["config.json"]


def test_any_repo_id_of_a_supported_architecture_can_be_downloaded(
    hub: FakeModelScope, store: ModelStore
) -> None:
    hub.add_repo("someone/Qwen3-VL-2B-Captioner", FILES)
    spec = remote_model_spec("someone/Qwen3-VL-2B-Captioner", store, endpoint=hub.endpoint)
    assert (spec.family, spec.revision) == (Family.QWEN3_VL, "master")
    assert spec.params == len(WEIGHTS) // 2
    assert spec.download_bytes == sum(len(FILES[n]) for n in WANTED)
    folder = download_model(spec, store, endpoint=hub.endpoint)
    assert folder == store.models_dir / "someone--Qwen3-VL-2B-Captioner"
    assert store.is_installed(spec)
    assert store.find_downloaded(spec.id) == spec  # the store finds it again from its manifest
    assert remote_model_spec(SPEC.id.lower(), store) is SPEC  # the catalog's own, offline
    with pytest.raises(RemoteModelNotFoundError, match="has no model someone/Missing"):
        remote_model_spec("someone/Missing", store, endpoint=hub.endpoint)


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
    cancel_when_paused(hub, store, cancel, 1_000_000)
    with pytest.raises(DownloadCancelled, match="start the download again to resume"):
        download_model(SPEC, store, endpoint=hub.endpoint, cancel=cancel)
    assert hub.stalling.is_set()  # the cancel did not wait for the stalled read to go on
    hub.release.set()

    kept = partial_size(store)
    assert kept == 1_000_000
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
    assert leftovers(store.folder_for(SPEC)) == []


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
    assert [r.range for r in hub.cdn_requests("model.safetensors")] == ["bytes=123456-"]
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert store.is_installed(SPEC)


def test_a_partial_file_of_unknown_origin_that_fails_the_hash_is_fetched_once_more(
    hub: FakeModelScope, store: ModelStore, caplog: pytest.LogCaptureFixture
) -> None:
    folder = store.folder_for(SPEC)
    folder.mkdir(parents=True)
    (folder / "model.safetensors.incomplete").write_bytes(b"\0" * 100_000)  # other content
    with caplog.at_level(logging.WARNING, logger="vldesk.core.models.downloads"):
        download_model(SPEC, store, endpoint=hub.endpoint)
    assert [r.range for r in hub.cdn_requests("model.safetensors")] == ["bytes=100000-", None]
    assert "the partial file kept from an earlier download did not belong to it" in caplog.text
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS


def test_a_partial_of_a_file_that_changed_upstream_starts_over_at_once(
    hub: FakeModelScope, store: ModelStore, caplog: pytest.LogCaptureFixture
) -> None:
    hub.faults.pause_once["model.safetensors"] = 1_000_000
    cancel = threading.Event()
    cancel_when_paused(hub, store, cancel, 1_000_000)
    with pytest.raises(DownloadCancelled):
        download_model(SPEC, store, endpoint=hub.endpoint, cancel=cancel)
    hub.release.set()
    assert partial_size(store) == 1_000_000

    newer = safetensors_bytes(seed=5)
    hub.repo(SPEC.id).push({"model.safetensors": newer}, "New weights", replace=False)
    with caplog.at_level(logging.WARNING, logger="vldesk.core.models.downloads"):
        download_model(SPEC, store, endpoint=hub.endpoint)
    # No doomed resume and no second download: the stale partial never reached the client.
    assert [r.range for r in hub.cdn_requests("model.safetensors")][1:] == [None]
    assert "belongs to another version of it" in caplog.text
    assert (store.folder_for(SPEC) / "model.safetensors").read_bytes() == newer


def test_a_corrupted_file_is_fetched_again_once(
    hub: FakeModelScope, store: ModelStore, caplog: pytest.LogCaptureFixture
) -> None:
    hub.faults.corrupt_once.add("model.safetensors")
    with caplog.at_level(logging.WARNING, logger="vldesk.core.models.downloads"):
        download_model(SPEC, store, endpoint=hub.endpoint)
    assert len(hub.cdn_requests("model.safetensors")) == 2
    assert "the damaged bytes cannot be located" in caplog.text
    assert (store.folder_for(SPEC) / "model.safetensors").read_bytes() == WEIGHTS
    manifest = store.read_manifest(SPEC)
    assert manifest is not None
    assert {f.path: f.sha256 for f in manifest.files}["model.safetensors"] == sha(WEIGHTS)


def test_a_file_that_stays_corrupt_is_fetched_twice_not_thrice_and_never_kept(
    hub: FakeModelScope, store: ModelStore
) -> None:
    hub.faults.corrupt_always.add("model.safetensors")
    with pytest.raises(DownloadError) as error:
        download_model(SPEC, store, endpoint=hub.endpoint)
    message = str(error.value)
    assert "arrived damaged twice" in message
    assert "cannot be resumed part-way: ModelScope publishes one checksum per file" in message
    assert len(hub.cdn_requests("model.safetensors")) == 2
    folder = store.folder_for(SPEC)
    assert not (folder / "model.safetensors").exists()
    assert not (folder / "model.safetensors.incomplete").exists()
    assert not store.is_installed(SPEC)


@pytest.fixture
def parallel_parts(monkeypatch: pytest.MonkeyPatch) -> int:
    """What MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS=4 (read once, at import) sets in the client,
    with a threshold and part size small enough for the 2 MB weights: five parts."""
    import modelscope_hub._download as client_download

    part = 512 * 1024
    monkeypatch.setattr(client_download, "DOWNLOAD_PARALLELS", 4)
    monkeypatch.setattr(client_download, "DOWNLOAD_PARALLEL_THRESHOLD", 1024 * 1024)
    monkeypatch.setattr(client_download, "DOWNLOAD_PART_SIZE", part)
    return part


def test_parallel_parts_are_counted_resumed_and_cleaned(
    hub: FakeModelScope, store: ModelStore, parallel_parts: int
) -> None:
    hub.faults.drop_once["model.safetensors"] = parallel_parts + 100_000
    hub.faults.down_after_drop = True
    with pytest.raises(HubUnavailableError):
        download_model(SPEC, store, endpoint=hub.endpoint)
    folder = store.folder_for(SPEC)
    parts = sorted(folder.glob("model.safetensors_*_*"))
    assert parts, "the client left its parallel parts"
    kept = sum(p.stat().st_size for p in parts)
    assert store.status(SPEC).state is InstallState.PARTIAL

    hub.faults.hub_down = False
    seen: list[DownloadProgress] = []
    download_model(SPEC, store, endpoint=hub.endpoint, on_progress=seen.append)
    first = next(p for p in seen if p.phase == "downloading")
    assert first.bytes_done >= kept  # the parts count as downloaded
    resumed = [r.range for r in hub.cdn_requests("model.safetensors")[-5:]]
    assert f"bytes={parallel_parts + 100_000}-{2 * parallel_parts - 1}" in resumed
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert leftovers(folder) == []


def test_parts_the_client_will_not_resume_are_cleaned_before_the_download(
    hub: FakeModelScope, store: ModelStore, parallel_parts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = store.folder_for(SPEC)
    folder.mkdir(parents=True)
    # Parts from a run with another part size, a merge cut short, and a single-stream partial.
    (folder / "model.safetensors_0_99999").write_bytes(WEIGHTS[:100_000])
    (folder / "model.safetensors.parallel_tmp").write_bytes(WEIGHTS[:10])
    (folder / "model.safetensors.incomplete").write_bytes(WEIGHTS[:10])
    (folder / f"model.safetensors_0_{parallel_parts - 1}").write_bytes(WEIGHTS[:1000])
    download_model(SPEC, store, endpoint=hub.endpoint)
    ranges = [r.range for r in hub.cdn_requests("model.safetensors")]
    assert f"bytes=1000-{parallel_parts - 1}" in ranges  # the one matching part was resumed
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert leftovers(folder) == []


def test_the_per_file_time_budget_running_out_only_resumes(
    hub: FakeModelScope, store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client gives each file a fixed time budget (1 h by default): on a slow line a big
    # file outlasts it, and the download must carry on from the partial file.
    import modelscope_hub._download as client_download

    monkeypatch.setattr(client_download, "DOWNLOAD_TOTAL_TIMEOUT", 0.4)
    hub.faults.chunk_delay = 0.02  # the weights take about 0.7 s
    download_model(SPEC, store, endpoint=hub.endpoint)
    ranges = [r.range for r in hub.cdn_requests("model.safetensors")]
    assert len(ranges) >= 2
    assert ranges[0] is None
    assert all(r is not None and r != "bytes=0-" for r in ranges[1:])
    assert (store.folder_for(SPEC) / "model.safetensors").read_bytes() == WEIGHTS


def test_a_file_that_stops_arriving_is_reported_when_its_time_budget_runs_out(
    hub: FakeModelScope, store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import modelscope_hub._download as client_download

    monkeypatch.setattr(client_download, "DOWNLOAD_TOTAL_TIMEOUT", 0.5)
    hub.faults.pause_once["model.safetensors"] = 0  # the CDN answers, then sends nothing
    with pytest.raises(HubUnavailableError) as error:
        download_model(SPEC, store, endpoint=hub.endpoint)
    assert f"sent nothing more of model.safetensors of {SPEC.id} for too long" in str(error.value)


def test_cancel_before_anything_was_fetched(hub: FakeModelScope, store: ModelStore) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DownloadCancelled):
        download_model(SPEC, store, endpoint=hub.endpoint, cancel=cancel)
    assert hub.file_requests() == []


def test_a_dropped_connection_resumes_where_it_broke(
    hub: FakeModelScope, store: ModelStore
) -> None:
    hub.faults.drop_once["model.safetensors"] = 700_000
    download_model(SPEC, store, endpoint=hub.endpoint)
    ranges = [r.range for r in hub.cdn_requests("model.safetensors")]
    assert ranges == [None, "bytes=700000-"]
    assert (store.folder_for(SPEC) / "model.safetensors").read_bytes() == WEIGHTS
    assert store.is_installed(SPEC)


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


def test_a_repo_without_safetensors_weights_is_refused(
    hub: FakeModelScope, store: ModelStore
) -> None:
    files = {k: v for k, v in FILES.items() if k != "model.safetensors"}
    hub.add_repo(SPEC.id, files)  # .bin weights only
    with pytest.raises(DownloadError, match=r"no config\.json and \.safetensors weights"):
        download_model(SPEC, store, endpoint=hub.endpoint)
    assert hub.file_requests() == []


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
        from vldesk.core.models.catalog import find_model
        from vldesk.core.models.downloads import download_model
        from vldesk.core.models.store import ModelStore
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
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
    )
    assert result.stdout.strip() == "installed True", result.stdout + result.stderr


# -- progress accounting -------------------------------------------------------------------------


def test_resumed_bytes_count_as_done_but_not_as_speed(tmp_path: Path) -> None:
    now = [0.0]
    remote = select_files([{"Path": "model.safetensors", "Size": 1000, "Sha256": "a" * 64}])
    (tmp_path / "model.safetensors.incomplete").write_bytes(b"x" * 600)
    seen: list[DownloadProgress] = []
    tracker = ProgressTracker("m", tmp_path, remote, seen.append, clock=lambda: now[0])
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
            wait_for_partial(ModelStore(app_paths().models_dir), 1_000_000)
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

    hub.faults.hub_down = False
    assert run_cli(["models", "download", "Qwen/Not-On-ModelScope"]) == 1
    err = capsys.readouterr().err
    assert "has no model Qwen/Not-On-ModelScope" in err
    assert err.count("\n") == 1


def test_cli_downloads_any_repository_of_a_supported_architecture(
    hub: FakeModelScope, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VLDESK_MODELSCOPE_ENDPOINT", hub.endpoint)
    hub.add_repo("someone/Qwen3-VL-2B-Captioner", FILES)
    assert run_cli(["models", "download", "someone/Qwen3-VL-2B-Captioner", "--quiet"]) == 0
    assert "someone/Qwen3-VL-2B-Captioner is installed in" in capsys.readouterr().out
    # Found again by its id: no second download, and listed.
    requests = len(hub.file_requests("model.safetensors"))
    assert run_cli(["models", "download", "someone/Qwen3-VL-2B-Captioner"]) == 0
    assert "is already installed" in capsys.readouterr().out
    assert len(hub.file_requests("model.safetensors")) == requests
    assert run_cli(["models", "list"]) == 0
    assert "someone/Qwen3-VL-2B-Captioner" in capsys.readouterr().out

    llama = {"architectures": ["LlamaForCausalLM"], "model_type": "llama"}
    hub.add_repo("someone/Llama", {**FILES, "config.json": json.dumps(llama).encode()})
    assert run_cli(["models", "download", "someone/Llama"]) == 1
    assert "model type 'llama'" in capsys.readouterr().err


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
