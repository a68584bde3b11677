"""Download models from ModelScope: pinned to one commit, resumable, verified, cancellable."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from vldesk.core.errors import DiskSpaceError, DownloadCancelled, DownloadError
from vldesk.core.messages import core_text, joined
from vldesk.core.models import modelscope_adapter as client
from vldesk.core.models.catalog import (
    Family,
    ModelSpec,
    UnsupportedModel,
    check_config,
    find_model,
    spec_for_repository,
)
from vldesk.core.models.download_progress import DownloadProgress as DownloadProgress
from vldesk.core.models.download_progress import (
    ProgressCallback,
    ProgressTracker,
    bytes_on_disk,
    call_progress,
)
from vldesk.core.models.fetcher import Fetcher
from vldesk.core.models.files import format_bytes, utc_now
from vldesk.core.models.gguf_check import check_gguf_folder
from vldesk.core.models.hub_calls import LocatedRepo, cancellable, locate, translate_error
from vldesk.core.models.hub_sites import hub_endpoints
from vldesk.core.models.manifest import Manifest, ManifestFile
from vldesk.core.models.partials import (
    clean_partials,
    is_complete,
    prepare_partials,
    read_json_file,
    sha256_of,
)
from vldesk.core.models.remote_files import RemoteFile
from vldesk.core.models.store import ModelStore

log = logging.getLogger(__name__)


#: Free space to leave on the disk on top of the download itself.
DISK_HEADROOM = 200 * 1000**2

# ----------------------------------------------------------------------------------------------
# Where ModelScope is
# ----------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------
# The listing
# ----------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------
# The hub client
# ----------------------------------------------------------------------------------------------


def set_hub_log_level(level: int) -> None:
    """How much of the hub client's own logging reaches vldesk's log (default: warnings)."""
    client.set_log_level(level)


def _hub() -> Any:
    """Import and set up the hub client (tests call this before patching it)."""
    return client.load_client()


# ----------------------------------------------------------------------------------------------
# Progress accounting
# ----------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------
# Errors, in words for the user
# ----------------------------------------------------------------------------------------------

# ----------------------------------------------------------------------------------------------
# Finding the model: which site, which files, which commit
# ----------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------
# The architecture, from config.json, before the weights
# ----------------------------------------------------------------------------------------------


def check_architecture(config: Any, model_id: str, expected: Family | None = None) -> Family:
    """The family a config.json declares, if vldesk runs it (and it is ``expected``).

    Raises:
        DownloadError: the config cannot be read, names an architecture vldesk does not run, or
            (for a catalog model) no longer names the catalog's architecture.
    """
    try:
        family = check_config(config, f"{model_id} on ModelScope")
    except UnsupportedModel as exc:
        raise DownloadError(f"{exc} Nothing else was downloaded.") from None
    if expected is not None and family is not expected:
        raise DownloadError(
            f"{model_id} on ModelScope is now a {family.value} model, not the {expected.value} "
            "model vldesk's catalog lists; nothing else was downloaded."
        )
    return family


def _fetch_config(
    located: LocatedRepo,
    spec: ModelSpec,
    store: ModelStore,
    folder: Path | None,
    cancel: threading.Event,
) -> tuple[Any, Path | None]:
    """config.json's content, fetched alone into a scratch folder unless ``folder`` has it.

    Returns the parsed config and the fetched file (to be moved into place), or None for it
    when the model folder already held the right one.
    """
    remote = next((f for f in located.files if f.path == "config.json"), None)
    if remote is None:
        raise DownloadError(
            f"ModelScope lists no config.json for {spec.id}, so vldesk cannot tell what model "
            "it is."
        )
    if folder is not None and is_complete(folder / "config.json", remote):
        return read_json_file(folder / "config.json"), None
    scratch = store.hub_cache_dir / "config-check" / spec.folder_name
    shutil.rmtree(scratch, ignore_errors=True)
    revision = located.revision(spec)
    try:
        scratch.mkdir(parents=True, exist_ok=True)
        path = cancellable(
            lambda: located.site.download_file(
                spec.id,
                "config.json",
                revision,
                local_dir=scratch,
                cache_dir=store.hub_cache_dir,
                sha256=remote.sha256,
                size=remote.size or None,
                hook=client.ProgressHook,
                stop=cancel,
            ),
            cancel,
            f"The download of {spec.display_name} was cancelled before it started.",
        )
    except DownloadCancelled:
        raise
    except Exception as exc:
        if client.error_kind(exc) == "cancelled":
            raise DownloadCancelled(f"The download of {spec.display_name} was cancelled.") from exc
        if client.error_kind(exc) == "not_found" and revision != spec.revision:
            located.unpin(revision, spec)
            return _fetch_config(located, spec, store, folder, cancel)
        raise translate_error(exc, spec, located.site.endpoint, scratch, remote, revision) from exc
    return read_json_file(path), path


# ----------------------------------------------------------------------------------------------
# Partial files
# ----------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------
# The download
# ----------------------------------------------------------------------------------------------


def _check_disk_space(store: ModelStore, spec: ModelSpec, needed: int) -> None:
    try:
        store.models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            core_text(
                "Downloads",
                "Cannot create the models folder {folder}: {reason}. Choose another models "
                "folder in the settings (or set VLDESK_MODELS_DIR).",
                folder=str(store.models_dir),
                reason=exc.strerror or str(exc),
            )
        ) from None
    free = shutil.disk_usage(store.models_dir).free
    if needed > 0 and free < needed + DISK_HEADROOM:
        raise DiskSpaceError(
            core_text(
                "Downloads",
                "Not enough disk space for {model}: it needs {needed} more in {folder}, but only "
                "{free} is free. Free some space, or choose another models folder in the "
                "settings (or set VLDESK_MODELS_DIR).",
                model=spec.display_name,
                needed=format_bytes(needed),
                folder=str(store.models_dir),
                free=format_bytes(free),
            )
        )


def _manifest_unchanged(manifest: Manifest | None, files: list[RemoteFile]) -> bool:
    if manifest is None:
        return False
    recorded = {f.path: (f.size, f.sha256) for f in manifest.files}
    return all(recorded.get(f.path) == (f.size, f.sha256) for f in files)


def _check_listing(spec: ModelSpec, files: list[RemoteFile]) -> None:
    if spec.is_gguf:
        listed = {f.path for f in files}
        missing = [name for name in spec.gguf_files if name not in listed]
        if missing:
            raise DownloadError(
                f"ModelScope lists no {', '.join(missing)} in {spec.id} at revision "
                f"'{spec.revision}', so vldesk cannot download its {spec.gguf_quant} version."
            )
        return
    has_weights = any(f.path.endswith(".safetensors") for f in files)
    if not has_weights or not any(f.path == "config.json" for f in files):
        raise DownloadError(
            f"ModelScope lists no config.json and .safetensors weights for {spec.id} at revision "
            f"'{spec.revision}', so vldesk cannot use it."
        )


def remote_model_spec(
    model_id: str,
    store: ModelStore,
    *,
    revision: str = "master",
    endpoint: str | None = None,
    cancel: threading.Event | None = None,
) -> ModelSpec:
    """A spec for any ModelScope repo of a supported architecture, read from its config.json.

    Catalog models come back as the catalog has them. For any other id the repo is listed and
    only its config.json is fetched: the architecture must be one vldesk runs, and the spec's
    figures are estimated from the listing (parameters from the weights' size and dtype).

    Raises:
        RemoteModelNotFoundError: no such model or revision on ModelScope.
        DownloadError: not a model vldesk can run (said why), or the hub failed (in words).
    """
    known = find_model(model_id)
    if known is not None:
        return known
    cancel = cancel if cancel is not None else threading.Event()
    probe = ModelSpec(
        id=model_id.strip(),
        family=Family.QWEN3_VL,  # a placeholder: the spec returned comes from config.json
        display_name=model_id.strip().rsplit("/", 1)[-1],
        params=0,
        download_bytes=0,
        revision=revision,
        summary="Downloaded from ModelScope by its id.",
    )
    located = locate(probe, store, hub_endpoints(endpoint), cancel, None)
    _check_listing(probe, located.files)
    config, fetched = _fetch_config(located, probe, store, None, cancel)
    check_architecture(config, probe.id)
    if fetched is not None:
        shutil.rmtree(fetched.parent, ignore_errors=True)
    return spec_for_repository(
        probe.id,
        config,
        revision=revision,
        weights_bytes=sum(f.size for f in located.files if f.path.endswith(".safetensors")),
        download_bytes=sum(f.size for f in located.files),
    )


def download_model(
    spec: ModelSpec,
    store: ModelStore,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    endpoint: str | None = None,
    force: bool = False,
    max_workers: int = 4,
) -> Path:
    """Download ``spec`` at its revision into ``store`` and return its folder.

    The repo is listed on the first ModelScope site that answers (see :func:`hub_endpoints`),
    and every file is then fetched at the one commit that listing shows, so a push upstream
    mid-download cannot mix two versions. config.json comes first: a model whose architecture
    vldesk does not run (or no longer the catalog's) is refused before any weights come.

    Only the files inference needs are fetched (see :data:`ALLOW_PATTERNS`), straight into
    ``store.folder_for(spec)``. Interrupted files stay as partial files and the next call
    resumes them with HTTP Range requests, unless the file has changed since. Each file is
    checked against the listing's size and SHA-256 before it takes its final name. Once all
    are in place a manifest (with the commit) is written, and only then does the model count
    as installed; no partial file is left behind.

    An installed model at the same revision returns at once, without the network, unless
    ``force`` (which re-checks every file's hash and repairs what is wrong).

    ``on_progress`` is called with :class:`DownloadProgress` from worker threads, a few times a
    second. Setting ``cancel`` (from any thread) stops within a fraction of a second.

    Raises:
        DownloadCancelled: ``cancel`` was set; partial files are kept for resuming.
        DiskSpaceError: not enough free space (checked before any file is fetched).
        RemoteModelNotFoundError: the hub has no such model or revision.
        HubUnavailableError: no connection, or the hub is failing; partial files are kept.
        DownloadError: anything else, explained.
    """
    cancel = cancel if cancel is not None else threading.Event()
    folder = store.folder_for(spec)
    manifest = store.read_manifest(spec)
    if (
        not force
        and manifest is not None
        and manifest.revision == spec.revision
        and store.is_installed(spec)
    ):
        log.info("%s is already installed in %s", spec.id, folder)
        call_progress(on_progress, _finished_progress(spec, manifest))
        return folder

    endpoints = hub_endpoints(endpoint)
    _hub()
    if cancel.is_set():
        raise DownloadCancelled(f"The download of {spec.display_name} was cancelled.")
    call_progress(
        on_progress,
        DownloadProgress(spec.ref, "listing", 0, 0, 0.0, None, None, 0, 0),
    )
    located = locate(spec, store, endpoints, cancel, on_progress)
    files = located.files
    _check_listing(spec, files)
    address = located.site.endpoint

    needed = sum(f.size for f in files) - sum(bytes_on_disk(folder, f) for f in files)
    _check_disk_space(store, spec, needed)
    # Before anything in the folder changes: a refused model leaves an installed one as it was.
    # A GGUF repository has no config.json: its files' headers are checked once they are in.
    fetched = None
    if not spec.is_gguf:
        config, fetched = _fetch_config(located, spec, store, folder, cancel)
        check_architecture(config, spec.id, spec.family)
    if not _manifest_unchanged(manifest, files):
        # The files are about to change: until they all verify, the model is not installed.
        store.forget_manifest(spec)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if fetched is not None:
            os.replace(fetched, folder / "config.json")
            shutil.rmtree(fetched.parent, ignore_errors=True)
        unknown_origin = prepare_partials(folder, files)
    except OSError as exc:
        raise translate_error(exc, spec, address, folder, None) from exc

    tracker = ProgressTracker(spec.ref, folder, files, on_progress)
    Fetcher(located, spec, store, folder, tracker, cancel, unknown_origin).run(files, max_workers)

    recorded = []
    for remote in files:
        target = folder / remote.path
        size = target.stat().st_size if target.is_file() else -1
        if remote.size and size != remote.size:
            raise DownloadError(
                f"{remote.path} of {spec.id} ended up with the wrong size; start the download "
                "again to repair it."
            )
        # The client verified listed hashes; a file the hub gave none for is hashed for the record.
        sha = remote.sha256 or sha256_of(target)
        recorded.append(ManifestFile(remote.path, size, sha))
    if spec.is_gguf:
        _check_gguf_download(spec, folder)
    result = Manifest(
        model_id=spec.id,
        revision=spec.revision,
        commit=located.commit or _newest_commit(files),
        endpoint=address,
        downloaded_at=utc_now(),
        files=tuple(recorded),
    )
    store.write_manifest(spec, result)
    clean_partials(folder, files)
    tracker.emit(force=True, phase="done")
    log.info(
        "downloaded %s at commit %s from %s (%s) into %s",
        spec.id,
        result.commit or "unknown",
        address,
        format_bytes(result.total_bytes),
        folder,
    )
    return folder


def _check_gguf_download(spec: ModelSpec, folder: Path) -> None:
    """The downloaded GGUF pair must be a complete model of the catalog's family with its own
    projector; until it is, no manifest is written and the model does not count as installed."""
    check = check_gguf_folder(folder)
    if check.problems:
        raise DownloadError(
            core_text(
                "ModelFolder",
                "{what} cannot be used: {reason}",
                what=spec.ref,
                reason=joined(check.problems),
            )
        )
    if check.family is not spec.family:
        found = check.family.value if check.family else "unknown"
        raise DownloadError(
            f"{spec.ref} on ModelScope is now a {found} model, not the {spec.family.value} model "
            "vldesk's catalog lists."
        )


def _newest_commit(files: list[RemoteFile]) -> str | None:
    commits = sorted((f for f in files if f.commit), key=lambda f: f.committed)
    return commits[-1].commit if commits else None


def _finished_progress(spec: ModelSpec, manifest: Manifest) -> DownloadProgress:
    total = manifest.total_bytes
    count = len(manifest.files)
    return DownloadProgress(spec.ref, "done", total, total, 0.0, 0.0, None, count, count)
