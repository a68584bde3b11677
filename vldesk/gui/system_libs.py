"""Before Qt starts on Linux: find missing system libraries and say exactly what to install."""

# Without these, Qt either fails to import (cryptic "libEGL.so.1: cannot open shared object
# file") or aborts while loading the xcb platform plugin. Only Qt-free modules are imported here.

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Set to 1 to skip the check (an unusual system where the libraries are found differently).
SKIP_ENV = "VLDESK_SKIP_LIBRARY_CHECK"


@dataclass(frozen=True)
class SystemLibrary:
    """A shared library Qt needs: its ``find_library`` name, file name and distro packages."""

    name: str
    soname: str
    apt: str
    dnf: str


#: Where local X servers put their sockets (X0 for display :0).
X11_SOCKETS = Path("/tmp/.X11-unix")

#: What the Qt GUI libraries link against (any platform plugin).
QT_GUI_LIBRARIES = (
    SystemLibrary("GL", "libGL.so.1", "libgl1", "mesa-libGL"),
    SystemLibrary("EGL", "libEGL.so.1", "libegl1", "mesa-libEGL"),
    SystemLibrary("fontconfig", "libfontconfig.so.1", "libfontconfig1", "fontconfig"),
    SystemLibrary("freetype", "libfreetype.so.6", "libfreetype6", "freetype"),
    SystemLibrary("xkbcommon", "libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon"),
    SystemLibrary("X11", "libX11.so.6", "libx11-6", "libX11"),
    SystemLibrary("glib-2.0", "libglib-2.0.so.0", "libglib2.0-0", "glib2"),
    SystemLibrary("dbus-1", "libdbus-1.so.3", "libdbus-1-3", "dbus-libs"),
)
#: What Qt's xcb (X11) platform plugin links against; libxcb-cursor0 is the one most often missing.
XCB_LIBRARIES = (
    SystemLibrary("xcb-cursor", "libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
    SystemLibrary("xcb-icccm", "libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    SystemLibrary("xcb-image", "libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
    SystemLibrary("xcb-keysyms", "libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    SystemLibrary(
        "xcb-render-util", "libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"
    ),
    SystemLibrary("xcb-util", "libxcb-util.so.1", "libxcb-util1", "xcb-util"),
    SystemLibrary("xcb-randr", "libxcb-randr.so.0", "libxcb-randr0", "libxcb"),
    SystemLibrary("xcb-render", "libxcb-render.so.0", "libxcb-render0", "libxcb"),
    SystemLibrary("xcb-shape", "libxcb-shape.so.0", "libxcb-shape0", "libxcb"),
    SystemLibrary("xcb-shm", "libxcb-shm.so.0", "libxcb-shm0", "libxcb"),
    SystemLibrary("xcb-sync", "libxcb-sync.so.1", "libxcb-sync1", "libxcb"),
    SystemLibrary("xcb-xfixes", "libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb"),
    SystemLibrary("xcb-xkb", "libxcb-xkb.so.1", "libxcb-xkb1", "libxcb"),
    SystemLibrary("xcb", "libxcb.so.1", "libxcb1", "libxcb"),
    SystemLibrary("X11-xcb", "libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb"),
    SystemLibrary(
        "xkbcommon-x11", "libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"
    ),
)


def qt_platform(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> str:
    """The platform plugin Qt will try first: ``-platform``, ``QT_QPA_PLATFORM``, else the
    session type (Qt prefers Wayland in a Wayland session and X11 otherwise)."""
    env = os.environ if environ is None else environ
    args = list(argv)
    for index, arg in enumerate(args):
        if arg in ("-platform", "--platform") and index + 1 < len(args):
            return args[index + 1].split(";")[0].split(":")[0]
        if arg.startswith("-platform="):
            return arg.split("=", 1)[1].split(";")[0].split(":")[0]
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(";")[0].split(":")[0]
    if env.get("XDG_SESSION_TYPE") == "wayland" and env.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


def _loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def _bundled(soname: str) -> bool:
    """Shipped inside a PyInstaller app folder (which brings many of these along)."""
    bundle = getattr(sys, "_MEIPASS", None)
    return bool(getattr(sys, "frozen", False) and bundle and os.path.isfile(f"{bundle}/{soname}"))


def missing_libraries(libraries: Sequence[SystemLibrary]) -> list[SystemLibrary]:
    """Those of ``libraries`` that are not installed.

    ``ctypes.util.find_library`` asks the linker cache; a library it cannot find is then
    loaded directly, so a system whose cache is incomplete (Flatpak, Nix, LD_LIBRARY_PATH)
    is not sent away for a library it has. An app bundle's own copies count as installed.
    """
    return [
        library
        for library in libraries
        if ctypes.util.find_library(library.name) is None
        and not _bundled(library.soname)
        and not _loadable(library.soname)
    ]


def install_hint(missing: Sequence[SystemLibrary], platform: str) -> str:
    """A message that names the missing libraries and the command that installs them."""
    apt = " ".join(dict.fromkeys(library.apt for library in missing))
    dnf = " ".join(dict.fromkeys(library.dnf for library in missing))
    names = ", ".join(library.soname for library in missing)
    where = "Qt's X11 (xcb) platform plugin" if platform == "xcb" else "Qt"
    return (
        f"vldesk cannot start: {where} needs system libraries that are not installed: {names}.\n"
        f"Install them, then start vldesk again:\n"
        f"  Debian/Ubuntu:  sudo apt install {apt}\n"
        f"  Fedora:         sudo dnf install {dnf}\n"
        f"(Set {SKIP_ENV}=1 to start anyway.)"
    )


def no_display_problem(environ: Mapping[str, str]) -> str | None:
    """Why X11 cannot be reached: no ``DISPLAY``, or a local display with no X server behind it.

    Qt would abort (exit 134) and say why only in the log: the reason must reach the user.
    Remote displays (``host:10.0``, SSH forwarding) are left to Qt.
    """
    display = environ.get("DISPLAY", "").strip()
    if not display:
        reason = "no display is set (DISPLAY is empty)"
    else:
        host, _, number = display.rpartition(":")
        screen = number.split(".")[0]
        local = host in ("", "unix") and screen.isdigit()
        if not local or (X11_SOCKETS / f"X{screen}").exists():
            return None
        reason = f"no X server answers on display {display}"
    return (
        f"vldesk's window needs a graphical session, but {reason}. Start it from the desktop, "
        "under a virtual screen (xvfb-run vldesk), or use the command line: "
        "vldesk describe IMAGE, vldesk batch FOLDER, vldesk serve (vldesk --help lists all)."
    )


def startup_problem(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> str | None:
    """On Linux, before Qt is imported: a message if libraries Qt needs are missing, else None.

    The X11 libraries are only required when Qt will use the xcb platform (not offscreen,
    Wayland, VNC, ...).
    """
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux") or env.get(SKIP_ENV) == "1":
        return None
    platform = qt_platform(argv, env)
    if platform == "xcb":
        display = no_display_problem(env)
        if display:
            return display
    needed = list(QT_GUI_LIBRARIES)
    if platform == "xcb":
        needed += XCB_LIBRARIES
    missing = missing_libraries(needed)
    return install_hint(missing, platform) if missing else None


def report(problem: str) -> None:
    """Say it on stderr (a terminal or the session journal) and in the log file."""
    if sys.stderr is not None:
        sys.stderr.write(problem + "\n")
    try:
        from vldesk.core.paths import app_paths

        log_dir = app_paths().log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / "vldesk.log", "a", encoding="utf-8") as log_file:
            log_file.write(f"ERROR vldesk.startup: {problem}\n")
    except OSError:
        pass
