"""The core's messages, the preset buttons and Qt's own dialogs in the interface language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, EngineStandIn, wait_for_model
from tests.helpers.fake_engine import FakeEngineLoader
from tools.i18n_catalog import Catalog, catalog_file, extract
from vldesk.core.batch import BatchEventKind, BatchProgress
from vldesk.core.batch.journal import BatchJob
from vldesk.core.errors import ImageLoadError, VldeskError
from vldesk.core.images import load_image, load_image_bytes
from vldesk.core.messages import core_text
from vldesk.core.metadata import xmp
from vldesk.core.models import downloads
from vldesk.core.models.catalog import CATALOG
from vldesk.core.models.store import ModelStore
from vldesk.core.presets import PRESETS
from vldesk.gui import i18n
from vldesk.gui.widgets.batch_progress import BatchProgressView


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[list[QTranslator]]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    installed = i18n.install_translators(app, "zh")
    yield installed
    i18n.remove_translators(app, installed)


def error_of(call: object) -> VldeskError:
    assert callable(call)
    with pytest.raises(VldeskError) as caught:
        call()
    return caught.value


def test_the_catalog_holds_the_cores_messages() -> None:
    messages, problems = extract()
    assert problems == []
    found = {(message.context, message.source) for message in messages}
    assert ("Images", "the file is empty") in found
    assert ("Images", "pasted image") in found
    assert ("ModelFolder", "{what} cannot be used: {reason}") in found
    assert any(context == "Downloads" for context, _source in found)
    assert any(context == "Batch" for context, _source in found)
    translations = Catalog.read(catalog_file("zh")).translations
    assert has_chinese(translations[("Images", "the file is empty")])


def test_a_core_message_whose_text_is_not_a_literal_is_reported(tmp_path: Path) -> None:
    (tmp_path / "module.py").write_text(
        "from vldesk.core.messages import core_text\n"
        "def f(words):\n"
        "    return core_text('Images', words)\n",
        encoding="utf-8",
    )
    messages, problems = extract([tmp_path])
    assert messages == []
    assert [problem.text for problem in problems] == ["non-literal text"]


def test_image_errors_are_shown_in_chinese(chinese: list[QTranslator], tmp_path: Path) -> None:
    missing = i18n.error_text(error_of(lambda: load_image(tmp_path / "gone.png")))
    assert missing == f"{tmp_path / 'gone.png'}：文件不存在"
    pasted = i18n.error_text(error_of(lambda: load_image_bytes(b"no picture")))
    assert pasted.startswith("粘贴的图片：")
    assert "不是图片" in pasted
    too_big = ImageLoadError(
        "big.png",
        core_text(
            "Images",
            "the image is too large ({width}x{height}, {size:.0f} MP; limit {limit:.0f} "
            "megapixels)",
            width=20000,
            height=10000,
            size=200.0,
            limit=179.0,
        ),
    )
    assert (
        i18n.error_text(too_big)
        == "big.png：图片太大（20000x10000，200 百万像素；上限 179 百万像素）"
    )


def test_the_model_import_error_is_shown_in_chinese(
    chinese: list[QTranslator], tmp_path: Path
) -> None:
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    (folder / "readme.txt").write_text("hello", encoding="utf-8")
    error = error_of(lambda: ModelStore(tmp_path / "models").import_folder(folder))
    text = i18n.error_text(error)
    assert text.startswith(f"文件夹 {folder} 无法使用：")
    assert "没有 config.json" in text
    assert "cannot be used" in str(error)  # the CLI and the log keep the English


def test_photo_metadata_errors_are_shown_in_chinese(
    chinese: list[QTranslator], tmp_path: Path
) -> None:
    photo = tmp_path / "no-caption.jpg"
    photo.write_bytes(b"")
    unreviewable = error_of(lambda: xmp.mark_reviewed(photo))
    assert i18n.error_text(unreviewable) == f"{photo}：没有 vldesk 写入的说明可标记为已审核"
    assert "there is no caption written by vldesk" in str(unreviewable)  # CLI and log: English
    gone = tmp_path / "gone.jpg"
    no_photo = error_of(lambda: xmp.write_caption(gone, xmp.Caption({"x-default": "A cat."})))
    assert i18n.error_text(no_photo) == f"{gone}：照片不存在，因此不写附属文件"


def test_gguf_folder_problems_are_shown_in_chinese(
    chinese: list[QTranslator], tmp_path: Path
) -> None:
    folder = tmp_path / "half-gguf"
    folder.mkdir()
    (folder / "Qwen3VL-2B-Instruct-Q4_K_M.gguf").write_bytes(b"GG")
    error = error_of(lambda: ModelStore(tmp_path / "models").import_folder(folder))
    text = i18n.error_text(error)
    assert "GGUF 文件 Qwen3VL-2B-Instruct-Q4_K_M.gguf 不完整" in text
    assert "没有视觉投影器（mmproj*.gguf 文件）" in text
    assert "There is no vision projector" in str(error)


def test_batch_job_errors_are_shown_in_chinese(chinese: list[QTranslator], tmp_path: Path) -> None:
    missing = error_of(lambda: BatchJob.resume("0123abcd", jobs_dir=tmp_path))
    assert i18n.error_text(missing) == "没有批处理任务 0123abcd。"
    assert str(missing) == "There is no batch job 0123abcd."


def test_the_disk_space_error_is_shown_in_chinese(
    chinese: list[QTranslator], tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    error = error_of(lambda: downloads._check_disk_space(store, CATALOG[0], 10**18))
    assert "磁盘空间不足" in i18n.error_text(error)


def test_batch_failures_are_listed_in_chinese(chinese: list[QTranslator], qtbot: QtBot) -> None:
    view = BatchProgressView()
    qtbot.addWidget(view)
    reason = core_text("Batch", "Not enough memory to decode this image.")
    view.show_progress(
        BatchProgress(BatchEventKind.IMAGE_FAILED, 1, 2, 0, 1, 0, image="a.png", error=reason)
    )
    item = view.failures.topLevelItem(0)
    assert item is not None
    assert "内存不足" in " ".join(item.text(column) for column in range(item.columnCount()))


def test_every_preset_has_a_title_in_each_interface_language() -> None:
    for preset in PRESETS:
        for language in i18n.UI_LANGUAGES:
            assert language in preset.titles, (preset.name, language)
        assert has_chinese(preset.title("zh"))


def test_preset_titles_follow_the_interface_and_prompts_the_preset_language(
    chinese: list[QTranslator], make_app: AppFactory
) -> None:
    app = make_app(start=False, preset_language="en")
    alt = next(preset for preset in PRESETS if preset.name == "alt")
    button = app.window.prompt_panel.preset_button("alt")
    assert button.text() == alt.title("zh")
    # The tip is the prompt, then (in the interface's language) whether it starts afresh.
    prompt, effect = button.toolTip().split("\n\n")
    assert prompt == alt.prompt("en")
    assert re.search("[\u4e00-\u9fff]", effect)
    app.apply_settings(app.settings.replace(preset_language="zh"))
    button = app.window.prompt_panel.preset_button("alt")
    assert button.text() == alt.title("zh")
    assert button.toolTip().split("\n\n")[0] == alt.prompt("zh")


def test_qts_own_translations_are_loaded(chinese: list[QTranslator]) -> None:
    assert len(chinese) == 2  # ours and qtbase_zh_CN from PySide6's translations folder
    assert QCoreApplication.translate("QFileDialog", "Look in:") == "查找范围："  # Qt's
    assert QCoreApplication.translate("QFileDialog", "&Look in:") == "查找范围(&L)："  # ours


def test_the_folder_batch_presets_are_titled_in_the_interface_language(
    chinese: list[QTranslator], make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot
) -> None:
    loader = FakeEngineLoader(make=lambda request: EngineStandIn(request, device="cpu"))
    app = make_app(fake_model_dir, engine_loader=loader, preset_language="en")
    wait_for_model(qtbot, app)
    dialog = app.batch_panel.open_dialog()
    assert dialog is not None
    brief = PRESETS[0]
    assert dialog.preset_combo.itemText(0) == brief.title("zh")
    dialog.preset_combo.setCurrentIndex(0)
    assert dialog.prompt_edit.toPlainText() == brief.prompt("en")
    dialog.close()


def test_a_damaged_history_is_reported_in_chinese(
    chinese: list[QTranslator], tmp_path: Path
) -> None:
    from vldesk.core.history import HistoryStore

    damaged = tmp_path / "history.sqlite3"
    damaged.write_bytes(b"this is not a database file at all" * 100)
    text = i18n.error_text(error_of(lambda: HistoryStore(damaged)))
    assert text.startswith(f"历史记录文件 {damaged} 已损坏")


def test_folder_batch_choices_are_refused_in_chinese(
    chinese: list[QTranslator], tmp_path: Path
) -> None:
    from vldesk.core.batch.options import check_extension
    from vldesk.core.batch.scan import scan_images

    assert "是图片类型" in i18n.error_text(error_of(lambda: check_extension(".png")))
    missing = tmp_path / "gone"
    text = i18n.error_text(error_of(lambda: scan_images(missing, recursive=False, types=(".png",))))
    assert text == f"文件夹 {missing} 不存在。"


def test_a_file_that_cannot_be_saved_is_reported_in_chinese(
    chinese: list[QTranslator], tmp_path: Path
) -> None:
    from vldesk.core.atomic import atomic_write_text

    text = i18n.error_text(error_of(lambda: atomic_write_text(tmp_path, "answer")))
    assert text == f"{tmp_path} 是文件夹：无法在那里保存文件。"
