"""Where a server can be reached: on this computer, and from a phone on the same network."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from vldesk.server.config import is_loopback

#: Addresses that listen on every network interface.
ANY_ADDRESSES = ("0.0.0.0", "::", "[::]")


@dataclass(frozen=True)
class ServerAddresses:
    """``local``: the URL for programs on this computer; ``network``: for other devices on the
    network (``None`` when the server listens on this computer only)."""

    local: str
    network: str | None


def lan_address() -> str | None:
    """This computer's address on its local network, or ``None`` when it has none.

    Connecting a UDP socket sends nothing: it only asks the system which interface would be
    used, so this works offline as long as a network is configured.
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        address = str(probe.getsockname()[0])
    except OSError:
        return None
    finally:
        probe.close()
    return None if is_loopback(address) or address == "0.0.0.0" else address


def addresses_for(host: str, port: int, lan: str | None = None) -> ServerAddresses:
    """The URLs a server listening on ``host``:``port`` answers at (``lan``: this computer's
    network address, looked up where not given)."""
    if is_loopback(host):
        return ServerAddresses(f"http://{_url_host(host)}:{port}", None)
    if host in ANY_ADDRESSES:
        network = lan if lan is not None else lan_address()
        return ServerAddresses(
            f"http://127.0.0.1:{port}",
            f"http://{network}:{port}" if network else None,
        )
    url = f"http://{_url_host(host)}:{port}"
    return ServerAddresses(url, url)


def _url_host(host: str) -> str:
    host = host.strip("[]")
    return f"[{host}]" if ":" in host else host
