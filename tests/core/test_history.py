"""The SQLite history: round trips, safe search, deletion, crash safety and damaged files."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import PROJECT_ROOT
from vldesk.core import history, history_schema
from vldesk.core.errors import HistoryError, VldeskError
from vldesk.core.export import export_entries, render_markdown
from vldesk.core.history import HistoryStore, make_thumbnail

ROOT = PROJECT_ROOT
MODEL = "Qwen/Qwen3-VL-2B-Instruct"
#: A schema version after this code's, for tests of future migrations.
NEXT_VERSION = history.SCHEMA_VERSION + 1


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture(params=["fts", "like"])
def store(
    request: pytest.FixtureRequest, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[HistoryStore]:
    """A store with the FTS5 index, and one as built by an SQLite without FTS5 (LIKE search)."""
    if request.param == "like":
        monkeypatch.setattr(history_schema, "fts5_trigram_available", lambda conn: False)
    opened = HistoryStore(db_path)
    assert opened.has_fts == (request.param == "fts")
    yield opened
    opened.close()


def photo(size: tuple[int, int] = (800, 600), mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, size, "red" if mode == "RGB" else (255, 0, 0, 128))
    image.paste((0, 0, 255), (0, 0, size[0] // 2, size[1] // 2))
    return image


def conversation(
    store: HistoryStore, image: str | None, prompt: str, answer: str, *, model: str = MODEL
) -> int:
    cid = store.start_conversation(image, photo(), model)
    store.add_message(cid, "user", prompt, model=model, settings={"greedy": True})
    store.add_message(cid, "assistant", answer, model=model, stats={"new_tokens": 7})
    return cid


def found(store: HistoryStore, query: str) -> list[int]:
    return [summary.id for summary in store.list_conversations(query=query)]


def open_handles(path: Path) -> int:
    """How many file descriptors of this process point at ``path`` (Linux only)."""
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        pytest.skip("needs /proc")
    count = 0
    for fd in fd_dir.iterdir():
        try:
            count += Path(os.readlink(fd)) == path
        except OSError:
            continue
    return count


def fts_integrity(path: Path) -> None:
    """SQLite's own check that the search index matches the messages exactly."""
    conn = sqlite3.connect(path)
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts'").fetchone():
            conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


# --- round trip ---------------------------------------------------------------------------------


def test_round_trip(store: HistoryStore) -> None:
    cid = store.start_conversation("/photos/cat 1.png", photo(mode="RGBA"), MODEL)
    settings = {"greedy": False, "temperature": 0.7, "max_image_tokens": 1024}
    user = store.add_message(cid, "user", "Describe this image.", model=MODEL, settings=settings)
    answer = store.add_message(cid, "assistant", "", model=MODEL)  # streaming starts
    store.update_message_text(answer, "A cat.")  # streamed text so far
    store.update_message_text(answer, "A cat on a sofa.", stats={"new_tokens": 6, "total_s": 1.5})
    assert user < answer

    loaded = store.get_conversation(cid)
    assert loaded is not None
    assert loaded.image_path == "/photos/cat 1.png"
    assert loaded.model == MODEL
    assert loaded.created <= loaded.updated
    assert loaded.created.tzinfo is not None
    assert [(m.role, m.text) for m in loaded.messages] == [
        ("user", "Describe this image."),
        ("assistant", "A cat on a sofa."),
    ]
    first, second = loaded.messages
    assert first.settings == settings
    assert first.stats is None
    assert second.settings == {}
    assert second.stats == {"new_tokens": 6, "total_s": 1.5}
    assert {m.conversation_id for m in loaded.messages} == {cid}
    assert loaded.thumbnail is not None
    assert store.get_conversation(cid + 100) is None


