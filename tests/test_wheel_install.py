"""The built wheel, installed into a fresh virtual environment, starts from an empty folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from vldesk import __version__

ROOT = Path(__file__).resolve().parents[1]
BIN = "Scripts" if sys.platform == "win32" else "bin"


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, **kwargs
    )  # type: ignore[call-overload]
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the project (so parallel builds never share build/)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(
        ROOT / "vldesk", source / "vldesk", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    # Offline: the build backend (setuptools) comes from this environment, nothing is fetched.
    _run(
        [
            *(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"),
            *("--no-index", "-w", str(work / "dist"), str(source)),
        ]
    )
    (built,) = (work / "dist").glob("vldesk-*.whl")
    return built


def test_the_wheel_contains_the_runtime_resources(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "vldesk/assets/vldesk.svg",
        "vldesk/assets/vldesk.desktop",
        "vldesk/assets/i18n/vldesk_zh_CN.qm",
        "vldesk/data/chat_templates/qwen3_vl.jinja",
        "vldesk/data/configs/Qwen3-VL-2B-Instruct.json",
    ):
        assert name in names
    entry_points = (
        zipfile.ZipFile(wheel).read(f"vldesk-{__version__}.dist-info/entry_points.txt").decode()
    )
    assert "[gui_scripts]\nvldesk = vldesk.__main__:main" in entry_points
    assert "[console_scripts]\nvldesk-cli = vldesk.__main__:main" in entry_points


@pytest.mark.skipif(sys.platform == "win32", reason="the .pth trick is written for POSIX paths")
def test_the_installed_wheel_starts_from_an_empty_folder(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / BIN / "python"
    _run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python), "install", "-q"),
            *("--no-deps", "--no-index", str(wheel)),
        ]
    )
    # The heavy dependencies (Qt, torch, ...) come from this environment, after the new one's
    # own site-packages, so nothing is downloaded and vldesk itself comes from the wheel.
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(purelib.stdout.strip(), "zz_dependencies.pth").write_text(
        "\n".join(sorted(ours)) + "\n", encoding="utf-8"
    )

    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text('{"ui_language": "zh"}', encoding="utf-8")
    photos = tmp_path / "my photos"
    photos.mkdir()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(photos / "a b.png")
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env.update(QT_QPA_PLATFORM="offscreen", VLDESK_HOME=str(home))

    result = _run(
        [str(venv / BIN / "vldesk"), "--smoke-test", str(photos / "a b.png")], cwd=empty, env=env
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(report["package"]).is_relative_to(venv)
    assert report["window_visible"] is True
    assert report["icon"] is True
    assert report["language"] == "zh"
    assert report["menus"][0] == "文件(&F)"
    assert report["image"] == "a b.png"
    assert report["error"] is None
    assert list(empty.iterdir()) == []  # nothing written to the working folder

    version = _run([str(venv / BIN / "vldesk-cli"), "--version"], cwd=empty, env=env)
    assert version.stdout.strip() == f"vldesk {__version__}"
