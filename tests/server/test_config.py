"""Where the server may listen: loopback by default, anything else only with an API key."""

from __future__ import annotations

import pytest

from vldesk.core.errors import VldeskError
from vldesk.server.config import ServerConfig, is_loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "my-laptop.local"])
def test_listening_beyond_this_computer_needs_a_key(host: str) -> None:
    with pytest.raises(VldeskError, match="API key"):
        ServerConfig(host=host)
    assert ServerConfig(host=host, api_key="k").api_key == "k"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_needs_no_key(host: str) -> None:
    assert is_loopback(host)
    assert ServerConfig(host=host).api_key is None


def test_the_default_is_loopback() -> None:
    assert is_loopback(ServerConfig().host)
