"""Make the README's screenshots (``python docs/screenshots/make_screenshots.py [FOLDER]
[--only NAME ...]``, names without ``.png``; ``folder-panel`` and ``first-run`` make two each,
in English and Chinese).

The app runs on a private, temporary home with a tiny random-weight Qwen3-VL model (no download),
so the pictures show the real windows but no answers: a random model's words would mislead. The
boxes shot draws a written-out answer (:data:`FOUND_ON_INVOICE`): the tiny model cannot ground.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vldesk.gui.app import DesktopApp

HERE = Path(__file__).resolve().parent
SHOTS = (
    "main-window",
    "models",
    "describe-folder",
    "boxes",
    "region",
    "folder-panel",
    "first-run",
    "connect-server",
)
#: What Qwen3-VL answers to the Find objects preset on the invoice, on its 0-1000 grid
#: (written out for the screenshot; the tiny random model cannot find anything).
FOUND_ON_INVOICE = """```json
[
  {"bbox_2d": [70, 45, 630, 130], "label": "heading"},
  {"bbox_2d": [70, 180, 930, 420], "label": "table"},
  {"bbox_2d": [615, 395, 930, 450], "label": "total"},
  {"bbox_2d": [705, 770, 940, 945], "label": "PAID stamp"}
]
```"""


def _wait(condition: Callable[[], bool], seconds: float = 120) -> None:
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        QApplication.processEvents()
        time.sleep(0.02)


def _document(path: Path) -> Path:
    """A scanned-looking page with a heading, a table and a stamp in the corner."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("RGB", (900, 1200), (250, 248, 240))
    draw = ImageDraw.Draw(page)
    big = ImageFont.load_default(44)
    text = ImageFont.load_default(26)
    draw.text((70, 70), "Harbour Street Bakery", font=big, fill=(30, 30, 30))
    draw.text((70, 135), "Invoice 2026-1187  ·  30 November 2026", font=text, fill=(80, 80, 80))
    rows = [
        ("Sourdough loaf", "2", "9.00"),
        ("Cinnamon buns", "6", "15.60"),
        ("Rye crackers", "3", "7.50"),
        ("Coffee beans 1 kg", "1", "24.00"),
    ]
    y = 240
    draw.line((70, y - 15, 830, y - 15), fill=(120, 120, 120), width=2)
    for name, count, price in rows:
        draw.text((70, y), name, font=text, fill=(30, 30, 30))
        draw.text((560, y), count, font=text, fill=(30, 30, 30))
        draw.text((700, y), price, font=text, fill=(30, 30, 30))
        y += 60
    draw.line((70, y, 830, y), fill=(120, 120, 120), width=2)
    draw.text((560, y + 20), "Total", font=text, fill=(30, 30, 30))
    draw.text((700, y + 20), "56.10", font=text, fill=(30, 30, 30))
    draw.ellipse((640, 930, 840, 1130), outline=(190, 40, 40), width=8)
    draw.text((675, 1010), "PAID", font=big, fill=(190, 40, 40))
    page.save(path)
    return path


