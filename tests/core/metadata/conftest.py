"""exiftool as an independent reader (and writer of "a person's" metadata) for these tests."""

from __future__ import annotations

import pytest

from tests.helpers.exiftool import ExifTool, exiftool_runner

__all__ = ["ExifTool", "exiftool"]


@pytest.fixture
def exiftool() -> ExifTool:
    """``exiftool(path, *args)``: see :func:`tests.helpers.exiftool.exiftool_runner`."""
    return exiftool_runner()
