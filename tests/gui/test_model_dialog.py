"""The model manager dialog: download with progress, cancel, resume, import, remove, choose."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from tests.helpers.fake_modelscope import FakeModelScope, model_files
from tests.helpers.netguard import no_network
from vldesk.core.models import downloads
from vldesk.core.models.catalog import CATALOG, Family, Precision, default_model
from vldesk.core.models.machine import fit_hint
from vldesk.core.models.store import InstallState, ModelStore
from vldesk.gui.dialogs.model_dialog import ModelDialog
from vldesk.gui.models.catalog_model import CATALOG_SUMMARIES, hint_text
from vldesk.gui.workers.download import DownloadWorker

SPEC = default_model()
FILES = model_files()


@pytest.fixture(autouse=True)
def _isolated_hub_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms-cache"))
    monkeypatch.setenv("MODELSCOPE_HOME", str(tmp_path / "ms-home"))
    monkeypatch.delenv("MODELSCOPE_API_TOKEN", raising=False)
    downloads._hub()
    import modelscope_hub._download as client_download

    monkeypatch.setattr(client_download, "DOWNLOAD_RETRY_TIMES", 1)
    with no_network(monkeypatch) as attempts:
        yield
    assert attempts == []


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeModelScope]:
    with FakeModelScope() as server:
        server.add_repo(SPEC.id, FILES)
        monkeypatch.setenv("VLDESK_MODELSCOPE_ENDPOINT", server.endpoint)
        yield server


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models")


@pytest.fixture
def dialog(qtbot: QtBot, store: ModelStore) -> Iterator[ModelDialog]:
    worker = DownloadWorker(store)
    dialog = ModelDialog(store, worker, first_run=True)
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog
    worker.cancel()
    assert worker.wait(10)


def state_text(dialog: ModelDialog, ref: str) -> str:
    return str(dialog.model.index(dialog.model.row_of(ref), 3).data())


def test_lists_the_catalog_with_sizes_and_fit(dialog: ModelDialog, qtmodeltester: object) -> None:
    qtmodeltester.check(dialog.model)  # type: ignore[attr-defined]
    assert dialog.model.rowCount() == len(CATALOG)
    first = dialog.model.row_at(0)
    assert first is not None
    assert first.ref == SPEC.id
    assert dialog.model.index(0, 1).data() == "4.3 GB"
    assert dialog.model.index(0, 2).data() in ("Fits", "Tight", "Too big")
    assert state_text(dialog, SPEC.id) == "Not downloaded"
    assert dialog.download_button.isEnabled()
    assert not dialog.use_button.isEnabled()
    assert "needs ~" in dialog.details.text()


@pytest.mark.parametrize("gpu", [False, True])
@pytest.mark.parametrize("memory_gib", [2, 7, 64])
def test_fit_hints_are_worded_from_their_figures(gpu: bool, memory_gib: int) -> None:
    # The dialog words hints itself (so they can be translated); in English it must say
    # exactly what the core says, for every fit and both kinds of memory.
    memory = memory_gib * 1024**3
    hint = fit_hint(SPEC, None if gpu else memory, memory if gpu else None, Precision.BFLOAT16)
    assert hint_text(hint) == hint.text
    assert hint_text(fit_hint(SPEC, None)) == fit_hint(SPEC, None).text
    assert {spec.summary for spec in CATALOG} <= set(CATALOG_SUMMARIES)


def test_download_then_use(qtbot: QtBot, dialog: ModelDialog, hub: FakeModelScope) -> None:
    dialog.select(SPEC.id)
    worker = dialog._worker
    with qtbot.waitSignal(worker.finished, timeout=30_000) as finished:
        dialog.download_button.click()
        assert not dialog.download_button.isEnabled()
        assert dialog.cancel_button.isEnabled()
    assert finished.args is not None
    assert finished.args[0] == SPEC.id
    assert state_text(dialog, SPEC.id) == "Installed"
    assert dialog.progress.isHidden()
    assert "is ready" in dialog.progress_label.text()
    with qtbot.waitSignal(dialog.model_chosen) as chosen:
        dialog.use_button.click()
    assert chosen.args == [SPEC.id]


def test_a_fallback_to_the_other_modelscope_site_stays_in_view(
    qtbot: QtBot, dialog: ModelDialog, hub: FakeModelScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.core.models.test_downloads import free_port
    from vldesk.core.models import hub_sites, modelscope_adapter

    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.delenv("VLDESK_MODELSCOPE_ENDPOINT")
    monkeypatch.setattr(hub_sites, "OFFICIAL_SITES", (dead, hub.endpoint))
    # The client's retry pauses on the dead site are not waited (its budget stays real).
    owner = modelscope_adapter.retry_pause_owner()
    monkeypatch.setattr(owner, "sleep", lambda control, _seconds: control.check())
    said = f"ModelScope at {dead} cannot be reached; trying {hub.endpoint} instead."
    shown: list[str] = []
    dialog._worker.progress.connect(lambda _p: shown.append(dialog.progress_label.text()))
    dialog.select(SPEC.id)
    with qtbot.waitSignal(dialog._worker.finished, timeout=60_000):
        dialog.download_button.click()
    first = next((i for i, text in enumerate(shown) if said in text), None)
    assert first is not None, shown
    assert all(said in text for text in shown[first:])  # every later progress line keeps it
    assert len(shown) > first + 1
    assert said in dialog.progress_label.text()  # and the final message too
    assert "is ready" in dialog.progress_label.text()


def test_cancel_keeps_the_partial_file_and_resume_finishes(
    qtbot: QtBot, dialog: ModelDialog, hub: FakeModelScope, store: ModelStore
) -> None:
    hub.faults.pause_once["model.safetensors"] = len(FILES["model.safetensors"]) // 2
    dialog.select(SPEC.id)
    worker = dialog._worker
    dialog.download_button.click()
    assert hub.paused.wait(30)
    # Cancel only once bytes have been reported (written), so there is a partial file to resume.
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=10_000)
    assert "Downloading" in state_text(dialog, SPEC.id)
    with qtbot.waitSignal(worker.cancelled, timeout=30_000):
        dialog.cancel_button.click()
    hub.release.set()
    assert "Resume continues it" in dialog.progress_label.text()
    assert store.status(SPEC).state is InstallState.PARTIAL
    assert state_text(dialog, SPEC.id).startswith("Partial")
    assert dialog.download_button.text() == "Resume &download"

    with qtbot.waitSignal(worker.finished, timeout=30_000):
        dialog.download_button.click()
    assert state_text(dialog, SPEC.id) == "Installed"
    resumed = [r.range for r in hub.file_requests("model.safetensors") if r.range]
    assert any(r.startswith("bytes=") and not r.startswith("bytes=0-") for r in resumed)


def test_the_worker_is_idle_for_the_slots_of_its_last_signal(
    qtbot: QtBot, dialog: ModelDialog, hub: FakeModelScope
) -> None:
    # A direct connection runs the slot inside the download thread, which is certainly still
    # alive then: the dialog's own (queued) slots may run that early too, and must see an idle
    # worker, or the row keeps saying "Downloading" and Cancel stays enabled.
    worker = dialog._worker
    seen: list[tuple[bool, str | None]] = []
    worker.finished.connect(
        lambda *_: seen.append((worker.busy, worker.model_id)),
        Qt.ConnectionType.DirectConnection,
    )
    dialog.select(SPEC.id)
    with qtbot.waitSignal(worker.finished, timeout=30_000):
        dialog.download_button.click()
    assert seen == [(False, None)]
    assert not dialog.cancel_button.isEnabled()


def test_hub_down_is_reported_in_words(
    qtbot: QtBot, dialog: ModelDialog, hub: FakeModelScope
) -> None:
    hub.faults.hub_down = True
    dialog.select(SPEC.id)
    with qtbot.waitSignal(dialog._worker.failed, timeout=60_000) as failed:
        dialog.download_button.click()
    assert failed.args is not None
    message = failed.args[1]
    assert "Traceback" not in message
    assert message == dialog.progress_label.text()
    assert dialog.download_button.isEnabled()


def test_import_good_and_bad_folders(
    dialog: ModelDialog,
    tiny_model_dirs: dict[Family, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, _title, text, *a: warnings.append(text)
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not dialog.import_folder(empty)
    assert len(warnings) == 1
    assert "config.json" in warnings[0]

    assert dialog.import_folder(tiny_model_dirs[Family.QWEN3_5])
    row = dialog.selected_row()
    assert row is not None
    assert row.imported
    assert state_text(dialog, row.ref) == "Imported"
    assert dialog.use_button.isEnabled()


def test_remove_an_installed_model(
    qtbot: QtBot,
    dialog: ModelDialog,
    hub: FakeModelScope,
    store: ModelStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dialog.select(SPEC.id)
    with qtbot.waitSignal(dialog._worker.finished, timeout=30_000):
        dialog.download_button.click()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog.select(SPEC.id)
    dialog.remove_button.click()
    assert store.status(SPEC).state is InstallState.NOT_INSTALLED
    assert state_text(dialog, SPEC.id) == "Not downloaded"