def _scene(path: Path, sky: tuple[int, int, int], ground: tuple[int, int, int], kind: str) -> Path:
    """A simple drawn picture: sky, ground and a sun, boats, trees or a house."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (480, 320), sky)
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 200, 480, 320), fill=ground)
    draw.ellipse((360, 30, 430, 100), fill=(250, 210, 80))
    if kind == "boats":
        for x in (60, 190, 320):
            draw.polygon(
                [(x, 215), (x + 90, 215), (x + 70, 240), (x + 20, 240)], fill=(120, 60, 40)
            )
            draw.polygon([(x + 45, 120), (x + 45, 210), (x + 95, 210)], fill=(245, 245, 240))
    elif kind == "trees":
        for x in (40, 140, 240, 340):
            draw.polygon([(x, 220), (x + 50, 90), (x + 100, 220)], fill=(30, 110, 50))
    elif kind == "house":
        draw.rectangle((150, 130, 330, 240), fill=(200, 80, 60))
        draw.polygon([(130, 130), (240, 60), (350, 130)], fill=(90, 50, 40))
        draw.rectangle((220, 180, 260, 240), fill=(60, 40, 30))
    picture.save(path)
    return path


def _folder_panel_shots(target: Path, home: Path, model: Path, qt_app: object) -> None:
    """The folder panel after a batch: captions, one approved, one failed, one edited."""

    from vldesk.core.batch import BatchOptions
    from vldesk.core.batch.journal import BatchJob
    from vldesk.core.batch.records import ImageResult
    from vldesk.core.captions import approve, load_folder, save_caption
    from vldesk.gui import i18n

    folder = home / "Pictures" / "holiday"
    folder.mkdir(parents=True)
    captions = {
        "harbour.png": "Three sailing boats moored in a calm harbour under a clear blue sky.",
        "forest.png": "A row of pine trees on a green hillside on a sunny afternoon.",
        "cottage.png": "A small red cottage with a dark roof and a wooden door.",
        "invoice.png": "An invoice from Harbour Street Bakery, stamped PAID, total 56.10.",
        "sunset.png": "Boats on an orange sea at sunset.",
    }
    _scene(folder / "harbour.png", (120, 180, 235), (40, 90, 160), "boats")
    _scene(folder / "forest.png", (170, 210, 240), (80, 160, 70), "trees")
    _scene(folder / "cottage.png", (190, 220, 245), (110, 170, 90), "house")
    _document(folder / "invoice.png")
    _scene(folder / "sunset.png", (240, 150, 90), (200, 90, 60), "boats")
    _scene(folder / "night.png", (20, 30, 60), (30, 40, 50), "house")
    for name, caption in captions.items():
        (folder / name).with_suffix(".txt").write_text(caption + "\n", encoding="utf-8")
    options = BatchOptions(folder, "Describe the image in one sentence.", str(model))
    with BatchJob.create(options) as job:
        job.record_results(ImageResult.failure("night.png", "The model gave an empty answer."))
    loaded = load_folder(folder)
    entries = {entry.name: entry for entry in loaded.entries}
    approve(entries["forest.png"], loaded.style)
    save_caption(entries["cottage.png"], "A small red cottage by a meadow.", loaded.style)

    _folder_panel_shot(folder, model, qt_app, target / "folder-panel.png")
    installed = i18n.install_translators(qt_app, "zh")  # type: ignore[arg-type]
    try:
        _folder_panel_shot(folder, model, qt_app, target / "folder-panel-zh.png")
    finally:
        i18n.remove_translators(qt_app, installed)  # type: ignore[arg-type]


def _folder_panel_shot(folder: Path, model: Path, qt_app: object, path: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from vldesk.core.paths import app_paths
    from vldesk.core.settings import Settings
    from vldesk.gui.app import DesktopApp

    app = DesktopApp(app_paths(), settings=Settings(model=str(model)))
    window = app.window
    window.resize(1280, 800)
    window.show()
    app.start()
    _wait(lambda: app.session.model_name is not None)
    app.open_paths([str(folder)])
    _wait(lambda: app.folder.model.rowCount() == 6 and app.images.current is not None)
    window.resizeDocks([window.folder_dock], [430], Qt.Orientation.Horizontal)
    app.folder.panel.select_row(2)
    _wait(lambda: app.images.current is not None and app.images.current.name == "harbour.png")
    _wait(lambda: app.folder.reader.wait_for_done())
    app.folder.panel.list_view.setFocus()
    for _ in range(20):
        QApplication.processEvents()
        time.sleep(0.02)
    window.grab().save(str(path))
    app.shut_down()


def _first_run(target: Path, home: Path) -> None:
    """No model yet: the model manager's first-run form, in English and in Chinese."""
    from PySide6.QtWidgets import QApplication

    from vldesk.core.paths import app_paths
    from vldesk.core.settings import Settings
    from vldesk.gui import i18n
    from vldesk.gui.app import DesktopApp

    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication)
    for language, name in (("en", "first-run.png"), ("zh", "first-run-zh.png")):
        installed = i18n.install_translators(qt_app, language)
        models = home / "Models"
        app = DesktopApp(app_paths(models), settings=Settings(models_dir=str(models)))
        app.window.resize(1100, 720)
        app.window.show()
        app.start()  # nothing installed: the model manager opens in its first-run form
        dialog = app.models.open_model_dialog()
        dialog.resize(900, 560)
        qt_app.processEvents()
        dialog.grab().save(str(target / name))
        dialog.close()
        app.shut_down()
        app.window.close()
        i18n.remove_translators(qt_app, installed)