def test_thumbnail_is_a_small_jpeg(store: HistoryStore) -> None:
    cid = store.start_conversation("/a.png", photo((4000, 1000), "RGBA"), MODEL)
    loaded = store.get_conversation(cid)
    assert loaded is not None
    assert loaded.thumbnail is not None
    thumb = Image.open(io.BytesIO(loaded.thumbnail))
    assert thumb.format == "JPEG"
    assert thumb.size == (256, 64)
    assert len(loaded.thumbnail) < 20_000
    # Smaller images are not blown up; no image, no thumbnail.
    assert Image.open(io.BytesIO(make_thumbnail(photo((100, 40))))).size == (100, 40)
    pasted = store.start_conversation(None, None, MODEL)
    loaded = store.get_conversation(pasted)
    assert loaded is not None
    assert (loaded.image_path, loaded.thumbnail) == (None, None)


def test_list_is_newest_first_with_paging_and_summaries(store: HistoryStore) -> None:
    ids = [conversation(store, f"/p/{n}.png", f"prompt {n}", f"answer {n}") for n in range(5)]
    summaries = store.list_conversations()
    assert [s.id for s in summaries] == ids[::-1]
    top = summaries[0]
    assert (top.title, top.preview, top.message_count) == ("prompt 4", "answer 4", 2)
    assert top.thumbnail is not None
    assert [s.id for s in store.list_conversations(limit=2, offset=1)] == [ids[3], ids[2]]
    assert store.count_conversations() == 5

    # A follow-up question moves an old conversation to the top.
    store.add_message(ids[0], "user", "And the colour?")
    store.add_message(ids[0], "assistant", "Red " * 200)
    top = store.list_conversations(limit=1)[0]
    assert top.id == ids[0]
    assert top.title == "prompt 0"
    assert len(top.preview) == history.PREVIEW_CHARS
    assert top.preview.endswith("…")
    assert top.message_count == 4


def test_invalid_calls(store: HistoryStore) -> None:
    cid = conversation(store, "/a.png", "q", "a")
    with pytest.raises(ValueError, match="role"):
        store.add_message(cid, "robot", "beep")
    store.delete_conversation(cid)
    with pytest.raises(HistoryError, match="no longer in the history"):
        store.add_message(cid, "assistant", "late answer")
    with pytest.raises(HistoryError, match="no longer in the history"):
        store.update_message_text(12345, "text")


# --- search -------------------------------------------------------------------------------------


def test_search_words_anywhere_in_the_conversation(store: HistoryStore) -> None:
    cat = conversation(store, "/photos/IMG_2034.jpg", "What animal is this?", "A tabby cat.")
    dog = conversation(store, "/photos/dog.png", "Describe.", "A dog playing in the snow.")
    assert found(store, "cat") == [cat]
    assert found(store, "CAT") == [cat]  # case-insensitive
    assert found(store, "animal tabby") == [cat]  # words from the prompt and the answer
    assert found(store, "tabby snow") == []  # every word must match
    assert found(store, "IMG_2034") == [cat]  # the image's file name counts too
    assert found(store, '"in the snow"') == [dog]
    assert found(store, "a") == [dog, cat]
    assert found(store, "") == [dog, cat]
    assert found(store, "   ") == [dog, cat]
    assert store.count_conversations("dog") == 1


ODD_QUERIES = [
    '"',
    '""',
    '"unfinished phrase',
    "it's",
    "*",
    "cat*",
    "-cat",
    "cat -dog",
    "NOT",
    "cat AND dog OR",
    "NEAR(cat dog)",
    "text:cat",
    "^start",
    "(",
    ")",
    "{a}",
    "%",
    "_",
    "100%",
    "a_b",
    "\\",
    "'; DROP TABLE messages; --",
    "\x00",
    "emoji 🐱",
    "x" * 5000,
]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_any_text_is_a_safe_query(store: HistoryStore, query: str) -> None:
    conversation(store, "/a.png", "Is it a cat?", "Yes: 100% a cat (it's *fluffy*).")
    store.list_conversations(query=query)  # must not raise
    store.count_conversations(query)
    assert store.count_conversations() == 1  # and nothing was dropped


