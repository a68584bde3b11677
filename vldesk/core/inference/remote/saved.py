"""Servers the app used: their recent addresses, and keys only where the user asked (a private
file of their own, never the settings, history or logs)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from vldesk.core.atomic import atomic_write_text
from vldesk.core.models.catalog import Family

log = logging.getLogger(__name__)

#: Environment variable that holds the servers' API key when none is given or saved.
API_KEY_ENV = "VLDESK_API_KEY"
#: How many server addresses are remembered, most recent first.
MAX_RECENT_SERVERS = 8
RECENT_FILE = "servers.json"
KEYS_FILE = "server-keys.json"
_PRIVATE_MODE = 0o600


def env_api_key() -> str | None:
    return os.environ.get(API_KEY_ENV) or None


@dataclass(frozen=True)
class ChatServer:
    """The server the chat answered on when the app closed: connected again at the next start."""

    url: str
    model: str
    family: Family | None = None


class SavedServers:
    """``servers.json`` (addresses, no keys) and ``server-keys.json`` (mode 0600) in
    ``config_dir``. Addresses are :attr:`Endpoint.display` forms: no credentials in them."""

    def __init__(self, config_dir: Path) -> None:
        self._recent_file = config_dir / RECENT_FILE
        self._keys_file = config_dir / KEYS_FILE

    def recent(self) -> list[str]:
        """Most recent first; an unreadable file counts as none."""
        return self._list("recent")

    def batch_servers(self) -> list[str]:
        """The servers the latest folder batch ran on."""
        return self._list("batch")

    def remember(self, *urls: str, batch: bool = False) -> None:
        """Move ``urls`` to the front of the recent list (in the order given); ``batch``: they
        are also the servers of the latest folder batch.

        Raises:
            WriteError: the file could not be written.
        """
        rest = [url for url in self.recent() if url not in urls]
        recent = [*dict.fromkeys(urls), *rest][:MAX_RECENT_SERVERS]
        self._write(recent, list(urls) if batch else self.batch_servers(), self.chat_server())

    def chat_server(self) -> ChatServer | None:
        """The server the chat was connected to when the app last closed, if any."""
        data = _read(self._recent_file)
        chat = data.get("chat") if isinstance(data, dict) else None
        if not isinstance(chat, dict):
            return None
        url, model, family = chat.get("url"), chat.get("model"), chat.get("family")
        if not (isinstance(url, str) and url and isinstance(model, str) and model):
            return None
        known = {member.value: member for member in Family}
        return ChatServer(url, model, known.get(family) if isinstance(family, str) else None)

    def set_chat_server(self, server: ChatServer | None) -> None:
        """Keep ``server`` as the one to connect the chat to at the next start (``None``: the
        local model then). Its key, if any, stays where it is (:meth:`save_key`).

        Raises:
            WriteError: the file could not be written.
        """
        if server != self.chat_server():
            self._write(self.recent(), self.batch_servers(), server)

    def _write(self, recent: list[str], batch: list[str], chat: ChatServer | None) -> None:
        data: dict[str, object] = {"recent": recent, "batch": batch}
        if chat is not None:
            family = chat.family.value if chat.family is not None else None
            data["chat"] = {"url": chat.url, "model": chat.model, "family": family}
        atomic_write_text(self._recent_file, json.dumps(data, indent=2) + "\n")

    def _list(self, key: str) -> list[str]:
        data = _read(self._recent_file)
        items = data.get(key) if isinstance(data, dict) else None
        if not isinstance(items, list):
            return []
        return [item for item in items if isinstance(item, str) and item][:MAX_RECENT_SERVERS]

    def key_for(self, url: str) -> str | None:
        """The key saved for ``url``, else :data:`API_KEY_ENV`'s, else ``None``."""
        keys = self._keys()
        return keys.get(url) or env_api_key()

    def has_saved_key(self, url: str) -> bool:
        return url in self._keys()

    def save_key(self, url: str, key: str | None) -> None:
        """Keep ``key`` for ``url`` (``None`` forgets it) in the private keys file.

        Raises:
            WriteError: the file could not be written.
        """
        keys = self._keys()
        if key:
            keys[url] = key
        elif keys.pop(url, None) is None:
            return
        _create_private(self._keys_file)
        atomic_write_text(self._keys_file, json.dumps({"keys": keys}, indent=2) + "\n")

    def _keys(self) -> dict[str, str]:
        data = _read(self._keys_file)
        keys = data.get("keys") if isinstance(data, dict) else None
        if not isinstance(keys, dict):
            return {}
        return {u: k for u, k in keys.items() if isinstance(u, str) and isinstance(k, str) and k}


def _read(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring %s: %s", path.name, type(exc).__name__)
        return None


def _create_private(path: Path) -> None:
    """Create ``path`` readable by its owner only: the atomic write keeps an existing file's
    mode, so the keys are never readable by others, not even for an instant."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE))
    with contextlib.suppress(OSError):
        os.chmod(path, _PRIVATE_MODE)
