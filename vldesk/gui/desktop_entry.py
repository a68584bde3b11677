"""Per-user desktop integration on Linux: ``vldesk --install-desktop-entry`` and its undo."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

log = logging.getLogger(__name__)

INSTALL_FLAG = "--install-desktop-entry"
UNINSTALL_FLAG = "--uninstall-desktop-entry"
FLAGS = (INSTALL_FLAG, UNINSTALL_FLAG)

APP_ID = "vldesk"
#: PNG sizes rendered from the SVG, for launchers and panels that do not scale SVG.
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)

# Characters that make a desktop-entry Exec argument need quoting, and those escaped inside.
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
_ESCAPED_IN_QUOTES = set('"`$\\')


@dataclass(frozen=True)
class EntryPaths:
    """Where a per-user desktop entry and its icons go (XDG base directories)."""

    data_home: Path

    @classmethod
    def from_environment(cls) -> EntryPaths:
        data_home = os.environ.get("XDG_DATA_HOME", "").strip()
        # The spec: a relative path is invalid and must be ignored.
        if not data_home or not os.path.isabs(data_home):
            return cls(Path.home() / ".local" / "share")
        return cls(Path(data_home))

    @property
    def applications(self) -> Path:
        return self.data_home / "applications"

    @property
    def desktop_file(self) -> Path:
        return self.applications / f"{APP_ID}.desktop"

    @property
    def hicolor(self) -> Path:
        return self.data_home / "icons" / "hicolor"

    @property
    def svg_icon(self) -> Path:
        return self.hicolor / "scalable" / "apps" / f"{APP_ID}.svg"

    def png_icon(self, size: int) -> Path:
        return self.hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png"

    def all_files(self) -> list[Path]:
        return [self.desktop_file, self.svg_icon, *(self.png_icon(size) for size in PNG_SIZES)]


def launcher_command() -> list[str]:
    """How to start this installation: a frozen app itself, the ``vldesk`` script next to the
    running one or to this Python, else ``python -m vldesk`` (always absolute paths)."""
    if getattr(sys, "frozen", False):  # an app folder: its windowed program, even from -cli
        program = Path(sys.executable).absolute()
        windowed = program.with_name("vldesk" + program.suffix)
        return [str(windowed if windowed.is_file() else program)]
    names = ("vldesk.exe", "vldesk") if sys.platform == "win32" else ("vldesk",)
    places = []
    if sys.argv and sys.argv[0]:
        script = Path(sys.argv[0]).absolute()
        places += [script] if script.name in names else []
        places += [script.parent / name for name in names]
    places += [Path(sys.executable).absolute().parent / name for name in names]
    for place in places:
        if place.is_file() and os.access(place, os.X_OK):
            return [str(place)]
    return [str(Path(sys.executable).absolute()), "-m", "vldesk"]


def exec_quote(argument: str) -> str:
    """One argument of an ``Exec=`` line, quoted and escaped as the desktop entry spec says."""
    if argument and not any(ch in _RESERVED for ch in argument):
        quoted = argument
    else:
        inner = "".join("\\" + ch if ch in _ESCAPED_IN_QUOTES else ch for ch in argument)
        quoted = f'"{inner}"'
    # Exec is a string value: backslashes are escaped once more; % is the field-code sign.
    return quoted.replace("\\", "\\\\").replace("%", "%%")


def desktop_entry_text(command: list[str]) -> str:
    """The packaged ``vldesk.desktop`` with ``Exec=`` pointing at ``command``."""
    template = (resources.files("vldesk") / "assets" / f"{APP_ID}.desktop").read_text(
        encoding="utf-8"
    )
    exec_line = "Exec=" + " ".join(exec_quote(part) for part in command) + " %F"
    lines = [exec_line if line.startswith("Exec=") else line for line in template.splitlines()]
    return "\n".join(lines) + "\n"


def render_png(svg: bytes, size: int) -> bytes:
    """The icon at ``size`` pixels as PNG bytes (QtSvg; needs no display)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise ValueError("the icon is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]
    return bytes(buffer.data().data())


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _refresh_caches(paths: EntryPaths) -> None:
    """Tell the desktop: update the MIME/desktop database, nudge the icon theme."""
    tool = shutil.which("update-desktop-database")
    if tool and paths.applications.is_dir():
        try:
            subprocess.run(
                [tool, "-q", str(paths.applications)], check=False, capture_output=True, timeout=60
            )
        except (OSError, subprocess.SubprocessError) as exc:
            log.info("update-desktop-database failed: %s", exc)
    if paths.hicolor.is_dir():
        os.utime(paths.hicolor)  # icon caches notice a changed theme folder


def install(paths: EntryPaths | None = None, command: list[str] | None = None) -> list[Path]:
    """Write the desktop entry and the icons for this user; returns the files written."""
    paths = paths or EntryPaths.from_environment()
    svg = (resources.files("vldesk") / "assets" / f"{APP_ID}.svg").read_bytes()
    written = []
    entry = desktop_entry_text(command or launcher_command())
    _write(paths.desktop_file, entry.encode("utf-8"))
    written.append(paths.desktop_file)
    _write(paths.svg_icon, svg)
    written.append(paths.svg_icon)
    for size in PNG_SIZES:
        _write(paths.png_icon(size), render_png(svg, size))
        written.append(paths.png_icon(size))
    _refresh_caches(paths)
    return written


def uninstall(paths: EntryPaths | None = None) -> list[Path]:
    """Remove what :func:`install` wrote (and only that); returns the files removed."""
    paths = paths or EntryPaths.from_environment()
    removed = []
    for path in paths.all_files():
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    _refresh_caches(paths)
    return removed


def main(flag: str) -> int:
    """Handle ``--install-desktop-entry`` / ``--uninstall-desktop-entry``; the exit code."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        _say(
            "vldesk: desktop entries are for Linux desktops; on Windows and macOS use the "
            "app bundle (packaging/README.md) or the vldesk launcher pip installed.",
            error=True,
        )
        return 2
    paths = EntryPaths.from_environment()
    try:
        if flag == INSTALL_FLAG:
            command = launcher_command()
            install(paths, command)
            _say(f"Installed {paths.desktop_file}\n  starts: {' '.join(command)}")
            _say(f"  icons: {paths.hicolor}/{{scalable,NxN}}/apps/{APP_ID}.*")
        else:
            removed = uninstall(paths)
            _say(
                "Removed "
                + ", ".join(map(str, removed[:2]))
                + (" and the icons" if removed else "")
                if removed
                else "No vldesk desktop entry was installed."
            )
    except OSError as exc:
        _say(f"vldesk: error: {exc}", error=True)
        return 1
    return 0


def _say(text: str, *, error: bool = False) -> None:
    stream = sys.stderr if error else sys.stdout
    if stream is not None:  # a windowed launch may have neither
        stream.write(text + "\n")
