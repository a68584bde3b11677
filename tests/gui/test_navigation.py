"""Stepping through a folder with broken files: the title, counter and viewer always agree."""

from __future__ import annotations

import re
from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.gui.conftest import make_image
from vldesk.gui.app import DesktopApp

#: Natural order: broken files at the start, in the middle and at the end.
GOOD_SIZES = {"b_good.png": (160, 120), "d_good.png": (90, 200)}


def make_folder(folder: Path) -> Path:
    folder.mkdir()
    (folder / "a_text.jpg").write_text("a text file renamed .jpg", encoding="utf-8")
    make_image(folder / "b_good.png", GOOD_SIZES["b_good.png"])
    (folder / "c_empty.png").write_bytes(b"")
    make_image(folder / "d_good.png", GOOD_SIZES["d_good.png"], (20, 160, 60))
    (folder / "e_text.png").write_text("not a png", encoding="utf-8")
    return folder


def on_screen(app: DesktopApp) -> tuple[str, str, str]:
    """(the file the title names, the counter, the file whose pixels or error the viewer shows)."""
    window = app.window
    title = window.windowTitle().removesuffix(" — vldesk")
    counter = re.search(r"\d+ of \d+", window.image_info.text())
    viewer = window.viewer
    if viewer.has_image:
        size = viewer.image_size
        shown = next(name for name, wanted in GOOD_SIZES.items() if wanted == size)
    else:
        shown = next(
            name
            for name in ("a_text.jpg", "c_empty.png", "e_text.png")
            if name in viewer.error_text
        )
    return title, counter.group(0) if counter else "", shown


def settle(qtbot: QtBot, app: DesktopApp, name: str, counter: str) -> None:
    qtbot.waitUntil(lambda: on_screen_or_none(app) == (name, counter, name), timeout=10_000)


def on_screen_or_none(app: DesktopApp) -> tuple[str, str, str] | None:
    try:
        return on_screen(app)
    except StopIteration:  # the viewer shows nothing yet
        return None


def test_a_folder_starting_with_a_broken_file_opens_on_its_first_good_image(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    app = fake_app
    folder = make_folder(tmp_path / "album")
    app.open_paths([str(folder)])  # what `vldesk FOLDER` runs
    settle(qtbot, app, "b_good.png", "2 of 5")
    assert app.session.image is not None
    assert app.session.image.path == folder / "b_good.png"
    # The skipped file is named, as a warning that stays after the good image opened.
    assert app.window.banner.isVisible()
    assert "a_text.jpg" in app.window.banner.text


def test_arrowing_onto_broken_files_never_shows_a_stale_image(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    app = fake_app
    folder = make_folder(tmp_path / "album")
    app.open_paths([str(folder)])
    settle(qtbot, app, "b_good.png", "2 of 5")
    steps = [
        (1, "c_empty.png", "3 of 5"),  # the middle
        (1, "d_good.png", "4 of 5"),
        (1, "e_text.png", "5 of 5"),  # the end
        (1, "a_text.jpg", "1 of 5"),  # wrapped round to the start
        (1, "b_good.png", "2 of 5"),
        (-1, "a_text.jpg", "1 of 5"),
        (-1, "e_text.png", "5 of 5"),
        (-1, "d_good.png", "4 of 5"),
    ]
    for offset, name, counter in steps:
        action = app.window.next_action if offset > 0 else app.window.previous_action
        action.trigger()
        settle(qtbot, app, name, counter)
        broken = name not in GOOD_SIZES
        # Nothing can be asked about a file that did not open; a good one can be.
        assert (app.session.image is None) == broken, name
        assert app.images.current is None if broken else app.images.current is not None
        if broken:
            assert "cannot be opened" in app.window.image_info.text()


def test_a_single_broken_file_shows_its_error_not_the_previous_image(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    app = fake_app
    folder = make_folder(tmp_path / "album")
    app.open_paths([str(folder / "d_good.png")])
    settle(qtbot, app, "d_good.png", "4 of 5")
    app.open_paths([str(folder / "c_empty.png")])  # chosen on its own: shown, not skipped
    settle(qtbot, app, "c_empty.png", "3 of 5")
    assert "c_empty.png" in app.window.banner.text
