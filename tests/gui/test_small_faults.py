"""Small faults users reported: long download errors, a paused batch's ETA, About's sizes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.helpers.fake_modelscope import model_files
from vldesk.core.batch import BatchEventKind, BatchProgress
from vldesk.core.messages import core_text
from vldesk.core.models.catalog import default_model
from vldesk.core.models.store import ModelStore
from vldesk.core.paths import app_paths
from vldesk.gui.controllers.batch import BatchState
from vldesk.gui.dialogs.about_dialog import AboutDialog
from vldesk.gui.dialogs.model_dialog import ModelDialog
from vldesk.gui.workers.download import DownloadWorker


def test_an_offline_download_error_wraps_instead_of_widening_the_models_dialog(
    qtbot: QtBot, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    worker = DownloadWorker(store)
    dialog = ModelDialog(store, worker)
    qtbot.addWidget(dialog)
    dialog.show()
    width = dialog.width()
    advice = core_text(
        "Downloads", "check the internet connection (and proxy settings), then try again"
    )
    sites = "; ".join(
        f"{endpoint} cannot be reached"
        for endpoint in ("https://www.modelscope.cn", "https://www.modelscope.ai")
    )
    message = core_text(
        "Downloads",
        "ModelScope cannot be used right now ({sites}): {advice}.",
        sites=sites,
        advice=advice,
    )
    dialog.progress_label.show()  # as once Download was pressed: "Connecting to ModelScope…"
    worker.failed.emit(default_model().id, str(message))
    QApplication.processEvents()
    assert dialog.progress_label.text() == message
    assert dialog.width() == width
    assert dialog.minimumSizeHint().width() <= width


def test_a_paused_batch_shows_no_speed_and_no_time_left(qtbot: QtBot) -> None:
    from vldesk.gui.widgets.batch_progress import BatchProgressView

    view = BatchProgressView()
    qtbot.addWidget(view)
    event = BatchProgress(
        BatchEventKind.IMAGE_DONE, 10, 40, 10, 0, 0, images_per_minute=6.0, eta_s=300.0
    )
    view.set_state(BatchState.RUNNING)
    view.show_progress(event)
    assert "left" in view.stats_label.text()
    assert "images/min" in view.stats_label.text()
    view.set_state(BatchState.PAUSED)
    assert "Paused" in view.stats_label.text()
    assert "left" not in view.stats_label.text()
    assert "images/min" not in view.stats_label.text()
    view.set_state(BatchState.RUNNING)
    assert "left" in view.stats_label.text()


def test_about_counts_imported_models_where_they_are(qtbot: QtBot, tmp_path: Path) -> None:
    """An imported model stays in its own folder: the models folder holds only its entry."""
    imported = tmp_path / "my-model"
    for name, data in model_files(extras=False).items():
        (imported / name).parent.mkdir(parents=True, exist_ok=True)
        (imported / name).write_bytes(data)
    model_bytes = sum(len(data) for data in model_files(extras=False).values())
    paths = app_paths(tmp_path / "models").ensure()
    store = ModelStore(paths.models_dir)
    store.import_folder(imported)
    registry = store.imported_registry.stat().st_size
    assert store.disk_use() == model_bytes + registry
    inside = paths.models_dir / "inside"
    for name, data in model_files(extras=False).items():
        (inside / name).parent.mkdir(parents=True, exist_ok=True)
        (inside / name).write_bytes(data)
    store.import_folder(inside)  # inside the models folder: counted once
    registry = store.imported_registry.stat().st_size
    assert store.disk_use() == 2 * model_bytes + registry
    about = AboutDialog(paths)
    qtbot.addWidget(about)
    assert about.wait_for_disk_use()
    qtbot.waitUntil(lambda: about.disk_use.text().endswith(("kB", "MB", "GB")))