def test_special_characters_are_searched_literally(store: HistoryStore) -> None:
    special = conversation(store, "/a.png", "Price?", 'It says "50% off" on a_b (promo) *now*')
    plain = conversation(store, "/b.png", "Price?", "It says 50 percent off on ab now")
    assert found(store, "50%") == [special]
    assert found(store, "%") == [special]
    assert found(store, "a_b") == [special]
    assert found(store, '"50%') == [special]
    assert found(store, "(promo)") == [special]
    assert found(store, "*now*") == [special]
    assert found(store, '"50% off"') == [special]
    assert found(store, "ab") == [plain]
    assert found(store, "off") == [plain, special]


def test_chinese_search(store: HistoryStore) -> None:
    sofa = conversation(store, "/照片/猫.jpg", "这张图片里有什么？", "一只橘猫躺在沙发上睡觉。")
    park = conversation(store, "/照片/park.jpg", "描述一下。", "公园里有很多人在散步。")
    assert found(store, "猫") == [sofa]  # one character
    assert found(store, "沙发") == [sofa]  # two
    assert found(store, "沙发上睡觉") == [sofa]  # longer
    assert found(store, "散步 公园") == [park]
    assert found(store, "有") == [park, sofa]
    assert found(store, "沙发 公园") == []
    assert found(store, "照片") == [park, sofa]  # in the folder name


def test_delete_removes_from_list_and_search(store: HistoryStore, db_path: Path) -> None:
    gone = conversation(store, "/a.png", "zebra question", "zebra stripes answer")
    kept = conversation(store, "/b.png", "giraffe", "a tall giraffe")
    assert found(store, "zebra") == [gone]
    assert store.delete_conversation(gone) is True
    assert store.delete_conversation(gone) is False
    assert found(store, "zebra") == []
    assert found(store, "giraffe") == [kept]
    assert store.get_conversation(gone) is None
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (2,)
        if store.has_fts:  # the index itself has forgotten the deleted text
            rows = conn.execute(
                "SELECT rowid FROM messages_fts WHERE messages_fts MATCH '\"zebra\"'"
            ).fetchall()
            assert rows == []
    finally:
        conn.close()
    fts_integrity(db_path)


def test_search_index_follows_updated_text(store: HistoryStore, db_path: Path) -> None:
    cid = store.start_conversation("/a.png", None, MODEL)
    answer = store.add_message(cid, "assistant", "draft walrus")
    store.update_message_text(answer, "final penguin")
    assert found(store, "walrus") == []
    assert found(store, "penguin") == [cid]
    fts_integrity(db_path)


# --- export bridge ------------------------------------------------------------------------------


def test_export_entries(store: HistoryStore, tmp_path: Path) -> None:
    first = conversation(store, str(tmp_path / "img" / "a b.png"), "What?", "A **cat**.")
    second = store.start_conversation(None, None, "other-model")
    store.add_message(second, "user", "Read the text.", settings={"max_new_tokens": 64})
    store.add_message(second, "assistant", "HELLO", model="other-model", stats={"new_tokens": 2})
    store.add_message(second, "user", "Translate it.")
    store.add_message(second, "assistant", "你好", model="other-model")

    entries = store.export_entries([second, 999, first])
    assert [entry.turns[-1][1] for entry in entries] == ["你好", "A **cat**."]
    two, one = entries
    assert one.image_path == tmp_path / "img" / "a b.png"
    assert one.turns == [("user", "What?"), ("assistant", "A **cat**.")]
    assert one.model == MODEL
    assert one.settings == {"greedy": True}
    assert one.stats == {"new_tokens": 7}
    assert two.image_path is None
    assert len(two.turns) == 4
    assert two.settings == {"max_new_tokens": 64}
    assert two.stats is None  # the last answer has none
    stored = store.get_conversation(first)
    assert stored is not None
    assert one.date == stored.created

    target = tmp_path / "export.md"
    export_entries(entries, target)
    assert target.read_text(encoding="utf-8") == render_markdown(entries, relative_to=tmp_path)
    assert "](img/a%20b.png)" in target.read_text(encoding="utf-8")


