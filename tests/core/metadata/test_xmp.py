"""Captions reach XMP as exiftool reads it, beside or inside the photo, never over a person's."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from PIL import Image

from tests.core.metadata.conftest import ExifTool
from tests.core.metadata.images import FORMATS, make_photo
from vldesk.core.metadata import (
    TRAINED_ALGORITHMIC_MEDIA,
    Caption,
    MetadataError,
    MetadataMode,
    WriteStatus,
    mark_reviewed,
    read_caption,
    sidecar_path,
    write_caption,
)

CAPTION = Caption(
    {"x-default": "A blue square on a table", "zh-CN": "桌上的蓝色方块"},
    keywords=("square", "蓝色"),
    model="Qwen3-VL-2B-Instruct",
    prompt="Describe this image in one or two sentences.",
    date=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
)


@pytest.mark.parametrize("suffix", list(FORMATS))
def test_embedded_caption_reads_back_with_exiftool(
    tmp_path: Path, exiftool: ExifTool, suffix: str
) -> None:
    photo = make_photo(tmp_path / f"photo.{suffix}")
    caption = Caption(
        CAPTION.descriptions,
        CAPTION.keywords,
        CAPTION.model,
        CAPTION.prompt,
        CAPTION.date,
        exif_description=True,
        iptc_caption=True,
    )
    result = write_caption(photo, caption, MetadataMode.EMBED)
    assert (result.status, result.target) == (WriteStatus.WRITTEN, photo)
    tags = exiftool(photo)
    assert tags["XMP-dc:Description"] == "A blue square on a table"
    assert tags["XMP-dc:Description-zh-CN"] == "桌上的蓝色方块"
    assert tags["XMP-dc:Subject"] == ["square", "蓝色"]
    assert tags["XMP-vldesk:Model"] == "Qwen3-VL-2B-Instruct"
    assert tags["XMP-vldesk:Prompt"] == CAPTION.prompt
    assert tags["XMP-vldesk:Date"].startswith("2026:01:02 03:04:05")
    assert str(tags["XMP-vldesk:Reviewed"]) == "False"
    assert tags["XMP-vldesk:CaptionSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    # The image-level source type is opt-in: this photo is not AI-made.
    assert "XMP-iptcExt:DigitalSourceType" not in tags
    assert tags["IFD0:ImageDescription"] == "A blue square on a table"
    if suffix != "webp":  # WebP has no IPTC block
        assert tags["IPTC:Caption-Abstract"] == "A blue square on a table"
    assert read_caption(photo) is not None


def test_image_source_type_is_written_when_asked(tmp_path: Path, exiftool: ExifTool) -> None:
    photo = make_photo(tmp_path / "generated.png")
    caption = Caption({"x-default": "A render"}, image_source_type=TRAINED_ALGORITHMIC_MEDIA)
    write_caption(photo, caption, MetadataMode.EMBED)
    assert exiftool(photo)["XMP-iptcExt:DigitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA


def test_sidecar_is_named_after_the_whole_file_and_leaves_the_photo_alone(
    tmp_path: Path, exiftool: ExifTool
) -> None:
    photo = make_photo(tmp_path / "IMG_0001.jpg")
    before = photo.read_bytes()
    result = write_caption(photo, CAPTION, MetadataMode.SIDECAR)
    assert result.target == tmp_path / "IMG_0001.jpg.xmp" == sidecar_path(photo)
    assert photo.read_bytes() == before
    tags = exiftool(result.target)
    assert tags["XMP-dc:Description"] == "A blue square on a table"
    assert tags["XMP-dc:Subject"] == ["square", "蓝色"]
    stored = read_caption(photo)
    assert stored is not None
    assert stored.source == result.target
    assert stored.descriptions["zh-CN"] == "桌上的蓝色方块"
    assert stored.reviewed is False


def test_a_sidecar_named_without_the_extension_is_read(tmp_path: Path, exiftool: ExifTool) -> None:
    photo = make_photo(tmp_path / "DSC_7.jpg")
    other_tool = tmp_path / "DSC_7.xmp"
    # exiftool creates the sidecar, as Lightroom or digiKam would.
    exiftool(other_tool, "-XMP-dc:Description=Written in Lightroom", write=True)
    stored = read_caption(photo)
    assert stored is not None
    assert (stored.source, stored.descriptions) == (
        other_tool,
        {"x-default": "Written in Lightroom"},
    )
    assert stored.reviewed is None  # not vldesk's
    result = write_caption(photo, CAPTION, MetadataMode.SIDECAR)
    assert result.status is WriteStatus.SKIPPED_HUMAN
    assert result.existing_description == "Written in Lightroom"
    assert not sidecar_path(photo).exists()


@pytest.mark.parametrize("mode", list(MetadataMode))
def test_a_description_a_person_wrote_is_never_overwritten(
    tmp_path: Path, exiftool: ExifTool, mode: MetadataMode
) -> None:
    photo = make_photo(tmp_path / "person.jpg")
    exiftool(photo, "-XMP-dc:Description=My grandmother's garden", write=True)
    before = photo.read_bytes()
    result = write_caption(photo, CAPTION, mode)
    assert result.status is WriteStatus.SKIPPED_HUMAN
    assert result.existing_description == "My grandmother's garden"
    assert photo.read_bytes() == before
    assert not sidecar_path(photo).exists()
    # Asked explicitly, it is replaced.
    assert write_caption(photo, CAPTION, mode, overwrite_human=True).status is WriteStatus.WRITTEN
    stored = read_caption(photo)
    assert stored is not None
    assert stored.descriptions["x-default"] == "A blue square on a table"


def test_iptc_and_exif_descriptions_count_but_camera_placeholders_do_not(
    tmp_path: Path, exiftool: ExifTool
) -> None:
    camera = make_photo(tmp_path / "camera.jpg")
    exiftool(camera, "-IFD0:ImageDescription=OLYMPUS DIGITAL CAMERA         ", write=True)
    assert write_caption(camera, CAPTION, MetadataMode.EMBED).status is WriteStatus.WRITTEN
    press = make_photo(tmp_path / "press.jpg")
    exiftool(press, "-IPTC:Caption-Abstract=Mayor opens the bridge", write=True)
    assert write_caption(press, CAPTION, MetadataMode.EMBED).status is WriteStatus.SKIPPED_HUMAN


def test_vldesk_replaces_its_own_caption_until_a_person_edits_or_approves_it(
    tmp_path: Path, exiftool: ExifTool
) -> None:
    photo = make_photo(tmp_path / "own.jpg")
    with_exif = Caption({"x-default": "First try"}, exif_description=True, iptc_caption=True)
    assert write_caption(photo, with_exif, MetadataMode.EMBED).status is WriteStatus.WRITTEN
    second = Caption({"x-default": "Second try"}, keywords=("b",))
    assert write_caption(photo, second, MetadataMode.EMBED).status is WriteStatus.WRITTEN
    tags = exiftool(photo)
    # The Exif and IPTC copies of vldesk's own text follow it instead of going stale.
    assert tags["IFD0:ImageDescription"] == tags["IPTC:Caption-Abstract"] == "Second try"
    # A person edits the text in another tool: from then on it is theirs.
    exiftool(photo, "-XMP-dc:Description=Second try, fixed by hand", write=True)
    assert write_caption(photo, CAPTION, MetadataMode.EMBED).status is WriteStatus.SKIPPED_HUMAN

    approved = make_photo(tmp_path / "approved.jpg")
    write_caption(approved, CAPTION, MetadataMode.EMBED)
    assert mark_reviewed(approved) == approved
    assert write_caption(approved, second, MetadataMode.EMBED).status is WriteStatus.SKIPPED_HUMAN


def test_keywords_a_person_added_are_kept(tmp_path: Path, exiftool: ExifTool) -> None:
    photo = make_photo(tmp_path / "keywords.jpg")
    exiftool(photo, "-XMP-dc:Subject=family", write=True)
    write_caption(
        photo, Caption({"x-default": "One"}, keywords=("dog", "ball")), MetadataMode.EMBED
    )
    write_caption(photo, Caption({"x-default": "Two"}, keywords=("cat",)), MetadataMode.EMBED)
    assert exiftool(photo)["XMP-dc:Subject"] == ["family", "cat"]


@pytest.mark.parametrize("mode", list(MetadataMode))
def test_mark_reviewed_flips_the_state(
    tmp_path: Path, exiftool: ExifTool, mode: MetadataMode
) -> None:
    photo = make_photo(tmp_path / "review.png")
    target = write_caption(photo, CAPTION, mode).target
    assert mark_reviewed(photo) == target
    assert str(exiftool(target)["XMP-vldesk:Reviewed"]) == "True"
    stored = read_caption(photo)
    assert stored is not None
    assert stored.reviewed is True
    mark_reviewed(photo, reviewed=False)
    assert str(exiftool(target)["XMP-vldesk:Reviewed"]) == "False"


def test_mark_reviewed_without_a_vldesk_caption_is_an_error(tmp_path: Path) -> None:
    photo = make_photo(tmp_path / "plain.jpg")
    with pytest.raises(MetadataError, match="no caption written by vldesk"):
        mark_reviewed(photo)


def test_a_format_that_cannot_hold_xmp_is_refused_unchanged(tmp_path: Path) -> None:
    photo = tmp_path / "old.bmp"
    Image.new("RGB", (8, 8)).save(photo)
    before = photo.read_bytes()
    with pytest.raises(MetadataError, match=r"old\.bmp"):
        write_caption(photo, CAPTION, MetadataMode.EMBED)
    assert photo.read_bytes() == before
    # A sidecar works for any format.
    assert write_caption(photo, CAPTION, MetadataMode.SIDECAR).status is WriteStatus.WRITTEN


def test_an_existing_sidecar_keeps_what_other_tools_wrote(
    tmp_path: Path, exiftool: ExifTool
) -> None:
    photo = make_photo(tmp_path / "edited.jpg")
    sidecar = sidecar_path(photo)
    exiftool(sidecar, "-XMP-xmp:Rating=5", "-XMP-dc:Creator=Ann Example", write=True)
    assert write_caption(photo, CAPTION, MetadataMode.SIDECAR).target == sidecar
    tags = exiftool(sidecar)
    assert tags["XMP-xmp:Rating"] == 5
    assert tags["XMP-dc:Creator"] == ["Ann Example"]
    assert tags["XMP-dc:Description"] == "A blue square on a table"


@pytest.mark.parametrize("mode", list(MetadataMode))
def test_a_missing_photo_is_an_error_not_a_stray_sidecar(
    tmp_path: Path, mode: MetadataMode
) -> None:
    with pytest.raises(MetadataError, match="missing"):
        write_caption(tmp_path / "missing.jpg", CAPTION, mode)
    assert list(tmp_path.iterdir()) == []


def test_quotes_newlines_and_commas_survive(tmp_path: Path, exiftool: ExifTool) -> None:
    photo = make_photo(tmp_path / "tricky.jpg")
    text = 'He said "hi".\nA second line, with lang="fr" in it.'
    write_caption(photo, Caption({"x-default": text}, ("salt, pepper",)), MetadataMode.EMBED)
    stored = read_caption(photo)
    assert stored is not None
    assert (stored.descriptions, stored.keywords) == ({"x-default": text}, ("salt, pepper",))
    assert exiftool(photo)["XMP-dc:Subject"] == ["salt, pepper"]  # one keyword, not two
