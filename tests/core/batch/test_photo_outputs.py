"""Batch jobs that also write captions into photo XMP and export boxes, on a fake engine;
exiftool reads the XMP back independently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.core.batch.jobs import options_for, result_records, run_job
from tests.core.metadata.conftest import ExifTool, exiftool
from tests.core.metadata.images import make_photo
from tests.helpers.fake_engine import FakeEngine
from vldesk.core.batch import BatchEventKind, BoxFormat, CaptionMode, ImageStatus, ReportPaths
from vldesk.core.batch.journal import read_journal
from vldesk.core.errors import VldeskError
from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.metadata import MetadataMode
from vldesk.core.models.catalog import Family

__all__ = ["exiftool"]  # the fixture, shared with tests/core/metadata

PERSON = "Grandma's garden, summer 1998"


def caption_of(conversation: Conversation) -> str:
    return f"A photo named {Path(conversation.images[0].source).name}."


def photo_folder(folder: Path, exiftool: ExifTool) -> Path:
    """Three JPEGs; ``person.jpg`` carries a description a person wrote (in its own XMP)."""
    folder.mkdir(parents=True)
    for name in ("a.jpg", "b.jpg", "person.jpg"):
        make_photo(folder / name)
    exiftool(folder / "person.jpg", f"-XMP-dc:Description={PERSON}", write=True)
    return folder


def xmp_records(jobs: Path, options: Any) -> list[dict[str, Any]]:
    records, _ = read_journal(jobs / options.job_id() / "journal.jsonl")
    return [r for r in records if r["kind"] == "xmp"]


def test_sidecars_get_the_caption_and_provenance_and_a_persons_description_is_kept(
    tmp_path: Path, exiftool: ExifTool
) -> None:
    folder = photo_folder(tmp_path / "photos", exiftool)
    reports = ReportPaths(jsonl=tmp_path / "r.jsonl", markdown=tmp_path / "r.md")
    options = options_for(folder, xmp=MetadataMode.SIDECAR, reports=reports)
    engine = FakeEngine(name="lively", answer=caption_of)
    summary, _events, _outcome = run_job(engine, options, jobs_dir=tmp_path / "jobs")

    # The person's photo is captioned (its caption file is written), not failed.
    assert (summary.captioned, summary.failed) == (3, 0)
    assert (folder / "person.txt").read_text("utf-8") == "A photo named person.jpg.\n"
    for name in ("a.jpg", "b.jpg"):
        tags = exiftool(folder / f"{name}.xmp")
        assert tags["XMP-dc:Description"] == f"A photo named {name}."
        assert tags["XMP-vldesk:Model"] == "lively"
        assert tags["XMP-vldesk:Prompt"] == "Describe this image."
        assert tags["XMP-vldesk:Reviewed"] is False or tags["XMP-vldesk:Reviewed"] == "False"
        assert tags["XMP-vldesk:CaptionSourceType"].endswith("trainedAlgorithmicMedia")
        assert tags["XMP-vldesk:Date"]
    assert not (folder / "person.jpg.xmp").exists()
    assert exiftool(folder / "person.jpg")["XMP-dc:Description"] == PERSON

    (note,) = summary.metadata_notes
    assert note[0] == "person.jpg"
    assert "a person wrote" in note[1]
    assert "--xmp-overwrite" in note[1]
    rows = {
        row["image"]: row
        for row in map(json.loads, (tmp_path / "r.jsonl").read_text("utf-8").splitlines())
    }
    assert rows["person.jpg"]["status"] == "captioned"
    assert rows["person.jpg"]["xmp"] == "skipped-human"
    assert rows["a.jpg"]["xmp"] == "written"
    assert rows["a.jpg"]["xmp_note"] is None
    assert "a person wrote" in (tmp_path / "r.md").read_text("utf-8")
    # One metadata step per captioned image, journaled.
    assert sorted(r["image"] for r in xmp_records(tmp_path / "jobs", options)) == [
        "a.jpg",
        "b.jpg",
        "person.jpg",
    ]


def test_xmp_overwrite_replaces_a_persons_description(tmp_path: Path, exiftool: ExifTool) -> None:
    folder = photo_folder(tmp_path / "photos", exiftool)
    options = options_for(folder, xmp=MetadataMode.EMBED, xmp_overwrite=True)
    engine = FakeEngine(name="lively", answer=caption_of)
    summary, _, _ = run_job(engine, options, jobs_dir=tmp_path / "jobs")
    assert summary.metadata_notes == ()
    tags = exiftool(folder / "person.jpg")
    assert tags["XMP-dc:Description"] == "A photo named person.jpg."
    assert tags["IFD0:Make"] == "TestCam"  # the rest of the photo's metadata is kept
    with Image.open(folder / "person.jpg") as image:
        image.load()


def test_a_metadata_failure_is_reported_and_keeps_the_caption(
    tmp_path: Path, exiftool: ExifTool
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    make_photo(folder / "ok.png")
    Image.new("RGB", (40, 30), (9, 90, 200)).save(folder / "old.bmp")  # exiv2 cannot embed here
    options = options_for(folder, xmp=MetadataMode.EMBED)
    engine = FakeEngine(name="lively", answer=caption_of)
    summary, events, _ = run_job(engine, options, jobs_dir=tmp_path / "jobs")

    assert (summary.captioned, summary.failed) == (2, 0)
    assert (folder / "old.txt").read_text("utf-8") == "A photo named old.bmp.\n"
    ((image, note),) = summary.metadata_notes
    assert image == "old.bmp"
    assert "not written" in note
    assert "BMP" in note
    warnings = [e for e in events if e.kind is BatchEventKind.WARNING]
    assert [e.image for e in warnings] == ["old.bmp"]
    assert exiftool(folder / "ok.png")["XMP-dc:Description"] == "A photo named ok.png."


def test_a_resume_finishes_the_xmp_a_crash_interrupted_and_writes_it_only_once(
    tmp_path: Path, exiftool: ExifTool
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        make_photo(folder / name)
    jobs = tmp_path / "jobs"
    options = options_for(folder, xmp=MetadataMode.EMBED)
    untouched_b = (folder / "b.jpg").read_bytes()
    engine = FakeEngine(name="lively", answer=caption_of)
    run_job(engine, options, jobs_dir=jobs)
    written = {name: tags_of(exiftool, folder / name) for name in ("a.jpg", "b.jpg")}

    # As if killed after the caption files: a.jpg's XMP was written but not journaled,
    # b.jpg's was never written (its photo as before), c.jpg's is done and journaled.
    journal = jobs / options.job_id() / "journal.jsonl"
    lines = journal.read_text("utf-8").splitlines(keepends=True)
    kept = [
        line
        for line in lines
        if not (json.loads(line)["kind"] in ("xmp", "finished") and '"c.jpg"' not in line)
    ]
    journal.write_text("".join(kept), encoding="utf-8")
    (folder / "b.jpg").write_bytes(untouched_b)
    (folder / ".a.jpg.1234.tmp").write_bytes(b"half a photo")  # an atomic write cut short

    again = FakeEngine(name="lively", answer=caption_of)
    summary, _, _ = run_job(again, options, jobs_dir=jobs, resume=True)
    assert again.asked == []  # nothing is captioned twice
    assert summary.captioned == 3
    # a.jpg: the same tags again (same caption, same journaled date), not a second caption.
    assert tags_of(exiftool, folder / "a.jpg") == written["a.jpg"]
    assert tags_of(exiftool, folder / "b.jpg") == written["b.jpg"]
    assert exiftool(folder / "b.jpg")["XMP-dc:Description"] == "A photo named b.jpg."
    assert not list(folder.glob("*.tmp"))
    steps = [r["image"] for r in xmp_records(jobs, options)]
    assert sorted(steps) == ["a.jpg", "b.jpg", "c.jpg"]


def tags_of(exiftool: ExifTool, path: Path) -> dict[str, Any]:
    """Every tag but the file system's (dates of the file itself)."""
    return {k: v for k, v in exiftool(path).items() if not k.startswith(("System:", "SourceFile"))}