# --- concurrency and crash safety ---------------------------------------------------------------


def test_threads_each_get_a_connection(db_path: Path) -> None:
    store = HistoryStore(db_path)
    cid = store.start_conversation("/a.png", None, MODEL)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for index in range(25):
                store.add_message(cid, "user", f"{name} message {index}")
                store.list_conversations(query=name)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"thread{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    loaded = store.get_conversation(cid)
    assert loaded is not None
    assert len(loaded.messages) == 100
    store.close()
    with pytest.raises(HistoryError, match="closed"):
        store.list_conversations()
    fts_integrity(db_path)


def test_two_stores_on_one_file(db_path: Path) -> None:
    # Two windows (or the app and a script) share the file; WAL lets both work.
    with HistoryStore(db_path) as one, HistoryStore(db_path) as two:
        a = conversation(one, "/a.png", "from one", "answer")
        b = conversation(two, "/b.png", "from two", "answer")
        assert found(one, "from") == [b, a]
        assert found(two, "from") == [b, a]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )


def test_other_processes_see_commits_and_a_crash_loses_nothing(db_path: Path) -> None:
    store = HistoryStore(db_path)
    mine = conversation(store, "/mine.png", "written by the parent", "already shown")

    # A second process sees the parent's commits at once, while the parent's connection is open.
    result = run_python(
        f"""
        import json
        from vldesk.core.history import HistoryStore
        store = HistoryStore({str(db_path)!r})
        print(json.dumps([s.id for s in store.list_conversations(query="parent")]))
        """
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [mine]

    # A process that writes and then dies without closing anything (a crash) loses nothing it
    # had committed, including a half-streamed answer.
    result = run_python(
        f"""
        import os
        from vldesk.core.history import HistoryStore
        store = HistoryStore({str(db_path)!r})
        cid = store.start_conversation("/child.png", None, "m")
        store.add_message(cid, "user", "written by the child")
        answer = store.add_message(cid, "assistant", "")
        store.update_message_text(answer, "half of a streamed")
        print(cid, flush=True)
        os._exit(0)
        """
    )
    assert result.returncode == 0, result.stderr
    child = int(result.stdout)
    assert found(store, "child") == [child]  # the parent's open store sees it, no reopen
    store.close()

    with HistoryStore(db_path) as reopened:
        loaded = reopened.get_conversation(child)
        assert loaded is not None
        assert [m.text for m in loaded.messages] == ["written by the child", "half of a streamed"]
        assert reopened.count_conversations() == 2
    fts_integrity(db_path)


def test_uses_wal_and_normal_sync(store: HistoryStore, db_path: Path) -> None:
    conn = store._connection()
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (history.BUSY_TIMEOUT_MS,)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)


# --- schema versions and damaged files ------------------------------------------------------------


