"""Which ModelScope sites to download from: the setting, then the official two."""

from __future__ import annotations

import os
from urllib.parse import urlparse

from vldesk.core.errors import DownloadError

#: vldesk's own setting for the ModelScope address; then the client's standard ones.
ENDPOINT_ENV = "VLDESK_MODELSCOPE_ENDPOINT"


CLIENT_ENDPOINT_ENV = "MODELSCOPE_ENDPOINT"


CLIENT_DOMAIN_ENV = "MODELSCOPE_DOMAIN"


PREFER_AI_ENV = "MODELSCOPE_PREFER_AI_SITE"


#: The two ModelScope sites, China first; each is the other's fallback.
OFFICIAL_SITES = ("https://www.modelscope.cn", "https://www.modelscope.ai")


DEFAULT_ENDPOINT = OFFICIAL_SITES[0]


def _normalized(address: str, setting: str) -> str:
    chosen = address.strip().rstrip("/")
    if "://" not in chosen:
        chosen = f"https://{chosen}"  # a bare domain, as the client itself accepts
    if not chosen.lower().startswith(("http://", "https://")):
        raise DownloadError(
            f"The ModelScope address '{address.strip()}' ({setting}) is not valid: it must start "
            "with https://."
        )
    return chosen


def _official_site(address: str) -> int | None:
    host = (urlparse(address).hostname or "").lower().removeprefix("www.")
    return {"modelscope.cn": 0, "modelscope.ai": 1}.get(host)


def hub_endpoints(endpoint: str | None = None) -> tuple[str, ...]:
    """The ModelScope addresses to try, in order.

    The address is ``endpoint``, else ``VLDESK_MODELSCOPE_ENDPOINT``, else the client's own
    ``MODELSCOPE_ENDPOINT`` or ``MODELSCOPE_DOMAIN``, else modelscope.cn (modelscope.ai first
    with ``MODELSCOPE_PREFER_AI_SITE=true``). When it is one of the two ModelScope sites the
    other follows as the fallback; a mirror or a private address has none.
    """
    settings = (
        ("the endpoint given", endpoint),
        (ENDPOINT_ENV, os.environ.get(ENDPOINT_ENV)),
        (CLIENT_ENDPOINT_ENV, os.environ.get(CLIENT_ENDPOINT_ENV)),
        (CLIENT_DOMAIN_ENV, os.environ.get(CLIENT_DOMAIN_ENV)),
    )
    chosen = next(((name, value) for name, value in settings if value and value.strip()), None)
    if chosen is None:
        prefer_ai = os.environ.get(PREFER_AI_ENV, "").strip().lower() in ("1", "true", "yes", "on")
        return tuple(reversed(OFFICIAL_SITES)) if prefer_ai else OFFICIAL_SITES
    address = _normalized(chosen[1] or "", chosen[0])
    site = _official_site(address)
    return (address,) if site is None else (address, OFFICIAL_SITES[1 - site])


def hub_endpoint(endpoint: str | None = None) -> str:
    """The first ModelScope address to try (see :func:`hub_endpoints`)."""
    return hub_endpoints(endpoint)[0]
