"""Saved servers: recent addresses without keys, keys only in a file only the owner reads."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from vldesk.core.inference.remote.saved import (
    API_KEY_ENV,
    KEYS_FILE,
    MAX_RECENT_SERVERS,
    RECENT_FILE,
    ChatServer,
    SavedServers,
)
from vldesk.core.models.catalog import Family

KEY = "sk-saved-0123456789"


def test_recent_servers_move_to_the_front_and_carry_no_key(tmp_path: Path) -> None:
    saved = SavedServers(tmp_path)
    assert saved.recent() == []
    for index in range(MAX_RECENT_SERVERS + 2):
        saved.remember(f"http://h{index}:8000/v1")
    saved.remember("http://h3:8000/v1")
    recent = saved.recent()
    assert recent[0] == "http://h3:8000/v1"
    assert len(recent) == MAX_RECENT_SERVERS
    assert recent.count("http://h3:8000/v1") == 1
    saved.remember("http://a/v1", "http://b/v1", batch=True)
    assert saved.batch_servers() == ["http://a/v1", "http://b/v1"]
    saved.remember("http://c/v1")
    assert saved.batch_servers() == ["http://a/v1", "http://b/v1"]  # a chat server is not one
    saved.save_key("http://a/v1", KEY)
    assert KEY not in (tmp_path / RECENT_FILE).read_text(encoding="utf-8")


def test_a_key_is_saved_privately_and_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    saved = SavedServers(tmp_path)
    assert saved.key_for("http://a/v1") is None
    saved.save_key("http://a/v1", KEY)
    keys = tmp_path / KEYS_FILE
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert saved.key_for("http://a/v1") == KEY
    assert saved.has_saved_key("http://a/v1")
    assert saved.key_for("http://b/v1") is None
    monkeypatch.setenv(API_KEY_ENV, "from-env")
    assert saved.key_for("http://b/v1") == "from-env"  # the env var where none is saved
    assert saved.key_for("http://a/v1") == KEY
    saved.save_key("http://a/v1", None)
    assert not saved.has_saved_key("http://a/v1")
    assert KEY not in keys.read_text(encoding="utf-8")
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600


def test_unreadable_files_count_as_empty(tmp_path: Path) -> None:
    (tmp_path / RECENT_FILE).write_text("{not json", encoding="utf-8")
    (tmp_path / KEYS_FILE).write_text(json.dumps({"keys": ["wrong shape"]}), encoding="utf-8")
    saved = SavedServers(tmp_path)
    assert saved.recent() == []
    assert not saved.has_saved_key("http://a/v1")
    saved.remember("http://a/v1")  # and they are replaced whole
    assert saved.recent() == ["http://a/v1"]


def test_the_chat_server_at_quit_is_kept_beside_the_recent_ones(tmp_path: Path) -> None:
    saved = SavedServers(tmp_path)
    assert saved.chat_server() is None
    served = ChatServer("http://gpu/v1", "Qwen/Qwen3-VL-4B-Instruct", Family.QWEN3_VL)
    saved.set_chat_server(served)
    assert SavedServers(tmp_path).chat_server() == served
    saved.remember("http://other/v1", batch=True)  # remembering others keeps it
    assert saved.chat_server() == served
    assert saved.recent() == ["http://other/v1"]
    saved.set_chat_server(ChatServer("http://gpu/v1", "any-model"))  # the family from the name
    assert saved.chat_server() == ChatServer("http://gpu/v1", "any-model", None)
    saved.set_chat_server(None)
    assert saved.chat_server() is None
    assert saved.batch_servers() == ["http://other/v1"]


def test_a_chat_server_of_the_wrong_shape_counts_as_none(tmp_path: Path) -> None:
    for chat in ({"url": "http://gpu/v1"}, {"url": 3, "model": "m"}, ["http://gpu/v1"]):
        (tmp_path / RECENT_FILE).write_text(json.dumps({"chat": chat}), encoding="utf-8")
        assert SavedServers(tmp_path).chat_server() is None
    (tmp_path / RECENT_FILE).write_text(
        json.dumps({"chat": {"url": "http://gpu/v1", "model": "m", "family": "qwen9"}}),
        encoding="utf-8",
    )
    assert SavedServers(tmp_path).chat_server() == ChatServer("http://gpu/v1", "m", None)
