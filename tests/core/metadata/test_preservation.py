"""Writing a caption keeps every other tag byte for byte, and a kill -9 never damages a photo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.core.metadata.conftest import ExifTool
from tests.core.metadata.images import FORMATS, make_photo
from vldesk.core.metadata import Caption, MetadataMode, read_caption, write_caption

ROOT = Path(__file__).resolve().parents[3]
#: What a caption write may change: its own fields, the XMP toolkit's name, the file's stat.
CHANGED_GROUPS = {"System", "File", "ExifTool", "XMP-vldesk"}
CHANGED_TAGS = {"XMP-x:XMPToolkit", "XMP-dc:Description", "XMP-dc:Description-zh-CN"}
CHANGED_TAGS |= {"XMP-dc:Subject"}
#: Where the image data starts moves when the metadata before it grows (TIFF): not a value.
LAYOUT_TAGS = {"StripOffsets", "TileOffsets", "ThumbnailOffset", "PreviewImageStart"}


def _unchanged_part(tags: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in tags.items()
        if key.split(":", 1)[0] not in CHANGED_GROUPS
        and key not in CHANGED_TAGS
        and key.rsplit(":", 1)[-1] not in LAYOUT_TAGS
    }


@pytest.mark.parametrize("suffix", list(FORMATS))
def test_every_other_tag_is_byte_equal_after_an_embedded_write(
    tmp_path: Path, exiftool: ExifTool, suffix: str
) -> None:
    photo = make_photo(tmp_path / f"rich.{suffix}")
    exiftool(
        photo,
        "-XMP-dc:Creator=Ann Example",
        "-XMP-xmp:Rating=4",
        "-XMP-dc:Title=Garden",
        "-GPSLatitude=48.8566",
        "-GPSLatitudeRef=N",
        "-GPSLongitude=2.3522",
        "-GPSLongitudeRef=E",
        *(() if suffix == "webp" else ("-IPTC:Keywords=holiday", "-IPTC:City=Paris")),
        write=True,
    )
    # -b: binary values (ICC profile, thumbnails) as base64, so they are compared too.
    before = exiftool(photo, "-b")
    pixels = Image.open(photo).tobytes()
    write_caption(
        photo, Caption({"x-default": "A caption", "zh-CN": "说明"}, ("tag",)), MetadataMode.EMBED
    )
    after = exiftool(photo, "-b")
    assert after["XMP-dc:Description"] == "A caption"
    assert _unchanged_part(after) == _unchanged_part(before)
    assert len(_unchanged_part(before)) > 15  # the comparison covers real tags
    assert "ICC_Profile:ProfileDescription" in before or "ICC-header:ProfileVersion" in before
    assert Image.open(photo).tobytes() == pixels


_WRITER = """
import itertools, sys
from pathlib import Path
from vldesk.core.metadata import Caption, MetadataMode, write_caption
photos = [Path(p) for p in sys.argv[1:]]
for count in itertools.count():
    for photo in photos:
        text = f"caption {count}"
        write_caption(photo, Caption({"x-default": text}, ("k",)), MetadataMode.EMBED)
        print(count, photo.name, flush=True)
"""


def _kill_during_a_write(photos: list[Path], fraction: float) -> None:
    """Run the batch writer and SIGKILL it ``fraction`` of the way through one write."""
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, *map(str, photos)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        times = []
        for _ in range(len(photos) + 4):
            line = writer.stdout.readline()
            assert line, writer.stderr.read() if writer.stderr else "the writer stopped"
            times.append(time.monotonic())
        # Aim inside the next write (a kill at a line boundary would only ever hit its start).
        per_write = (times[-1] - times[4]) / (len(times) - 5)
        time.sleep(per_write * fraction)
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
    assert writer.returncode == -signal.SIGKILL


def test_kill_9_during_a_batch_write_leaves_every_photo_readable(
    tmp_path: Path, exiftool: ExifTool
) -> None:
    photos = [make_photo(tmp_path / f"p{n}.jpg", (900, 700), noise=True) for n in range(6)]
    for fraction in (0.15, 0.4, 0.65, 0.9):
        _kill_during_a_write(photos, fraction)
        for photo in photos:
            with Image.open(photo) as image:
                image.load()
            tags = exiftool(photo)
            assert "ExifTool:Error" not in tags, tags
            assert "ExifTool:Warning" not in tags, tags
            stored = read_caption(photo)
            assert stored is not None
            assert stored.descriptions["x-default"].startswith("caption ")
    # At most hidden temporary files are left over, never a damaged photo.
    leftovers = {path.name for path in tmp_path.iterdir()} - {photo.name for photo in photos}
    assert all(name.startswith(".") and name.endswith(".tmp") for name in leftovers), leftovers
