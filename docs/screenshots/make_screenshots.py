"""Make the README's screenshots (``python docs/screenshots/make_screenshots.py [FOLDER]``;
``--first-run`` makes only the first run's, in English and Chinese).

The app runs on a private, temporary home with a tiny random-weight Qwen3-VL model (no download),
so the pictures show the real windows but no answers: a random model's words would mislead.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


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
    first_run_only = "--first-run" in argv
    argv = [arg for arg in argv if arg != "--first-run"]
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
    _first_run(target, home)
    if first_run_only:
        shutil.rmtree(home, ignore_errors=True)
        sys.stdout.write(f"screenshots written to {target}\n")
        return 0
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
    window.grab().save(str(target / "main-window.png"))

    dialog = app.models.open_model_dialog()
    dialog.resize(900, 520)
    qt_app.processEvents()
    dialog.grab().save(str(target / "models.png"))
    dialog.close()

    batch = app.batch_panel.open_dialog()
    assert batch is not None
    qt_app.processEvents()
    batch.grab().save(str(target / "describe-folder.png"))
    batch.close()

    app.shut_down()
    shutil.rmtree(home, ignore_errors=True)
    sys.stdout.write(f"screenshots written to {target}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