def test_new_and_empty_files_get_the_schema(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")  # e.g. created by touch, or a crash right after creation
    with HistoryStore(db_path) as store:
        assert store.list_conversations() == []
        conversation(store, "/a.png", "q", "a")
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [
            (history.SCHEMA_VERSION,)
        ]
    finally:
        conn.close()
    with HistoryStore(db_path) as again:  # opening again migrates nothing and keeps the data
        assert again.count_conversations() == 1


def test_future_migration_runs_once_and_keeps_data(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with HistoryStore(db_path) as store:
        cid = conversation(store, "/a.png", "kept", "also kept")
    calls: list[int] = []

    def add_rating(conn: sqlite3.Connection) -> None:
        calls.append(1)
        conn.execute("ALTER TABLE messages ADD COLUMN rating INTEGER")

    monkeypatch.setattr(history, "SCHEMA_VERSION", NEXT_VERSION)
    monkeypatch.setattr(history, "MIGRATIONS", (*history.MIGRATIONS, add_rating))
    with HistoryStore(db_path) as store:
        assert found(store, "kept") == [cid]
    with HistoryStore(db_path) as store:
        assert store.count_conversations() == 1
    assert calls == [1]
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (NEXT_VERSION,)
        columns = [row[1] for row in conn.execute("PRAGMA table_info(messages)")]
        assert "rating" in columns
    finally:
        conn.close()


def test_failed_migration_leaves_the_old_schema(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with HistoryStore(db_path) as store:
        conversation(store, "/a.png", "q", "a")

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE messages ADD COLUMN half_done INTEGER")
        raise sqlite3.OperationalError("simulated failure halfway")

    monkeypatch.setattr(history, "SCHEMA_VERSION", NEXT_VERSION)
    monkeypatch.setattr(history, "MIGRATIONS", (*history.MIGRATIONS, broken))
    with pytest.raises(HistoryError):
        HistoryStore(db_path)
    monkeypatch.undo()
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (
            history.SCHEMA_VERSION,
        )
        columns = [row[1] for row in conn.execute("PRAGMA table_info(messages)")]
        assert "half_done" not in columns
    finally:
        conn.close()
    with HistoryStore(db_path) as store:
        assert store.count_conversations() == 1


def test_fts_history_on_an_sqlite_without_fts5(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    HistoryStore(db_path).close()
    monkeypatch.setattr(history_schema, "fts5_trigram_available", lambda conn: False)
    with pytest.raises(HistoryError, match="needs SQLite full-text search"):
        HistoryStore(db_path)


def test_newer_schema_is_refused(db_path: Path) -> None:
    with HistoryStore(db_path) as store:
        conversation(store, "/a.png", "q", "a")
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(HistoryError, match="newer version of vldesk"):
        HistoryStore(db_path)


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a database at all\n" * 200,
        os.urandom(8192),
        b"SQLite format 3\x00" + bytes(90),
    ],
    ids=["text", "random", "bad-header"],
)
def test_corrupt_file_gives_a_clear_error_and_is_kept(db_path: Path, content: bytes) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    with pytest.raises(HistoryError) as excinfo:
        HistoryStore(db_path)
    message = str(excinfo.value)
    assert isinstance(excinfo.value, VldeskError)
    assert "damaged" in message
    assert str(db_path) in message
    assert "\n" not in message
    assert db_path.read_bytes() == content  # never deleted, never "repaired" by overwriting
    assert open_handles(db_path) == 0  # closed, so the user can move it away (Windows)


def test_damaged_pages_give_a_clear_error(db_path: Path) -> None:
    with HistoryStore(db_path) as store:
        for n in range(30):
            conversation(store, f"/{n}.png", "question " * 50, "answer " * 200)
    data = bytearray(db_path.read_bytes())
    page = 4096
    data[page : len(data) - page] = b"\xa5" * (len(data) - 2 * page)  # keep header, wreck the rest
    db_path.write_bytes(bytes(data))

    def use_it() -> None:
        with HistoryStore(db_path) as store:
            store.list_conversations(query="answer")
            store.get_conversation(1)

    with pytest.raises(HistoryError, match="damaged"):
        use_it()
    assert db_path.read_bytes() == bytes(data)


def test_someone_elses_database_is_not_touched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    conn.execute("INSERT INTO invoices (amount) VALUES (9.5)")
    conn.commit()
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(HistoryError, match="not a vldesk history"):
        HistoryStore(db_path)
    assert db_path.read_bytes() == before


def test_disk_full_while_saving_keeps_what_was_saved(store: HistoryStore) -> None:
    cid = conversation(store, "/a.png", "saved before", "the disk filled up")
    conn = store._connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLite's own "disk full"
    with pytest.raises(HistoryError, match="disk is full"):
        store.add_message(cid, "assistant", "x" * 1_000_000)
    conn.execute("PRAGMA max_page_count = 1073741823")
    loaded = store.get_conversation(cid)
    assert loaded is not None
    assert [m.text for m in loaded.messages] == ["saved before", "the disk filled up"]
    store.add_message(cid, "user", "works again")


# --- stopped answers and replaced turns -----------------------------------------------------------


def stopped_conversation(store: HistoryStore) -> int:
    cid = store.start_conversation("/a.png", None, MODEL)
    store.add_message(cid, "user", "Describe every pixel.", model=MODEL)
    store.add_message(
        cid, "assistant", "Red, red,", model=MODEL, stats={"stop_reason": "cancelled"}
    )
    store.add_message(cid, "user", "Only the corner?", model=MODEL)
    store.add_message(cid, "assistant", "Blue.", model=MODEL, stats={"stop_reason": "end_of_text"})
    return cid


def test_stopped_answers_are_kept_and_exported_as_stopped(
    store: HistoryStore, tmp_path: Path
) -> None:
    cid = stopped_conversation(store)
    stored = store.get_conversation(cid)
    assert stored is not None
    assert [m.stopped for m in stored.messages] == [False, True, False, False]
    assert stored.messages[3].stop_reason == "end_of_text"
    export_entries(store.export_entries([cid]), tmp_path / "out.txt")
    text = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert "Answer (stopped):\nRed, red," in text
    assert "Answer:\nBlue." in text
    markdown = render_markdown(store.export_entries([cid]))
    assert "**Answer (stopped):**\n\nRed, red," in markdown
    assert markdown.count("(stopped)") == 1


def test_a_history_of_schema_1_is_upgraded_with_its_stopped_answers(db_path: Path) -> None:
    """A file written by the version before stop reasons had a column of their own: it opens,
    and the answers it recorded as stopped (in their stats) show as stopped."""
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (1)")
        history_schema.MIGRATIONS[0](conn)
        conn.execute(
            "INSERT INTO conversations (id, image_path, model, created, updated) "
            "VALUES (1, '/old.png', 'm', 0, 0)"
        )
        rows = [
            ("user", "q", None),
            ("assistant", "cut short", '{"new_tokens": 3, "stop_reason": "cancelled"}'),
            ("user", "again", None),
            ("assistant", "whole", '{"stop_reason": "end_of_text"}'),
            ("user", "and?", None),
            ("assistant", "damaged stats", "{not json"),
        ]
        for role, text, stats in rows:
            conn.execute(
                "INSERT INTO messages (conversation_id, role, text, stats, created) "
                "VALUES (1, ?, ?, ?, 0)",
                (role, text, stats),
            )
    finally:
        conn.close()
    with HistoryStore(db_path) as store:
        stored = store.get_conversation(1)
        assert stored is not None
        assert [m.text for m in stored.messages] == [text for _role, text, _stats in rows]
        assert [m.stop_reason for m in stored.messages] == [
            None,
            "cancelled",
            None,
            "end_of_text",
            None,
            None,
        ]
        assert found(store, "cut short") == [1]  # the search index came through too
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (
            history.SCHEMA_VERSION,
        )
    finally:
        conn.close()


def test_deleting_from_a_message_drops_it_and_what_follows(store: HistoryStore) -> None:
    cid = stopped_conversation(store)
    other = conversation(store, "/b.png", "untouched", "answer")
    stored = store.get_conversation(cid)
    assert stored is not None
    second_question = stored.messages[2].id
    assert store.delete_messages_from(cid, second_question) == 2
    after = store.get_conversation(cid)
    assert after is not None
    assert [m.text for m in after.messages] == ["Describe every pixel.", "Red, red,"]
    assert found(store, "corner") == []
    kept = store.get_conversation(other)
    assert kept is not None
    assert len(kept.messages) == 2