def main(argv: list[str]) -> int:
    only = set(SHOTS)
    if "--only" in argv:
        at = argv.index("--only")
        only, argv = set(argv[at + 1 :]), argv[:at]
        unknown = only - set(SHOTS)
        if unknown:
            sys.stderr.write(f"unknown screenshots: {', '.join(sorted(unknown))}\n")
            return 2
    target = Path(argv[0]) if argv else HERE
    target.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="vldesk-screens-"))
    os.environ["VLDESK_HOME"] = str(home)

    from PySide6.QtWidgets import QApplication

    from vldesk.bench.synthetic import build_synthetic_model
    from vldesk.core.models.catalog import Family
    from vldesk.core.paths import app_paths
    from vldesk.core.settings import Settings
    from vldesk.gui.app import DesktopApp

    qt_app = QApplication(sys.argv[:1])
    if "first-run" in only:
        _first_run(target, home)
    model = build_synthetic_model(Family.QWEN3_VL, home / "tiny-qwen3-vl")
    app = DesktopApp(app_paths(), settings=Settings(model=str(model)))
    window = app.window
    window.resize(1280, 800)
    window.show()
    app.start()
    _wait(lambda: app.session.model_name is not None)

    scans = home / "Pictures" / "scans"
    scans.mkdir(parents=True)
    app.open_paths([str(_document(scans / "invoice.png"))])
    _wait(lambda: app.session.image is not None)
    window.prompt_panel.prompt_edit.setPlainText("What does the stamp in the corner say?")
    qt_app.processEvents()
    if "main-window" in only:
        window.grab().save(str(target / "main-window.png"))

    if "models" in only:
        dialog = app.models.open_model_dialog()
        dialog.resize(900, 520)
        qt_app.processEvents()
        dialog.grab().save(str(target / "models.png"))
        dialog.close()

    if "describe-folder" in only:
        batch = app.batch_panel.open_dialog()
        assert batch is not None
        qt_app.processEvents()
        batch.grab().save(str(target / "describe-folder.png"))
        batch.close()

    if "boxes" in only:
        _boxes_shot(app, target / "boxes.png")
    if "region" in only:
        _region_shot(app, target / "region.png")

    if "connect-server" in only:
        connect = app.servers.open_dialog()
        connect.address_combo.setEditText("http://gpu-box:8000/v1")
        connect.key_edit.setText("not-a-real-key")
        # As listed by a server (none runs here): GET /v1/models of a vLLM with two models.
        connect.model_combo.addItems(["Qwen/Qwen3-VL-8B-Instruct", "Qwen/Qwen2.5-VL-7B-Instruct"])
        connect.model_combo.setEnabled(True)
        qt_app.processEvents()
        connect.grab().save(str(target / "connect-server.png"))
        connect.reject()

    app.shut_down()
    if "folder-panel" in only:
        _folder_panel_shots(target, home, model, qt_app)
    shutil.rmtree(home, ignore_errors=True)
    sys.stdout.write(f"screenshots written to {target}\n")
    return 0


def _boxes_shot(app: DesktopApp, path: Path) -> None:
    """The Find objects preset's answer drawn on the invoice, listed under the answer."""
    from PySide6.QtWidgets import QApplication

    from vldesk.core.models.catalog import Family
    from vldesk.core.presets import get_preset
    from vldesk.gui.asked_about import AskedAbout

    window = app.window
    window.prompt_panel.prompt_edit.clear()
    question = get_preset("find").prompt(app.settings.preset_language)
    window.answer_view.begin_answer(question)
    window.answer_view.finish_answer(FOUND_ON_INVOICE)
    tokens = app.chat.generation_settings().max_image_tokens
    app.session.last_asked = AskedAbout(tokens, Family.QWEN3_VL)
    app.grounding.show_answer_boxes(FOUND_ON_INVOICE)
    window.grounding_panel.box_list.setCurrentRow(3)
    QApplication.processEvents()
    window.grab().save(str(path))


def _region_shot(app: DesktopApp, path: Path) -> None:
    """A region dragged around the stamp, and a question about it ready to send."""
    from PySide6.QtWidgets import QApplication

    from vldesk.core.grounding import Region

    window = app.window
    app.session.new_conversation()
    app.grounding.select_region(Region(620, 910, 860, 1150))
    window.prompt_panel.prompt_edit.setPlainText("What does the stamp say, and is it dated?")
    QApplication.processEvents()
    window.grab().save(str(path))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
