"""The history database's schema and the migrations that bring older files up to it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from vldesk.core.errors import HistoryError
from vldesk.core.history_records import from_json, stop_reason_of

#: The schema this code writes; ``MIGRATIONS[n]`` takes a database from version n to n + 1.
SCHEMA_VERSION = 2


def fts5_trigram_available(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts_probe USING fts5(x, tokenize='trigram')")
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp.fts_probe")
    return True


_SCHEMA_1 = (
    """CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        image_path TEXT,
        thumbnail BLOB,
        model TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        updated REAL NOT NULL
    )""",
    "CREATE INDEX conversations_by_updated ON conversations (updated DESC, id DESC)",
    """CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
        text TEXT NOT NULL,
        model TEXT NOT NULL DEFAULT '',
        settings TEXT NOT NULL DEFAULT '{}',
        stats TEXT,
        created REAL NOT NULL
    )""",
    "CREATE INDEX messages_by_conversation ON messages (conversation_id, id)",
)
# External-content FTS kept in step by triggers, inside the same transaction as each write.
_FTS_1 = (
    """CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, content='messages', content_rowid='id', tokenize='trigram'
    )""",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END""",
)


def _migrate_0_to_1(conn: sqlite3.Connection) -> None:
    # Statement by statement: executescript() would COMMIT the migration's transaction early.
    for statement in _SCHEMA_1:
        conn.execute(statement)
    # Trigram FTS finds substrings, so Chinese (no spaces between words) is searchable too.
    # Builds without FTS5 get no index; search then falls back to LIKE.
    if fts5_trigram_available(conn):
        for statement in _FTS_1:
            conn.execute(statement)


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """Why each answer ended ("cancelled": stopped by the user), as its own column; older
    answers get it from their stats, where version 1 kept it."""
    conn.execute("ALTER TABLE messages ADD COLUMN stop_reason TEXT")
    rows = conn.execute(
        "SELECT id, stats FROM messages WHERE role = 'assistant' AND stats IS NOT NULL"
    ).fetchall()
    for message_id, stats in rows:
        # Parsed here, not with SQL's json_extract: a damaged stats text must not stop the upgrade.
        reason = stop_reason_of(from_json(stats))
        if reason is not None:
            conn.execute("UPDATE messages SET stop_reason = ? WHERE id = ?", (reason, message_id))


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_migrate_0_to_1, _migrate_1_to_2)
assert len(MIGRATIONS) == SCHEMA_VERSION


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    return row is not None


def schema_version(conn: sqlite3.Connection, path: Path) -> int:
    """The schema of the history file at ``path``: 0 when it is new (empty)."""
    if not table_exists(conn, "schema_version"):
        # Tables but no version table: not ours (or damaged); don't touch it.
        user_tables = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchone()[0]
        if user_tables:
            raise HistoryError(
                f"The file {path} is an SQLite database but not a vldesk history; it "
                "was left as it is."
            )
        return 0
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0
