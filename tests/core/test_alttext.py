"""Alt text from an answer, and the versions the About box shows without importing torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vldesk.core.alttext import alt_text
from vldesk.core.versions import component_versions, torch_build


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            'Alt text: "A **red** bicycle leaning on a _brick_ wall."',
            "A red bicycle leaning on a brick wall.",
        ),
        ("# A dog\n\n- running\n- on *wet* sand", "A dog running on wet sand"),
        ("```\nA cat on a mat.\n```", "A cat on a mat."),
        ("> A quoted [caption](https://example.com).", "A quoted caption."),
        ("“一只猫坐在**窗台**上。”", "一只猫坐在窗台上。"),
        ("替代文本：一辆红色自行车。", "一辆红色自行车。"),
        ("snake_case_name and 2*3*4 stay", "snake_case_name and 2*3*4 stay"),
        ("  \n ", ""),
    ],
)
def test_alt_text_is_plain_single_line_text(answer: str, expected: str) -> None:
    assert alt_text(answer) == expected


def test_versions_come_from_metadata_without_importing_torch() -> None:
    code = (
        "import sys; from vldesk.core.versions import component_versions; "
        "rows = dict(component_versions('6.x')); "
        "print('torch' in sys.modules, sorted(rows))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    imported, names = result.stdout.split(" ", 1)
    assert imported == "False"
    for name in ("vldesk", "Python", "Qt", "PySide6", "PyTorch", "transformers", "OS"):
        assert f"'{name}'" in names


def test_the_cuda_version_is_read_from_torch_version_file(tmp_path: Path) -> None:
    version = tmp_path / "version.py"
    version.write_text(
        "from typing import Optional\n__version__ = '2.9.0+cu128'\n"
        "cuda: Optional[str] = '12.8'\nhip: Optional[str] = None\n",
        encoding="utf-8",
    )
    assert torch_build(version) == {"cuda": "12.8", "hip": None}
    version.write_text("cuda = None\nhip = '6.4'\n", encoding="utf-8")
    assert torch_build(version) == {"cuda": None, "hip": "6.4"}
    assert torch_build(tmp_path / "missing.py") == {"cuda": None, "hip": None}
    assert dict(component_versions())["vldesk"]