def grounding_answer(boxes: dict[str, list[int]]) -> Any:
    """Answers each image with a box in JSON, Qwen style, chosen by the image's name."""

    def answer(conversation: Conversation) -> str:
        name = Path(conversation.images[0].source).name
        found = [{"bbox_2d": boxes[name], "label": "cat"}] if name in boxes else []
        return "```json\n" + json.dumps(found) + "\n```"

    return answer


def test_boxes_on_the_relative_grid_export_as_coco_including_earlier_sessions(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (400, 200)).save(folder / "wide.png")
    Image.new("RGB", (100, 300)).save(folder / "tall.png")
    jobs = tmp_path / "jobs"
    settings = GenerationSettings(max_new_tokens=100, max_image_tokens=32)
    options = options_for(folder, boxes=BoxFormat.COCO, model="fake", settings=settings)
    # Qwen3-VL answers on a 0-1000 grid of the image, whatever its size.
    boxes = {
        "wide.png": [100, 250, 500, 750],
        "tall.png": [0, 0, 1000, 500],
        "new.png": [0, 0, 500, 500],
    }
    engine = FakeEngine(family=Family.QWEN3_VL, answer=grounding_answer(boxes))
    summary, _, _ = run_job(engine, options, jobs_dir=jobs)
    coco_file = folder / "boxes.coco.json"
    assert summary.exports == (coco_file,)
    assert len(json.loads(coco_file.read_text("utf-8"))["annotations"]) == 2

    # A new image and a resumed job: the export holds the earlier images too (from the journal).
    Image.new("RGB", (80, 60)).save(folder / "new.png")
    Image.new("RGB", (50, 50)).save(folder / "empty.png")
    engine = FakeEngine(family=Family.QWEN3_VL, answer=grounding_answer(boxes))
    run_job(engine, options, jobs_dir=jobs, resume=True)
    assert len(engine.asked) == 2
    coco = json.loads(coco_file.read_text("utf-8"))
    names = {image["id"]: image["file_name"] for image in coco["images"]}
    assert sorted(names.values()) == ["empty.png", "new.png", "tall.png", "wide.png"]
    found = {names[a["image_id"]]: a["bbox"] for a in coco["annotations"]}
    assert found == {
        "wide.png": [40.0, 50.0, 160.0, 100.0],
        "tall.png": [0.0, 0.0, 100.0, 150.0],
        "new.png": [0.0, 0.0, 40.0, 30.0],
    }
    assert [c["name"] for c in coco["categories"]] == ["cat"]
    assert all("boxes" in r for r in result_records(jobs, options))


