"""The settings file: typed defaults, forgiving reads, atomic saves, and no lost user files."""

from __future__ import annotations

import errno
import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from vldesk.core.errors import WriteError
from vldesk.core.generation import GenerationSettings
from vldesk.core.models.catalog import default_model
from vldesk.core.paths import app_paths
from vldesk.core.settings import (
    MAX_RECENT_FILES,
    SETTINGS_VERSION,
    Settings,
    load_settings,
    save_settings,
)


@pytest.fixture
def settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VLDESK_HOME", str(tmp_path / "home"))
    return app_paths().settings_file


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.corrupt-*"))


def test_defaults() -> None:
    settings = Settings()
    assert settings.model == default_model().id
    assert (settings.device, settings.dtype) == ("auto", "auto")
    assert settings.weights == "full"
    assert settings.max_new_tokens == 512
    assert settings.greedy is True
    # Sampling follows the loaded model's generation_config.json until the user sets a value.
    assert (settings.temperature, settings.top_p, settings.top_k) == (None, None, None)
    assert settings.repetition_penalty is None
    assert settings.max_image_tokens == 1024
    assert (settings.preset_language, settings.ui_language) == ("en", "auto")
    assert settings.system_prompt == ""
    assert settings.models_dir is None
    assert settings.last_model is None
    assert settings.recent_files == ()


def test_missing_file_gives_defaults_and_creates_nothing(settings_file: Path) -> None:
    assert load_settings(settings_file) == Settings()
    assert not settings_file.parent.exists()


def test_round_trip(settings_file: Path) -> None:
    settings = Settings(
        model="/models/my Qwen (fine-tuned)",
        device="cuda:1",
        dtype="bfloat16",
        weights="int8",
        max_new_tokens=2048,
        greedy=False,
        temperature=1.2,
        top_p=0.95,
        top_k=0,
        repetition_penalty=1.0,
        max_image_tokens=4096,
        preset_language="zh",
        ui_language="zh_CN",
        system_prompt="用中文回答。\nBe brief.",
        models_dir="/data/models",
        last_model="qwen3-vl-2b",
        recent_files=("/a.png", "/b c.jpg"),
    )
    save_settings(settings, settings_file)
    assert load_settings(settings_file) == settings
    data = json.loads(settings_file.read_text(encoding="utf-8"))
    assert data["version"] == SETTINGS_VERSION
    assert data["recent_files"] == ["/a.png", "/b c.jpg"]
    assert "用中文回答" in settings_file.read_text(encoding="utf-8")  # readable, not \\u escapes
    assert sorted(p.name for p in settings_file.parent.iterdir()) == ["settings.json"]


def test_sampling_the_user_did_not_set_stays_unset_in_the_file(settings_file: Path) -> None:
    save_settings(Settings(top_k=7), settings_file)
    data = json.loads(settings_file.read_text(encoding="utf-8"))
    assert (data["temperature"], data["top_p"], data["repetition_penalty"]) == (None, None, None)
    loaded = load_settings(settings_file)
    assert (loaded.top_k, loaded.temperature, loaded.repetition_penalty) == (7, None, None)


def test_version_1_files_follow_the_model_where_they_hold_version_1_defaults(
    settings_file: Path,
) -> None:
    # Version 1 wrote 0.7 / 0.8 / 20 / 1.05 into every file, chosen or not.
    settings_file.parent.mkdir(parents=True)
    old = {"version": 1, "temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05}
    settings_file.write_text(json.dumps(old), encoding="utf-8")
    loaded = load_settings(settings_file)
    assert (loaded.temperature, loaded.top_p, loaded.top_k, loaded.repetition_penalty) == (
        None,
        None,
        None,
        None,
    )
    # A value the user changed in version 1 stays the user's; version 2 values are kept as set.
    settings_file.write_text(
        json.dumps({"version": 1, "temperature": 0.3, "repetition_penalty": 1.05}),
        encoding="utf-8",
    )
    assert load_settings(settings_file).temperature == 0.3
    assert load_settings(settings_file).repetition_penalty is None
    settings_file.write_text(
        json.dumps({"version": SETTINGS_VERSION, "repetition_penalty": 1.05}), encoding="utf-8"
    )
    assert load_settings(settings_file).repetition_penalty == 1.05


def test_settings_are_immutable_and_replace_makes_copies() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.device = "cpu"  # type: ignore[misc]
    changed = settings.replace(device="cpu")
    assert changed.device == "cpu"
    assert settings.device == "auto"


def test_recent_files_move_to_front_without_duplicates_and_are_capped() -> None:
    settings = Settings()
    for index in range(MAX_RECENT_FILES + 5):
        settings = settings.with_recent_file(f"/img/{index}.png")
    assert len(settings.recent_files) == MAX_RECENT_FILES
    assert settings.recent_files[0] == f"/img/{MAX_RECENT_FILES + 4}.png"
    settings = settings.with_recent_file(Path("/img/10.png"))
    assert settings.recent_files[0] == "/img/10.png"
    assert settings.recent_files.count("/img/10.png") == 1


def test_recent_files_from_file_are_cleaned(settings_file: Path) -> None:
    settings_file.parent.mkdir(parents=True)
    many = [f"/x/{i}.jpg" for i in range(30)]
    raw = {"recent_files": ["/a.png", 42, None, "", "/a.png", *many]}
    settings_file.write_text(json.dumps(raw), encoding="utf-8")
    recent = load_settings(settings_file).recent_files
    assert recent[0] == "/a.png"
    assert len(recent) == MAX_RECENT_FILES
    assert all(isinstance(item, str) and item for item in recent)


def test_unknown_keys_are_preserved(settings_file: Path) -> None:
    settings_file.parent.mkdir(parents=True)
    raw = {"device": "cpu", "window_geometry": [1, 2, 3], "future": {"nested": True}}
    settings_file.write_text(json.dumps(raw), encoding="utf-8")
    settings = load_settings(settings_file)
    assert settings.device == "cpu"
    save_settings(settings.replace(top_k=5), settings_file)
    data = json.loads(settings_file.read_text(encoding="utf-8"))
    assert data["window_geometry"] == [1, 2, 3]
    assert data["future"] == {"nested": True}
    assert data["top_k"] == 5


BAD_VALUES: list[tuple[str, Any]] = [
    ("model", 3),
    ("model", "   "),
    ("device", "tpu"),
    ("device", "cpu:3"),
    ("dtype", "int4"),
    ("weights", "int3"),
    ("weights", 8),
    ("max_new_tokens", "512"),
    ("max_new_tokens", 0),
    ("max_new_tokens", True),
    ("max_new_tokens", 3.5),
    ("greedy", "yes"),
    ("greedy", 1),
    ("temperature", 0),
    ("temperature", "hot"),
    ("temperature", float("nan")),
    ("top_p", 1.5),
    ("top_k", -1),
    ("repetition_penalty", "1.05"),
    ("repetition_penalty", -1.0),
    ("max_image_tokens", 2),
    ("preset_language", "fr"),
    ("ui_language", ""),
    ("system_prompt", ["a"]),
    ("models_dir", 7),
    ("last_model", {"id": "x"}),
    ("recent_files", "/a.png"),
]


@pytest.mark.parametrize(("key", "value"), BAD_VALUES)
def test_bad_value_falls_back_to_default_and_is_logged(
    settings_file: Path, caplog: pytest.LogCaptureFixture, key: str, value: Any
) -> None:
    settings_file.parent.mkdir(parents=True)
    good_key, good_value = ("top_k", 7) if key != "top_k" else ("ui_language", "de")
    settings_file.write_text(json.dumps({key: value, good_key: good_value}), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="vldesk.core.settings"):
        settings = load_settings(settings_file)
    assert getattr(settings, key) == getattr(Settings(), key)
    assert getattr(settings, good_key) == good_value  # the good keys still count
    assert any(key in record.getMessage() for record in caplog.records)
    assert backups(settings_file) == []  # a bad value is not a corrupt file


def test_values_are_normalised(settings_file: Path) -> None:
    settings_file.parent.mkdir(parents=True)
    raw = {"device": " CUDA ", "dtype": "Float16", "temperature": 1, "model": " qwen3-vl-2b "}
    settings_file.write_text(json.dumps(raw), encoding="utf-8")
    settings = load_settings(settings_file)
    assert (settings.device, settings.dtype) == ("cuda", "float16")
    assert settings.temperature == 1.0
    assert isinstance(settings.temperature, float)
    assert settings.model == "qwen3-vl-2b"


@pytest.mark.parametrize(
    "content",
    [b'{"device": "cpu",', b"\xff\xfe\x00garbage", b"[1, 2, 3]", b"null", b"", b"[" * 100_000],
    ids=["truncated", "binary", "list", "null", "empty", "deep"],
)
def test_corrupt_file_is_backed_up_and_never_lost(
    settings_file: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    settings_file.parent.mkdir(parents=True)
    settings_file.write_bytes(content)
    with caplog.at_level(logging.WARNING):
        settings = load_settings(settings_file)
    assert settings == Settings()
    assert "corrupt" in caplog.text
    assert settings_file.read_bytes() == content  # loading never touches the user's file
    [backup] = backups(settings_file)
    assert backup.read_bytes() == content

    # Loading again does not pile up copies; saving replaces the file but the copy stays.
    load_settings(settings_file)
    save_settings(settings.replace(device="cpu"), settings_file)
    assert backups(settings_file) == [backup]
    assert backup.read_bytes() == content
    assert load_settings(settings_file).device == "cpu"


def test_save_over_a_corrupt_file_backs_it_up_first(settings_file: Path) -> None:
    # Even when nothing loaded it first (another process wrote garbage meanwhile).
    settings_file.parent.mkdir(parents=True)
    settings_file.write_bytes(b"{oops")
    save_settings(Settings(), settings_file)
    [backup] = backups(settings_file)
    assert backup.read_bytes() == b"{oops"
    assert load_settings(settings_file) == Settings()


def test_save_refuses_when_the_corrupt_file_cannot_be_backed_up(
    settings_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_file.parent.mkdir(parents=True)
    settings_file.write_bytes(b"{oops")

    def no_copy(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("shutil.copy2", no_copy)
    assert load_settings(settings_file) == Settings()  # start-up still works
    with pytest.raises(WriteError, match="not replaced"):
        save_settings(Settings(), settings_file)
    assert settings_file.read_bytes() == b"{oops"


def test_distinct_corrupt_contents_each_get_a_backup(settings_file: Path) -> None:
    settings_file.parent.mkdir(parents=True)
    settings_file.write_bytes(b"{one")
    load_settings(settings_file)
    settings_file.write_bytes(b"{two")
    load_settings(settings_file)
    assert sorted(p.read_bytes() for p in backups(settings_file)) == [b"{one", b"{two"]


def test_unreadable_file_gives_defaults(settings_file: Path) -> None:
    settings_file.parent.mkdir(parents=True)
    save_settings(Settings(device="cpu"), settings_file)
    settings_file.chmod(0)
    try:
        if os.access(settings_file, os.R_OK):
            pytest.skip("running with privileges that can read a chmod 000 file (root?)")
        assert load_settings(settings_file) == Settings()
    finally:
        settings_file.chmod(0o600)


def test_a_folder_in_place_of_the_file_gives_defaults(settings_file: Path) -> None:
    settings_file.mkdir(parents=True)
    assert load_settings(settings_file) == Settings()
    with pytest.raises(WriteError, match="is a folder"):
        save_settings(Settings(), settings_file)


def test_disk_full_on_save_keeps_the_old_file(
    settings_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_settings(Settings(device="cpu"), settings_file)
    before = settings_file.read_bytes()

    def full(*args: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(WriteError, match="disk is full"):
        save_settings(Settings(device="cuda"), settings_file)
    monkeypatch.undo()
    assert settings_file.read_bytes() == before
    assert sorted(p.name for p in settings_file.parent.iterdir()) == ["settings.json"]


def test_utf8_bom_is_accepted(settings_file: Path) -> None:
    # Notepad on Windows may add one when the user edits the file by hand.
    settings_file.parent.mkdir(parents=True)
    settings_file.write_bytes(b"\xef\xbb\xbf" + json.dumps({"top_k": 3}).encode())
    assert load_settings(settings_file).top_k == 3


def test_to_generation_settings() -> None:
    settings = Settings(
        max_new_tokens=100,
        greedy=False,
        temperature=0.9,
        top_p=0.5,
        top_k=40,
        repetition_penalty=1.2,
        max_image_tokens=256,
    )
    assert settings.to_generation_settings() == GenerationSettings(
        max_new_tokens=100,
        greedy=False,
        temperature=0.9,
        top_p=0.5,
        top_k=40,
        repetition_penalty=1.2,
        max_image_tokens=256,
    )
    assert Settings().to_generation_settings() == GenerationSettings()


def test_every_loaded_file_gives_valid_generation_settings(settings_file: Path) -> None:
    settings_file.parent.mkdir(parents=True)
    hostile = {key: value for key, value in BAD_VALUES}
    settings_file.write_text(json.dumps(hostile), encoding="utf-8")
    load_settings(settings_file).to_generation_settings()  # must not raise


def test_settings_hold_one_generation_settings() -> None:
    chosen = GenerationSettings(max_new_tokens=64, greedy=False, temperature=0.5)
    settings = Settings(generation=chosen)
    assert settings.generation is chosen
    assert settings.to_generation_settings() is chosen
    assert (settings.max_new_tokens, settings.temperature) == (64, 0.5)
    # A generation field by its own name changes that field only.
    changed = settings.replace(top_k=9)
    assert changed.generation == GenerationSettings(
        max_new_tokens=64, greedy=False, temperature=0.5, top_k=9
    )
    assert Settings(max_image_tokens=256).generation == GenerationSettings(max_image_tokens=256)
    with pytest.raises(TypeError, match="no field colour"):
        Settings(colour="blue")
    with pytest.raises(ValueError, match="max_new_tokens"):
        Settings().replace(max_new_tokens=0)


def test_the_file_keeps_generation_fields_flat_for_every_version(settings_file: Path) -> None:
    save_settings(Settings(max_new_tokens=77, top_p=0.5), settings_file)
    data = json.loads(settings_file.read_text(encoding="utf-8"))
    assert "generation" not in data
    assert (data["max_new_tokens"], data["top_p"], data["greedy"]) == (77, 0.5, True)
    assert data["temperature"] is None
    # A version 2 file (written before the generation settings were grouped) reads the same.
    version_2 = {"version": 2, "model": "m", "max_new_tokens": 33, "greedy": False, "top_k": 5}
    settings_file.write_text(json.dumps(version_2), encoding="utf-8")
    loaded = load_settings(settings_file)
    assert loaded.generation == GenerationSettings(max_new_tokens=33, greedy=False, top_k=5)
    assert loaded.last_batch is None


def test_the_last_batch_options_round_trip(settings_file: Path, tmp_path: Path) -> None:
    from vldesk.core.batch import BatchOptions, CaptionMode, ReportPaths

    options = BatchOptions(
        folder=tmp_path / "photos",
        prompt="Caption this for training.",
        model="Qwen/Qwen3-VL-2B-Instruct",
        settings=GenerationSettings(max_new_tokens=40),
        recursive=True,
        caption_extension=".caption",
        mode=CaptionMode.APPEND,
        prefix="sks, ",
        reports=ReportPaths(jsonl=tmp_path / "r.jsonl"),
    )
    save_settings(Settings(top_k=3).with_last_batch(options, 4), settings_file)
    loaded = load_settings(settings_file)
    assert loaded.last_batch is not None
    assert loaded.last_batch.options == options
    assert loaded.last_batch.batch_size == 4
    assert loaded.top_k == 3
    assert load_settings(settings_file) == loaded


def test_an_unreadable_last_batch_is_forgotten_not_fatal(
    settings_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings_file.parent.mkdir(parents=True)
    broken = {"last_batch": {"options": {"folder": "x"}, "batch_size": 2}, "top_k": 4}
    settings_file.write_text(json.dumps(broken), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        loaded = load_settings(settings_file)
    assert loaded.last_batch is None
    assert loaded.top_k == 4
    assert "last_batch" in caplog.text


def test_the_look_settings_are_checked_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings(Settings(theme="dark", font_size=14, models_dir=str(tmp_path / "m")), path)
    loaded = load_settings(path)
    assert (loaded.theme, loaded.font_size, loaded.models_dir) == ("dark", 14, str(tmp_path / "m"))
    bad = Settings.from_dict({"theme": "purple", "font_size": 3})
    assert (bad.theme, bad.font_size) == ("system", 0)
    assert Settings.from_dict({"font_size": 0}).font_size == 0
