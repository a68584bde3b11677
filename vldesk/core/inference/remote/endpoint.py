"""One OpenAI-compatible server: its address, its key, and HTTP calls that fail as app errors."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from vldesk.core.errors import GenerationError, VldeskError
from vldesk.core.inference.remote.wire import (
    MalformedReplyError,
    error_message,
    parse_json,
    parse_model_names,
)
from vldesk.core.messages import core_text

#: Connecting should be quick; an answer may take minutes on a busy or slow server.
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 600.0
#: A 429 without Retry-After waits this long; a longer Retry-After is cut to the cap.
DEFAULT_RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 30.0


class EndpointError(GenerationError):
    """The server could not answer: unreachable, failing (5xx), timing out or talking garbage.
    Another server may answer the same request."""


class ServerBusyError(EndpointError):
    """The server said 429 (too many requests); try again after ``retry_after_s``."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class AnswerFailedError(EndpointError):
    """The server is up but failed this answer, saying why (a 5xx with an error message)."""


class ApiKeyRefusedError(EndpointError):
    """The server refused the API key (401/403)."""


class RequestRejectedError(GenerationError):
    """The server refused this request itself (400, 413, ...): another server would too."""


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible base URL (``http://host:port/v1``) and its API key.

    Credentials in the URL (``http://user:key@host``) are moved into an Authorization header:
    the address shown, logged and recorded (:attr:`display`) never carries them.
    """

    url: str
    api_key: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, text: str, api_key: str | None = None) -> Endpoint:
        """``text`` as given on a command line; ``/v1`` is added where the path has none.

        Raises:
            VldeskError: ``text`` is not an http(s) URL, or its port or IPv6 brackets are
                wrong (the message repeats neither: a key may have been typed there).
        """
        try:
            parts = urlsplit(text.strip())
            port = parts.port
        except ValueError:
            # Neither the port nor the host is echoed: a key may have been typed there.
            raise VldeskError(
                core_text(
                    "Servers",
                    "The server address is not valid: check its port (a number up to 65535) "
                    "and the square brackets around an IPv6 address.",
                )
            ) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise VldeskError(
                core_text(
                    "Servers",
                    "'{address}' is not an http:// or https:// URL.",
                    address=_without_userinfo(text),
                )
            )
        # A key in the URL is that server's own; ``api_key`` is for the others.
        key = parts.password or api_key
        path = parts.path.rstrip("/")
        if not path.endswith("/v1"):
            path += "/v1"
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        if port is not None:
            netloc += f":{port}"
        return cls(urlunsplit((parts.scheme, netloc, path, "", "")), key)

    @property
    def display(self) -> str:
        return self.url

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def plain_http_warning(self) -> str | None:
        """A warning when requests (and the key) would cross a network unencrypted."""
        if urlsplit(self.url).scheme != "http" or is_loopback_host(self.host):
            return None
        key = " and the API key" if self.api_key else ""
        return (
            f"{self.display} is plain http:// to another computer: the images{key} cross the "
            "network unencrypted. Use https:// (or an SSH tunnel) where the network is not yours."
        )


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _without_userinfo(text: str) -> str:
    """``text`` from after its last ``@``: what comes before may be a user and a key."""
    if "@" not in text:
        return text
    scheme, separator, rest = text.partition("://")
    return f"{scheme}{separator}{rest.rsplit('@', 1)[1]}" if separator else text.rsplit("@", 1)[1]


class Connection:
    """HTTP to one endpoint; thread-safe (httpx's client is), the key sent to it alone.

    Redirects are not followed, so the key never travels to another address.
    """

    def __init__(self, endpoint: Endpoint, *, read_timeout_s: float = READ_TIMEOUT_S) -> None:
        self.endpoint = endpoint
        headers = {"User-Agent": "vldesk"}
        if endpoint.api_key:
            headers["Authorization"] = f"Bearer {endpoint.api_key}"
        self._client = httpx.Client(
            base_url=endpoint.url + "/",
            headers=headers,
            timeout=httpx.Timeout(read_timeout_s, connect=CONNECT_TIMEOUT_S),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
        )
        self._closed = threading.Event()

    def close(self) -> None:
        self._closed.set()
        self._client.close()

    def model_names(self, timeout_s: float = CONNECT_TIMEOUT_S) -> list[str]:
        """``GET /v1/models``.

        Raises:
            EndpointError: unreachable, refusing the key, or not listing models.
        """
        with self._request("GET", "models", timeout=timeout_s) as response:
            return parse_model_names(parse_json(response.read(), "model list"))

    def post_json(self, path: str, body: dict[str, Any]) -> Any:
        """POST ``body`` and return the JSON reply (raises as :meth:`stream_lines`)."""
        with self._request("POST", path, json=body) as response:
            return parse_json(response.read(), "answer")

    @contextmanager
    def stream_lines(self, path: str, body: dict[str, Any]) -> Iterator[Iterator[str]]:
        """POST ``body`` and yield the reply's lines as they arrive; leaving the block closes
        the request, which is how an answer is cancelled."""
        with self._request("POST", path, json=body) as response:
            yield self._lines(response)

    def _lines(self, response: httpx.Response) -> Iterator[str]:
        try:
            yield from response.iter_lines()
        except httpx.HTTPError as exc:
            raise EndpointError(
                f"{self.endpoint.display} broke off the answer: {_why(exc)}"
            ) from None

    @contextmanager
    def _request(
        self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any
    ) -> Iterator[httpx.Response]:
        where = self.endpoint.display
        if self._closed.is_set():
            raise EndpointError(f"The connection to {where} is closed.")
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        try:
            with self._client.stream(method, path, **kwargs, **extra) as response:
                if response.status_code >= 300:
                    response.read()
                    raise _status_error(where, response)
                yield response
        except httpx.HTTPError as exc:
            raise EndpointError(f"{where} did not answer: {_why(exc)}") from None
        except RuntimeError as exc:  # httpx: "Cannot send a request, as the client has been closed"
            raise EndpointError(f"The connection to {where} is closed ({exc}).") from None


def _why(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "the connection was refused or the address cannot be reached"
    if isinstance(exc, httpx.TimeoutException):
        return "it timed out"
    return type(exc).__name__ if not str(exc) else str(exc)


def _status_error(where: str, response: httpx.Response) -> GenerationError:
    status = response.status_code
    try:
        said = error_message(response.json())
    except (ValueError, UnicodeDecodeError):
        said = ""
    detail = f": {said}" if said else ""
    if status == 429 or (status == 503 and "retry-after" in response.headers):
        return ServerBusyError(f"{where} is busy ({status}){detail}", _retry_after(response))
    if status in (401, 403):
        return ApiKeyRefusedError(
            f"{where} refused the API key ({status}): give the right one with --api-key or "
            "VLDESK_API_KEY."
        )
    if status in (400, 413, 422):
        return RequestRejectedError(f"{where} refused the request ({status}){detail}")
    if 300 <= status < 400:
        return EndpointError(f"{where} redirects elsewhere ({status}); give the final address.")
    if status == 404 and not said:
        return MalformedReplyError(f"{where} has no OpenAI API there (404); is the URL right?")
    if status >= 500 and said and status not in (502, 503, 504):
        return AnswerFailedError(f"{where} failed the answer ({status}){detail}")
    return EndpointError(f"{where} failed the request ({status}){detail}")


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
