"""The conversation history: an SQLite file with full-text search, saved as each message appears."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from PIL import Image

from vldesk.core import history_schema
from vldesk.core.errors import HistoryError
from vldesk.core.export import ExportEntry
from vldesk.core.history_records import (
    PREVIEW_CHARS,
    STOPPED,
    THUMBNAIL_SIZE,
    ChatHistory,
    ConversationSummary,
    HistoryWriter,
    StoredConversation,
    StoredMessage,
    from_json,
    from_timestamp,
    make_thumbnail,
    search_words,
    shorten,
    stop_reason_of,
    to_json,
)
from vldesk.core.history_schema import MIGRATIONS, SCHEMA_VERSION
from vldesk.core.messages import core_text

logger = logging.getLogger(__name__)

#: Wait this long for another connection's write lock before reporting the history as busy.
BUSY_TIMEOUT_MS = 5000
#: The trigram tokenizer needs at least 3 characters; shorter search words use LIKE.
_TRIGRAM = 3
ROLES = ("user", "assistant", "system")


# --- the store ----------------------------------------------------------------------------------


#: What a failed history call was doing, for its message (the calls name it in English).
_ACTIONS = {
    "open": core_text("History", "open"),
    "start a conversation": core_text("History", "start a conversation"),
    "save the message": core_text("History", "save the message"),
    "save the answer": core_text("History", "save the answer"),
    "delete the conversation": core_text("History", "delete the conversation"),
    "read the history": core_text("History", "read the history"),
}


class HistoryStore:
    """The history database. Every write commits at once, so a crash loses nothing shown.

    Thread-safe: each thread gets its own SQLite connection (WAL lets readers and the single
    writer proceed together; concurrent writers wait up to :data:`BUSY_TIMEOUT_MS`). Call
    :meth:`close` once no other thread uses the store any more.

    Raises:
        HistoryError: the file is damaged, not a history database, from a newer vldesk, or
            cannot be opened. The file is never deleted or replaced.
    """

    def __init__(self, db_path: str | os.PathLike[str]) -> None:
        self.path = Path(db_path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        #: Whether search uses the FTS5 index (else LIKE: this SQLite build had no FTS5).
        self.has_fts = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(
                f"Could not create the history folder {self.path.parent} ({exc.strerror})."
            ) from exc
        try:
            with self._errors("open"):
                self.has_fts = self._open()
        except BaseException:
            self.close()  # no open handle left on a file the user may want to move away
            raise

    def _open(self) -> bool:
        """Check, configure and migrate the file; True when search has the FTS5 index."""
        conn = self._connection()
        # Read first: a damaged or foreign file fails here, before anything is written.
        history_schema.schema_version(conn, self.path)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # e.g. a network share; still works, less concurrent
            logger.warning("History %s: WAL not available (journal_mode=%s).", self.path, mode)
        self._migrate(conn)
        has_fts = history_schema.table_exists(conn, "messages_fts")
        if has_fts and not history_schema.fts5_trigram_available(conn):
            # Made where FTS5 existed; its triggers would make every write fail here.
            raise HistoryError(
                f"The history file {self.path} needs SQLite full-text search (FTS5 with "
                "trigrams), which this Python's sqlite3 module lacks."
            )
        return has_fts

    # --- connections and transactions ---

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise HistoryError("The history has been closed.")
        # isolation_level=None: no implicit transactions; _write() opens them explicitly.
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # WAL is a property of the file, set once in __init__. NORMAL in WAL mode: a commit
            # survives an app crash; only an OS crash or power loss may lose the last commits
            # (FULL would fsync every single message).
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
        self._local.conn = conn
        with self._lock:
            self._connections.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, committed on exit (rolled back on error)."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")  # take the write lock now, not halfway through
        try:
            yield conn
        except BaseException:
            # SQLite may already have rolled back by itself (disk full, I/O error); a failing
            # ROLLBACK must not hide the error that matters.
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn SQLite errors into one-sentence :class:`HistoryError` messages."""
        try:
            yield
        except sqlite3.Error as exc:
            raise HistoryError(self._describe(exc, action)) from exc

    def _describe(self, exc: sqlite3.Error, action: str) -> str:
        name = getattr(exc, "sqlite_errorname", "")  # Python 3.11+
        text = str(exc).lower()
        damaged = ("not a database", "malformed")
        doing = _ACTIONS.get(action, action)
        path = str(self.path)
        if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or any(word in text for word in damaged):
            return core_text(
                "History",
                "The history file {path} is damaged or is not a vldesk history; it was left as "
                "it is (move it away to start a new history).",
                path=path,
            )
        if name == "SQLITE_FULL" or "disk is full" in text:
            return core_text(
                "History", "The disk is full: could not save to the history ({path}).", path=path
            )
        if name.startswith("SQLITE_READONLY") or "readonly" in text:
            return core_text(
                "History",
                "The history file {path} is read-only: could not {action}.",
                path=path,
                action=doing,
            )
        if name.startswith("SQLITE_BUSY") or "locked" in text:
            return core_text(
                "History",
                "The history is busy (another vldesk window?): could not {action}; try again.",
                action=doing,
            )
        if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
            return core_text("History", "Could not open the history file {path}.", path=path)
        return core_text(
            "History",
            "Could not {action} in the history ({reason}).",
            action=doing,
            reason=str(exc),
        )

    def _migrate(self, conn: sqlite3.Connection) -> None:
        with self._write():
            version = history_schema.schema_version(conn, self.path)
            if version > SCHEMA_VERSION:
                raise HistoryError(
                    f"The history file {self.path} was made by a newer version of vldesk "
                    f"(schema {version}, this one knows {SCHEMA_VERSION}); update vldesk."
                )
            if version == 0:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            # All steps in one transaction: an interrupted upgrade leaves the old schema intact.
            for step in range(version, SCHEMA_VERSION):
                logger.info("History %s: migrating schema %d -> %d", self.path, step, step + 1)
                MIGRATIONS[step](conn)
            if version < SCHEMA_VERSION:
                conn.execute("DELETE FROM schema_version")
                conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))

    def close(self) -> None:
        """Close every thread's connection; the store cannot be used afterwards."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- writing ---

    def start_conversation(
        self,
        image_path: str | os.PathLike[str] | None,
        thumbnail_image: Image.Image | None,
        model: str,
    ) -> int:
        """Record a new conversation about an image (``None``: pasted); returns its id."""
        thumbnail = make_thumbnail(thumbnail_image) if thumbnail_image is not None else None
        now = time.time()
        path = str(image_path) if image_path is not None else None
        with self._errors("start a conversation"), self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO conversations (image_path, thumbnail, model, created, updated) "
                "VALUES (?, ?, ?, ?, ?)",
                (path, thumbnail, model, now, now),
            )
            return _rowid(cursor)

    def add_message(
        self,
        conversation_id: int,
        role: str,
        text: str,
        *,
        model: str | None = None,
        settings: Mapping[str, Any] | None = None,
        stats: Mapping[str, Any] | None = None,
    ) -> int:
        """Append a message and commit it; returns its id (for :meth:`update_message_text`)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        now = time.time()
        with self._errors("save the message"), self._write() as conn:
            self._touch(conn, conversation_id, now)
            cursor = conn.execute(
                "INSERT INTO messages (conversation_id, role, text, model, settings, stats, "
                "created, stop_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    role,
                    text,
                    model or "",
                    to_json(settings or {}),
                    to_json(stats) if stats is not None else None,
                    now,
                    stop_reason_of(stats) if role == "assistant" else None,
                ),
            )
            return _rowid(cursor)

    def update_message_text(
        self, message_id: int, text: str, *, stats: Mapping[str, Any] | None = None
    ) -> None:
        """Replace a message's text (a streamed answer, finalised), and its stats when given."""
        now = time.time()
        with self._errors("save the answer"), self._write() as conn:
            row = conn.execute(
                "SELECT conversation_id FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
            if row is None:
                raise HistoryError("The message is no longer in the history (deleted?).")
            if stats is None:
                conn.execute("UPDATE messages SET text = ? WHERE id = ?", (text, message_id))
            else:
                conn.execute(
                    "UPDATE messages SET text = ?, stats = ?, stop_reason = ? WHERE id = ?",
                    (text, to_json(stats), stop_reason_of(stats), message_id),
                )
            self._touch(conn, int(row[0]), now)

    @staticmethod
    def _touch(conn: sqlite3.Connection, conversation_id: int, now: float) -> None:
        cursor = conn.execute(
            "UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id)
        )
        if cursor.rowcount == 0:
            raise HistoryError("The conversation is no longer in the history (deleted?).")

    def delete_messages_from(self, conversation_id: int, message_id: int) -> int:
        """Delete a message and every later one of its conversation (an answer regenerated, a
        question edited: what follows it no longer applies); returns how many went."""
        with self._errors("replace the message"), self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM messages WHERE conversation_id = ? AND id >= ?",
                (conversation_id, message_id),
            )
            self._touch(conn, conversation_id, time.time())
            return int(cursor.rowcount)

    def delete_conversation(self, conversation_id: int) -> bool:
        """Delete a conversation and its messages (and their search entries); False if absent."""
        with self._errors("delete the conversation"), self._write() as conn:
            # Messages first and explicitly, so the FTS delete trigger runs for each of them.
            conn.execute("DELETE FROM messages WHERE conversation_id = ?", (conversation_id,))
            cursor = conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            return cursor.rowcount > 0

    # --- reading ---

    def list_conversations(
        self, limit: int = 50, offset: int = 0, query: str | None = None
    ) -> list[ConversationSummary]:
        """Conversations, most recently updated first; ``query`` keeps those containing every
        word of it (in a prompt, an answer or the image's path). Any text is a safe query."""
        where, params = self._search_clause(query)
        sql = f"""
            SELECT c.id, c.image_path, c.model, c.created, c.updated, c.thumbnail,
                (SELECT text FROM messages WHERE conversation_id = c.id AND role = 'user'
                    ORDER BY id LIMIT 1),
                (SELECT text FROM messages WHERE conversation_id = c.id AND role = 'assistant'
                    ORDER BY id DESC LIMIT 1),
                (SELECT count(*) FROM messages WHERE conversation_id = c.id)
            FROM conversations AS c
            {where}
            ORDER BY c.updated DESC, c.id DESC
            LIMIT ? OFFSET ?
        """
        with self._errors("read the history"):
            rows = self._connection().execute(sql, (*params, limit, offset)).fetchall()
        return [
            ConversationSummary(
                id=row[0],
                image_path=row[1],
                model=row[2],
                created=from_timestamp(row[3]),
                updated=from_timestamp(row[4]),
                title=shorten(row[6] or ""),
                preview=shorten(row[7] or ""),
                message_count=row[8],
                thumbnail=row[5],
            )
            for row in rows
        ]

    def count_conversations(self, query: str | None = None) -> int:
        """How many conversations :meth:`list_conversations` would page through."""
        where, params = self._search_clause(query)
        with self._errors("read the history"):
            row = (
                self._connection()
                .execute(f"SELECT count(*) FROM conversations AS c {where}", params)
                .fetchone()
            )
        return int(row[0])

    def _search_clause(self, query: str | None) -> tuple[str, list[Any]]:
        """SQL keeping conversations that contain every word of ``query``, with parameters.

        The user's text is never SQL or FTS syntax: each word goes in as a bound parameter,
        quoted as an FTS phrase (``"`` doubled) or as a LIKE pattern (``%``/``_`` escaped).
        """
        words = search_words(query)
        if not words:
            return "", []
        conditions, params = [], []
        for word in words:
            like = "%" + re.sub(r"([\\%_])", r"\\\1", word) + "%"
            if self.has_fts and len(word) >= _TRIGRAM:
                in_messages = (
                    "SELECT m.conversation_id FROM messages_fts "
                    "JOIN messages AS m ON m.id = messages_fts.rowid "
                    "WHERE messages_fts MATCH ?"
                )
                params += ['"' + word.replace('"', '""') + '"', like]
            else:
                in_messages = "SELECT conversation_id FROM messages WHERE text LIKE ? ESCAPE '\\'"
                params += [like, like]
            conditions.append(f"(c.id IN ({in_messages}) OR c.image_path LIKE ? ESCAPE '\\')")
        return "WHERE " + " AND ".join(conditions), params

    def get_conversation(self, conversation_id: int) -> StoredConversation | None:
        """The conversation with all its messages, or ``None`` if there is no such id."""
        with self._errors("read the history"):
            conn = self._connection()
            row = conn.execute(
                "SELECT id, image_path, model, created, updated, thumbnail "
                "FROM conversations WHERE id = ?",
                (conversation_id,),
            ).fetchone()
            if row is None:
                return None
            message_rows = conn.execute(
                "SELECT id, conversation_id, role, text, model, settings, stats, created, "
                "stop_reason FROM messages WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
        messages = tuple(
            StoredMessage(
                id=m[0],
                conversation_id=m[1],
                role=m[2],
                text=m[3],
                model=m[4],
                settings=from_json(m[5]) or {},
                stats=from_json(m[6]),
                created=from_timestamp(m[7]),
                stop_reason=m[8],
            )
            for m in message_rows
        )
        return StoredConversation(
            id=row[0],
            image_path=row[1],
            model=row[2],
            created=from_timestamp(row[3]),
            updated=from_timestamp(row[4]),
            thumbnail=row[5],
            messages=messages,
        )

    def export_entries(self, ids: Sequence[int]) -> list[ExportEntry]:
        """Conversations as :class:`ExportEntry` for :func:`vldesk.core.export.export_entries`,
        in the order given; ids no longer in the history are skipped."""
        entries = []
        for conversation_id in ids:
            conversation = self.get_conversation(conversation_id)
            if conversation is None:
                continue
            answers = [m for m in conversation.messages if m.role == "assistant"]
            last = answers[-1] if answers else None
            entries.append(
                ExportEntry(
                    image_path=Path(conversation.image_path) if conversation.image_path else None,
                    turns=[(m.role, m.text) for m in conversation.messages],
                    model=(last.model if last and last.model else conversation.model),
                    date=conversation.created,
                    # Settings are usually stored with the prompt; the latest ones apply.
                    settings=next(
                        (dict(m.settings) for m in reversed(conversation.messages) if m.settings),
                        {},
                    ),
                    stats=dict(last.stats) if last and last.stats else None,
                    stop_reasons={
                        index: m.stop_reason
                        for index, m in enumerate(conversation.messages)
                        if m.stop_reason
                    },
                )
            )
        return entries


# --- helpers ------------------------------------------------------------------------------------


def _rowid(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None
    return int(cursor.lastrowid)


__all__ = [
    "BUSY_TIMEOUT_MS",
    "MIGRATIONS",
    "PREVIEW_CHARS",
    "ROLES",
    "SCHEMA_VERSION",
    "STOPPED",
    "THUMBNAIL_SIZE",
    "ChatHistory",
    "ConversationSummary",
    "HistoryStore",
    "HistoryWriter",
    "StoredConversation",
    "StoredMessage",
    "make_thumbnail",
]
