"""Fail loudly if code opens a network connection to anything but this machine."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


class NetworkBlocked(OSError):
    """Raised in place of a connection to a non-loopback address."""


def _is_loopback(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX socket path
        return True
    host = address[0] if isinstance(address, tuple) else address
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name to be resolved: not allowed


@contextmanager
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record and refuse every non-loopback connect and DNS lookup; yields the attempts list.

    The attempts are recorded as well as refused because libraries may swallow the error.
    """
    attempts: list[str] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            attempts.append(f"connect {address!r}")
            raise NetworkBlocked(f"network access blocked in tests: {address!r}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            attempts.append(f"connect_ex {address!r}")
            raise NetworkBlocked(f"network access blocked in tests: {address!r}")
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback((host,)):
            attempts.append(f"getaddrinfo {host!r}")
            raise socket.gaierror(f"DNS blocked in tests: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts
