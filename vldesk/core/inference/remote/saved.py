"""Servers the app used: their recent addresses, and keys only where the user asked (a private
file of their own, never the settings, history or logs)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

from vldesk.core.atomic import atomic_write_text

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
        data = {"recent": recent, "batch": list(urls) if batch else self.batch_servers()}
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
