"""``vldesk batch``: options, messages (on a fake engine), and resuming after Ctrl+C and kill -9
(a tiny model in a real process)."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import sqlite3
import sys
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from tests.cli.kill_and_resume import count, journal_records, kill_9, start_batch, wait_for_records
from tests.core.batch.jobs import lively_model_dir, picture
from tests.core.metadata.conftest import ExifTool, exiftool
from tests.core.metadata.images import make_photo
from tests.helpers import PROJECT_ROOT
from tests.helpers.fake_engine import FakeEngine, FakeEngineLoader
from vldesk.cli import run_cli
from vldesk.core.inference.engine import LoadRequest
from vldesk.core.inference.engine_choice import EngineChoice
from vldesk.core.models.catalog import Family
from vldesk.core.settings import Settings

ROOT = PROJECT_ROOT
__all__ = ["exiftool"]  # the fixture, shared with tests/core/metadata
SIZES = ((64, 64), (96, 64), (64, 96))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return lively_model_dir(tmp_path_factory, Family.QWEN3_VL)


@pytest.fixture
def fake_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeEngineLoader:
    """``vldesk batch`` loads fake engines: any ``--model`` folder resolves to itself."""
    import vldesk.cli.batch

    def choose_model(args: object, model_ref: str, user_settings: Settings) -> EngineChoice:
        return EngineChoice(Path(model_ref).resolve(), model_ref, "transformers", "a test")

    loader = FakeEngineLoader()
    monkeypatch.setattr(vldesk.cli.batch, "choose_model", choose_model)
    monkeypatch.setattr(vldesk.cli.batch, "load_engine", loader)
    return loader


def base_args(folder: Path, model: Path, *extra: str) -> list[str]:
    return [
        "batch",
        str(folder),
        "--model",
        str(model),
        "--prompt",
        "Describe this image.",
        "--max-new-tokens",
        "8",
        "--max-image-tokens",
        "32",
        *extra,
    ]


def test_batch_cli_writes_captions_reports_and_explains_failures(
    tmp_path: Path, fake_models: FakeEngineLoader, capsys: pytest.CaptureFixture[str]
) -> None:
    model_dir = tmp_path / "my-model"
    model_dir.mkdir()
    folder = tmp_path / "photos"
    for index, name in enumerate(("a.png", "sub/b.jpg", "sub/c.webp", "d.png")):
        picture(folder / name, SIZES[index % len(SIZES)], index)
    (folder / "bad.png").write_bytes(b"not an image")
    (folder / "d.caption").write_text("keep me", encoding="utf-8")
    reports = tmp_path / "reports"
    args = base_args(
        folder,
        model_dir,
        "--recursive",
        "--types",
        "png,jpg",
        "--ext",
        ".caption",
        "--prefix",
        "sks, ",
        "--batch-size",
        "2",
        "--jsonl",
        str(reports / "r.jsonl"),
        "--csv",
        str(reports / "r.csv"),
        "--md",
        str(reports / "r.md"),
        "--no-history",
    )
    assert run_cli(args) == 1  # one image failed
    err = capsys.readouterr().err
    assert "vldesk: failed: bad.png: Not an image" in err
    assert "Done: 2 captioned, 1 failed, 1 skipped of 4 images" in err
    assert "--retry-failed" in err
    assert "Traceback" not in err
    assert (folder / "d.caption").read_text(encoding="utf-8") == "keep me"
    assert not (folder / "sub" / "c.caption").exists()  # webp was not asked for
    rows = [json.loads(line) for line in (reports / "r.jsonl").read_text("utf-8").splitlines()]
    assert sorted(r["image"] for r in rows) == ["a.png", "bad.png", "d.png", "sub/b.jpg"]
    captions = {r["image"]: r["caption"] for r in rows}
    assert (folder / "a.caption").read_text("utf-8") == f"sks, {captions['a.png']}\n"
    with open(reports / "r.csv", encoding="utf-8-sig", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 4
    assert (reports / "r.md").is_file()
    # The engine came through the seam, as the saved settings and this command line asked.
    (request,) = fake_models.requests
    assert (request.model_dir, request.name) == (model_dir.resolve(), "my-model")
    assert (request.device, request.dtype, request.weights) == ("auto", "auto", "full")
    (engine,) = fake_models.engines
    assert engine.unloaded
    assert engine.batches == [2]  # two images to caption, at most two at a time
    assert captions["a.png"] == f"Describe this image. | {folder / 'a.png'}"

    # The same command again: the job is finished, so it starts afresh (and skips what exists).
    assert run_cli(args) == 1
    err = capsys.readouterr().err
    assert "Done: 0 captioned, 1 failed, 3 skipped of 4 images" in err


def test_batch_cli_refuses_unclear_resumes(
    tmp_path: Path, fake_models: FakeEngineLoader, capsys: pytest.CaptureFixture[str]
) -> None:
    model_dir = tmp_path / "my-model"
    folder = tmp_path / "photos"
    picture(folder / "a.png", (64, 64), 1)
    assert run_cli([*base_args(folder, model_dir), "--resume"]) == 1
    assert "No earlier batch job matches" in capsys.readouterr().err
    assert run_cli([*base_args(folder, model_dir), "--ext", ".png"]) == 1
    assert "is an image type" in capsys.readouterr().err
    assert run_cli([*base_args(tmp_path / "missing", model_dir)]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not fake_models.requests  # each refusal came before loading a model


@pytest.mark.parametrize("recursive", [False, True])
def test_a_folder_without_images_is_an_error_not_a_finished_job(
    tmp_path: Path,
    fake_models: FakeEngineLoader,
    capsys: pytest.CaptureFixture[str],
    recursive: bool,
) -> None:
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.md").write_text("not an image", encoding="utf-8")
    if not recursive:
        picture(folder / "sub" / "a.png", (64, 64), 1)  # not searched without --recursive
    extra = ["--recursive"] if recursive else []
    assert run_cli(base_args(folder, tmp_path / "my-model", *extra)) == 1
    err = capsys.readouterr().err
    assert f"vldesk: error: There are no images in {folder}" in err
    assert ("Add --recursive" in err) is not recursive
    assert "Done:" not in err
    assert not fake_models.requests
    assert not journal_records()  # no job was started


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_then_kill_9_then_resume_captions_every_image_exactly_once(
    tmp_path: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "photos"
    good = [f"img{i:02d}.png" for i in range(30)] + ["子目录/猫 photo.png", "sub/x.png"]
    for index, name in enumerate(good):
        picture(folder / name, SIZES[index % len(SIZES)], index)
    (folder / "broken.png").write_bytes(b"\x89PNG broken")
    # Append mode on top of existing captions: the hardest case to keep exactly-once.
    originals = {name: "" for name in good}
    for name in good[::4]:
        originals[name] = f"original caption of {name}"
        (folder / name).with_suffix(".txt").write_text(originals[name], encoding="utf-8")
    reports = tmp_path / "reports"
    args = base_args(
        folder,
        model_dir,
        "-r",
        "--mode",
        "append",
        "--prefix",
        "sks, ",
        "--suffix",
        " END",
        "--batch-size",
        "1",
        "--jsonl",
        str(reports / "r.jsonl"),
        "--csv",
        str(reports / "r.csv"),
        "--md",
        str(reports / "r.md"),
    )

    # 1. Ctrl+C: stops cleanly and says how to resume.
    first = start_batch(args)
    wait_for_records(first, "applied", 3)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 130, err
    assert "--resume" in err
    assert "Traceback" not in err
    after_interrupt = count("applied")
    assert 3 <= after_interrupt < len(good)

    # 2. The same command without --resume refuses to start over silently.
    assert run_cli(args) == 1
    assert "Add --resume to continue it" in capsys.readouterr().err

    # 3. kill -9 in the middle of the resumed run.
    second = start_batch([*args, "--resume"])
    wait_for_records(second, "applied", after_interrupt + 3)
    kill_9(second)
    assert count("applied") < len(good)

    # 4. Resume to the end.
    assert run_cli([*args, "--resume"]) == 1  # broken.png failed
    err = capsys.readouterr().err
    assert "Resuming:" in err
    assert f"Done: {len(good)} captioned, 1 failed, 0 skipped of {len(good) + 1} images" in err

    # No image was captioned twice: one result per image in the journal.
    results = Counter(r["image"] for r in journal_records() if r["kind"] == "result")
    assert results == Counter([*good, "broken.png"])
    # Every caption file holds its original text plus exactly one appended caption.
    rows = [json.loads(line) for line in (reports / "r.jsonl").read_text("utf-8").splitlines()]
    assert sorted(r["image"] for r in rows) == sorted([*good, "broken.png"])
    captions = {r["image"]: r["caption"] for r in rows}
    for name in good:
        text = (folder / name).with_suffix(".txt").read_text(encoding="utf-8")
        before = originals[name] + "\n" if originals[name] else ""
        assert text == f"{before}sks, {captions[name]} END\n", name
    with open(reports / "r.csv", encoding="utf-8-sig", newline="") as handle:
        assert sorted(r["image"] for r in csv.DictReader(handle)) == sorted(captions)
    markdown = (reports / "r.md").read_text("utf-8").splitlines()
    assert sum(1 for line in markdown if line.startswith("| ")) == 2 + len(captions)
    # Nothing half-written is left behind.
    assert not list(tmp_path.rglob("*.tmp"))
    # The job is one history entry, its folder (never duplicated by a resume).
    history = Path(os.environ["VLDESK_HOME"]) / "data" / "history.sqlite3"
    with sqlite3.connect(history) as db:
        paths = [row[0] for row in db.execute("SELECT image_path FROM conversations")]
    assert paths == [str(folder)]


def test_the_progress_bar_fits_the_terminal() -> None:
    from vldesk.cli.batch import _fit

    assert _fit("abc", 10) == "abc"
    assert _fit("ab猫猫", 5) == "ab猫"
    assert _fit("猫" * 50, 9) == "猫" * 4


NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def grounding_engine(request: LoadRequest) -> FakeEngine:
    """Answers each image with one box on Qwen3-VL's 0-1000 grid: its left half."""
    answer = '```json\n[{"bbox_2d": [0, 0, 500, 1000], "label": "cat"}]\n```'
    return FakeEngine(name=request.name, family=Family.QWEN3_VL, answer=answer)


