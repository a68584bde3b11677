"""Server addresses: what is accepted, and errors that never echo a key typed into one."""

from __future__ import annotations

import pytest

from vldesk.core.errors import VldeskError
from vldesk.core.inference.remote import Endpoint


def test_an_address_gets_v1_and_keeps_its_key_out_of_sight() -> None:
    endpoint = Endpoint.parse("http://user:sk-live-SECRET@gpu1:8000")
    assert endpoint.display == "http://gpu1:8000/v1"
    assert endpoint.api_key == "sk-live-SECRET"
    assert Endpoint.parse("https://[::1]:9000/v1/").display == "https://[::1]:9000/v1"


@pytest.mark.parametrize(
    "text",
    [
        "http://gpu1:sk-live-SECRET",  # a key where the port goes
        "http://gpu1:99999",
        "http://[::1:8000",  # an unclosed IPv6 bracket
        "http://user:sk-live-SECRET@[::1:8000",
        "gpu1:sk-live-SECRET@host",
        "ftp://user:sk-live-SECRET@gpu1",
    ],
)
def test_a_bad_address_is_a_clear_error_without_the_key(text: str) -> None:
    with pytest.raises(VldeskError) as raised:
        Endpoint.parse(text)
    assert "SECRET" not in str(raised.value)