def test_boxes_in_model_pixels_export_as_yolo_where_asked(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    # 56x56 is a whole number of 28-pixel patches within the budget: Qwen2.5-VL sees it as is.
    Image.new("RGB", (56, 56)).save(folder / "a.png")
    out = tmp_path / "labels"
    settings = GenerationSettings(max_new_tokens=100, max_image_tokens=32)
    options = options_for(
        folder, boxes=BoxFormat.YOLO, boxes_out=out, settings=settings, model="fake"
    )
    engine = FakeEngine(
        family=Family.QWEN2_5_VL,
        patch_factor=28,
        answer=grounding_answer({"a.png": [14, 0, 42, 28]}),
    )
    summary, _, outcome = run_job(engine, options, jobs_dir=tmp_path / "jobs")
    assert summary.exports == (out,)
    assert (out / "a.txt").read_text("utf-8") == "0 0.500000 0.250000 0.500000 0.500000\n"
    assert (out / "classes.txt").read_text("utf-8") == "cat\n"
    # The caption file still holds the whole answer, as without --boxes.
    assert (folder / "a.txt").read_text("utf-8") == outcome["a.png"] + "\n"


def test_options_keep_xmp_and_boxes_across_a_resume(tmp_path: Path) -> None:
    options = options_for(
        tmp_path, xmp=MetadataMode.SIDECAR, boxes=BoxFormat.COCO, boxes_out=tmp_path / "b.json"
    )
    again = type(options).from_dict(json.loads(json.dumps(options.to_dict())))
    assert again == options
    # Without the new options a job keeps the id it had before they existed.
    plain = options_for(tmp_path)
    assert "xmp" not in plain.identity()
    assert "boxes" not in plain.identity()
    assert options.job_id() != plain.job_id()
    with pytest.raises(VldeskError, match="--xmp"):
        options_for(tmp_path, xmp_overwrite=True)


def test_images_skipped_for_an_existing_caption_get_no_xmp(
    tmp_path: Path, exiftool: ExifTool
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    make_photo(folder / "a.jpg")
    (folder / "a.txt").write_text("old", encoding="utf-8")
    options = options_for(folder, xmp=MetadataMode.SIDECAR)
    summary, _, _ = run_job(FakeEngine(name="lively"), options, jobs_dir=tmp_path / "jobs")
    assert summary.skipped == 1
    assert not (folder / "a.jpg.xmp").exists()
    assert all(
        r["status"] == ImageStatus.SKIPPED.value for r in result_records(tmp_path / "jobs", options)
    )


def test_a_caption_with_characters_xml_cannot_hold_stays_vldesks_own(
    tmp_path: Path, exiftool: ExifTool
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    make_photo(folder / "a.png")
    jobs = tmp_path / "jobs"
    engine = FakeEngine(name="lively", answer="A cat\x01 on a mat\x1f")
    options = options_for(folder, xmp=MetadataMode.EMBED)
    run_job(engine, options, jobs_dir=jobs)
    assert exiftool(folder / "a.png")["XMP-dc:Description"] == "A cat on a mat"
    # A second job replaces it: the text stored is the text whose digest marks it as vldesk's.
    again = options_for(folder, xmp=MetadataMode.EMBED, mode=CaptionMode.OVERWRITE)
    engine = FakeEngine(name="lively", answer="A dog")
    summary, _, _ = run_job(engine, again, jobs_dir=jobs)
    assert summary.metadata_notes == ()
    assert exiftool(folder / "a.png")["XMP-dc:Description"] == "A dog"


def test_boxes_of_an_exif_rotated_photo_land_on_its_upright_pixels(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    # Stored 120x60 landscape, EXIF orientation 6: shown (and answered about) as 60x120.
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (120, 60), (200, 30, 30)).save(folder / "turned.jpg", exif=exif.tobytes())
    settings = GenerationSettings(max_new_tokens=100, max_image_tokens=32)
    options = options_for(folder, boxes=BoxFormat.COCO, model="fake", settings=settings)
    answer = grounding_answer({"turned.jpg": [0, 500, 1000, 1000]})  # the lower half, upright
    run_job(FakeEngine(family=Family.QWEN3_VL, answer=answer), options, jobs_dir=tmp_path / "j")
    coco = json.loads((folder / "boxes.coco.json").read_text("utf-8"))
    ((image,), (annotation,)) = coco["images"], coco["annotations"]
    assert (image["width"], image["height"]) == (60, 120)
    assert annotation["bbox"] == [0.0, 60.0, 60.0, 60.0]