def test_batch_cli_writes_xmp_and_boxes_and_reports_a_persons_description(
    tmp_path: Path,
    fake_models: FakeEngineLoader,
    capsys: pytest.CaptureFixture[str],
    exiftool: ExifTool,
) -> None:
    fake_models.make = grounding_engine
    model_dir = tmp_path / "my-model"
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a.jpg", "person.jpg"):
        make_photo(folder / name, size=(80, 60))
    exiftool(folder / "person.jpg", "-XMP-dc:Description=Written by me", write=True)
    args = base_args(folder, model_dir, "--preset", "find", "--xmp", "sidecar", "--boxes", "coco")
    args.remove("--prompt")
    args.remove("Describe this image.")
    args[args.index("8")] = "200"  # the whole JSON answer
    assert run_cli([*args, "--no-history"]) == 0  # a kept description is no failure
    err = capsys.readouterr().err
    assert "Done: 2 captioned, 0 failed, 0 skipped of 2 images" in err
    assert "person.jpg: Photo metadata left alone" in err
    assert f"Boxes: {folder / 'boxes.coco.json'}" in err
    tags = exiftool(folder / "a.jpg.xmp")
    assert tags["XMP-dc:Description"].startswith("```json")
    assert tags["XMP-vldesk:Model"] == str(model_dir.resolve())
    assert not (folder / "person.jpg.xmp").exists()
    coco = json.loads((folder / "boxes.coco.json").read_text("utf-8"))
    assert [a["bbox"] for a in coco["annotations"]] == [[0.0, 0.0, 40.0, 60.0]] * 2
    # The result of each step is in the journal (and so in the job a --resume continues).
    steps = {r["image"]: r["status"] for r in journal_records() if r["kind"] == "xmp"}
    assert steps == {"a.jpg": "written", "person.jpg": "skipped-human"}

    # --xmp-overwrite: only makes sense with --xmp, and is refused before loading a model.
    requests = len(fake_models.requests)
    assert run_cli([*base_args(folder, model_dir), "--xmp-overwrite"]) == 1
    assert "needs --xmp" in capsys.readouterr().err
    assert len(fake_models.requests) == requests


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_kill_9_during_an_xmp_batch_then_resume_writes_each_photo_once_and_keeps_it_readable(
    tmp_path: Path, model_dir: Path, exiftool: ExifTool
) -> None:
    """A real tiny model (it cannot ground, but its captions go into the photos' own XMP)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    names = [f"p{i:02d}.{('jpg', 'png')[i % 2]}" for i in range(12)]
    for index, name in enumerate(names):
        make_photo(folder / name, size=SIZES[index % len(SIZES)], noise=True)
    args = base_args(folder, model_dir, "--xmp", "embed", "--batch-size", "1")
    args += ["--jsonl", str(tmp_path / "r.jsonl")]

    process = start_batch(args)
    wait_for_records(process, "xmp", 3)
    kill_9(process)
    assert count("xmp") < len(names)

    assert run_cli([*args, "--resume"]) == 0
    records = journal_records()
    # Each photo: one caption, one metadata step, never repeated by the resume.
    assert Counter(r["image"] for r in records if r["kind"] == "result") == Counter(names)
    steps = [r for r in records if r["kind"] == "xmp"]
    assert Counter(r["image"] for r in steps) == Counter(names)
    assert {r["status"] for r in steps} == {"written"}
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text("utf-8").splitlines()]
    for row in rows:
        photo = folder / row["image"]
        with Image.open(photo) as image:
            image.load()  # every photo readable
        tags = exiftool(photo)
        # Tiny-model captions hold control characters that XML (so XMP) cannot.
        assert tags["XMP-dc:Description"] == NOT_XML.sub("", row["caption"]).strip()
        assert tags["XMP-vldesk:Reviewed"] in (False, "False")
        assert tags["IFD0:Make"] == "TestCam"
        assert photo.with_suffix(".txt").read_text("utf-8") == row["caption"] + "\n"
    assert not list(folder.glob(".*.tmp"))


def test_batch_cli_names_the_engine_in_its_start_line_and_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import vldesk.cli.batch

    def choose_model(args: object, model_ref: str, user_settings: Settings) -> EngineChoice:
        return EngineChoice(Path(model_ref).resolve(), model_ref, "llama.cpp", "a test")

    loader = FakeEngineLoader(make=lambda request: FakeEngine(backend="llama.cpp"))
    monkeypatch.setattr(vldesk.cli.batch, "choose_model", choose_model)
    monkeypatch.setattr(vldesk.cli.batch, "load_engine", loader)
    model_dir = tmp_path / "my-gguf"
    model_dir.mkdir()
    folder = tmp_path / "photos"
    picture(folder / "a.png", SIZES[0], 0)
    reports = tmp_path / "reports"
    args = base_args(folder, model_dir, "--no-history", "--jsonl", str(reports / "r.jsonl"))
    assert run_cli([*args, "--md", str(reports / "r.md")]) == 0
    err = capsys.readouterr().err
    assert "Loading my-gguf with llama.cpp (a test) ..." in err
    assert "Running on cpu (float32); engine: llama.cpp" in err
    (row,) = [json.loads(line) for line in (reports / "r.jsonl").read_text("utf-8").splitlines()]
    assert row["engine"] == "llama.cpp"
    assert "\n- Engine: llama.cpp\n" in (reports / "r.md").read_text("utf-8")
