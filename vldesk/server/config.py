"""What the server accepts: the address, the API key and the caps on requests."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from vldesk.core.errors import VldeskError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: Environment variable that holds the API key when ``--api-key`` is not given.
API_KEY_ENV = "VLDESK_API_KEY"


@dataclass(frozen=True)
class Limits:
    """Caps on one request; a request over one gets a 413 that names the limit."""

    body_bytes: int = 64 * 1024 * 1024
    image_bytes: int = 32 * 1024 * 1024
    image_pixels: int = 50_000_000
    images_per_request: int = 8
    max_new_tokens: int = 4096
    #: Requests waiting for the model (the one being answered not counted); more get a 429.
    queue: int = 32
    #: How long a client told 429 should wait before trying again, in seconds.
    retry_after_s: int = 2


@dataclass(frozen=True)
class ServerConfig:
    """Where the server listens and who may use it."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    api_key: str | None = None
    limits: Limits = Limits()
    #: Origins allowed to call the API from a web page elsewhere; none by default.
    cors_origins: tuple[str, ...] = ()
    #: The web page's language ("en", "zh"); "auto" follows the browser's.
    language: str = "auto"

    def __post_init__(self) -> None:
        if not is_loopback(self.host) and not self.api_key:
            raise VldeskError(
                f"Listening on {self.host} makes the model reachable from other computers: "
                f"give an API key (--api-key or {API_KEY_ENV}), or listen on 127.0.0.1."
            )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def size_text(size: int) -> str:
    """``64 MiB``, ``512 KiB``: a byte limit as a person reads it."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MiB"
    return f"{size / 1024:g} KiB"


def is_loopback(host: str) -> bool:
    """True for addresses only this computer can reach (127.x, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name may resolve to anything
