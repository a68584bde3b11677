"""Caption files, review state and the edits of a folder, from a plain script (no Qt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.core.metadata.conftest import ExifTool, exiftool
from vldesk.core.batch import BatchOptions
from vldesk.core.batch.journal import BatchJob
from vldesk.core.batch.records import ImageResult
from vldesk.core.captions import (
    CaptionFilter,
    ReviewCache,
    ReviewState,
    approve,
    load_folder,
    matches,
    save_caption,
    sidecar_review,
)
from vldesk.core.captions.edits import CaptionEditError
from vldesk.core.metadata import sidecar_path

__all__ = ["exiftool"]


def picture(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (10, 20, 30)).save(path)
    return path


def test_the_folder_follows_its_latest_jobs_caption_naming_and_failures(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    for name in ("img10.png", "img2.png", "sub/img1.png"):
        picture(folder / name)
    (folder / "img2.caption").write_text("  a caption  \n", encoding="utf-8")
    (folder / "img2.txt").write_text("not the job's caption file", encoding="utf-8")
    options = BatchOptions(folder, "Describe.", "m", caption_extension=".caption", recursive=True)
    with BatchJob.create(options, jobs_dir=tmp_path / "jobs") as job:
        job.record_results(ImageResult.failure("img10.png", "too large"))
    loaded = load_folder(folder, jobs_dir=tmp_path / "jobs")
    assert [e.image.relative_to(folder).as_posix() for e in loaded.entries] == [
        "img2.png",
        "img10.png",
        "sub/img1.png",
    ]
    assert [e.caption for e in loaded.entries] == ["a caption", None, None]
    assert [e.error for e in loaded.entries] == [None, "too large", None]
    assert loaded.style.prompt == "Describe."
    failed = [e.name for e in loaded.entries if matches(e, CaptionFilter.FAILED)]
    assert failed == ["img10.png"]


@pytest.mark.parametrize(
    ("xmp", "state"),
    [
        ('<rdf:Description vldesk:Reviewed="True"/>', ReviewState.REVIEWED),
        ("<vldesk:Reviewed>False</vldesk:Reviewed>", ReviewState.PENDING),
        ('<rdf:Description dc:format="image/png"/>', ReviewState.NONE),  # another program's
    ],
)
def test_the_review_state_is_found_in_either_xmp_spelling(
    tmp_path: Path, xmp: str, state: ReviewState
) -> None:
    image = picture(tmp_path / "p.jpg")
    sidecar_path(image).write_text(xmp, encoding="utf-8")
    assert sidecar_review(image) is state


def test_the_cache_rereads_a_sidecar_only_when_it_changed(tmp_path: Path) -> None:
    image = picture(tmp_path / "p.png")
    cache = ReviewCache()
    assert cache.state(image) is ReviewState.NONE
    sidecar = sidecar_path(image)
    sidecar.write_text('vldesk:Reviewed="False"', encoding="utf-8")
    assert cache.state(image) is ReviewState.PENDING
    sidecar.write_text('vldesk:Reviewed="True" ', encoding="utf-8")  # another size
    assert cache.state(image) is ReviewState.REVIEWED


def test_approve_then_edit_keeps_the_models_text(tmp_path: Path, exiftool: ExifTool) -> None:
    folder = tmp_path / "set"
    picture(folder / "p.png")
    (folder / "p.txt").write_text("the model's words\n", encoding="utf-8")
    loaded = load_folder(folder, jobs_dir=tmp_path / "jobs")
    [entry] = loaded.entries
    assert matches(entry, CaptionFilter.NOT_REVIEWED)
    approve(entry, loaded.style)
    save_caption(entry, "a person's words", loaded.style)
    save_caption(entry, "a person's better words", loaded.style)
    tags = exiftool(folder / "p.png.xmp")
    assert tags["XMP-vldesk:Reviewed"] is True
    assert tags["XMP-dc:Description"] == "a person's better words"
    assert tags["XMP-vldesk:ModelText"] == "the model's words"
    [entry] = load_folder(folder, jobs_dir=tmp_path / "jobs").entries
    assert entry.caption == "a person's better words"
    assert entry.review is ReviewState.REVIEWED
    assert not matches(entry, CaptionFilter.NOT_REVIEWED)


def test_another_programs_sidecar_and_empty_captions_are_refused(
    tmp_path: Path, exiftool: ExifTool
) -> None:
    folder = tmp_path / "set"
    image = picture(folder / "p.png")
    (folder / "p.txt").write_text("a caption\n", encoding="utf-8")
    [entry] = load_folder(folder, jobs_dir=tmp_path / "jobs").entries
    with pytest.raises(CaptionEditError, match="empty"):
        save_caption(entry, "   ", load_folder(folder).style)
    sidecar = sidecar_path(image)
    exiftool(sidecar, "-XMP-dc:Description=Written in digiKam", write=True)
    before = sidecar.read_bytes()
    with pytest.raises(CaptionEditError, match="another program"):
        approve(entry, load_folder(folder).style)
    assert sidecar.read_bytes() == before
    assert (folder / "p.txt").read_text(encoding="utf-8") == "a caption\n"


def test_a_failed_save_changes_neither_the_caption_nor_the_sidecar(
    tmp_path: Path, exiftool: ExifTool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vldesk.core.captions import edits
    from vldesk.core.errors import WriteError

    folder = tmp_path / "set"
    image = picture(folder / "p.png")
    caption_file = folder / "p.txt"
    caption_file.write_text("the model's words\n", encoding="utf-8")
    [entry] = load_folder(folder, jobs_dir=tmp_path / "jobs").entries
    style = load_folder(folder).style
    # The sidecar cannot be written (a folder is in its place): the caption stays the model's.
    sidecar = sidecar_path(image)
    sidecar.mkdir()
    with pytest.raises(WriteError):
        save_caption(entry, "a person's words", style)
    assert caption_file.read_text(encoding="utf-8") == "the model's words\n"
    sidecar.rmdir()

    # The caption file cannot be written: the sidecar is as it was (none), so the model's
    # words are not lost.
    def refuse(*args: object, **kwargs: object) -> None:
        raise WriteError("the disk is full")

    monkeypatch.setattr(edits, "atomic_write_text", refuse)
    with pytest.raises(WriteError):
        save_caption(entry, "a person's words", style)
    assert not sidecar.exists()
    monkeypatch.undo()
    approve(entry, style)
    approved = sidecar.read_bytes()
    monkeypatch.setattr(edits, "atomic_write_text", refuse)
    with pytest.raises(WriteError):
        save_caption(entry, "a person's words", style)
    assert sidecar.read_bytes() == approved
    assert caption_file.read_text(encoding="utf-8") == "the model's words\n"
    monkeypatch.undo()
    save_caption(entry, "a person's words", style)
    assert exiftool(sidecar)["XMP-vldesk:ModelText"] == "the model's words"
