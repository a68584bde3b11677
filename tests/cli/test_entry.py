"""Routing between the CLI and the window, ``-v`` before or after the command, and a quiet
stderr: the library's warnings only with ``-v``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.cli.test_describe import run_vldesk
from vldesk.__main__ import main
from vldesk.cli import build_parser
from vldesk.core.models.catalog import Family


@pytest.mark.parametrize(
    ("argv", "verbose"),
    [
        (["describe", "a.jpg"], False),
        (["-v", "describe", "a.jpg"], True),
        (["describe", "a.jpg", "-v"], True),
        (["describe", "--verbose", "a.jpg"], True),
        (["models", "list", "-v"], True),
        (["--verbose", "models", "list"], True),
        (["batch", "photos", "-v"], True),
        (["bench", "-v"], True),
    ],
)
def test_verbose_before_or_after_the_command(argv: list[str], verbose: bool) -> None:
    assert build_parser().parse_args(argv).verbose is verbose


def test_verbose_before_the_command_runs_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-v", "models", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert any(entry["id"] == "Qwen/Qwen3-VL-2B-Instruct" for entry in listing["catalog"])


@pytest.mark.parametrize(
    ("word", "hint"), [("descibe", "Did you mean 'describe'?"), ("chat", ""), ("photo.jpg", "")]
)
def test_an_unknown_first_word_is_an_unknown_command_not_a_window(word: str, hint: str) -> None:
    """A typo, a command this version lacks or a missing file: a message and exit 2. The window
    would treat the words as images and, without a screen, never exit (the timeout catches it)."""
    result = run_vldesk(word, "x.jpg", timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"'{word}' is neither a command nor an existing file." in result.stderr
    assert hint in result.stderr
    assert "Commands: describe, models, batch, bench" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "picture.png"
    Image.new("RGB", (96, 64), (200, 40, 40)).save(path)
    return path


# The statuses describe prints on stderr; any other line is noise a user did not ask for.
STATUS_PREFIXES = ("Loading ", "Running on ", "Reading ", "[")


@pytest.mark.model
@pytest.mark.parametrize("family", [Family.QWEN3_VL, Family.QWEN3_5], ids=lambda f: f.value)
def test_describe_prints_no_library_warnings_unless_verbose(
    family: Family, picture: Path, tiny_model_dirs: dict[Family, Path]
) -> None:
    args = [str(picture), "--model", str(tiny_model_dirs[family]), "--max-new-tokens", "4"]
    quiet = run_vldesk("describe", *args)
    assert quiet.returncode == 0, quiet.stderr
    noise = [line for line in quiet.stderr.splitlines() if not line.startswith(STATUS_PREFIXES)]
    assert noise == []
    detailed = run_vldesk("-v", "describe", *args)
    assert detailed.returncode == 0, detailed.stderr
    assert "INFO vldesk.core.inference.transformers_loading: loading" in detailed.stderr
