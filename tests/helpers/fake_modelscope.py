"""A local ModelScope (its /api/v1 and its file CDN) that answers in the real service's shapes.

Two servers on loopback: the API on 127.0.0.1 and a "CDN" on another host (127.0.0.2 where the
system allows it, else another port), so a redirect really crosses hosts. What each answer is
modelled on:

* ``GET /api/v1/models/{owner}/{name}/repo/files?Revision=&Recursive=`` - the listing in the
  envelope ``{"Code": 200, "Data": {"Files": [...]}, "Message": "success", "RequestId": ...,
  "Success": true}``. Each entry has the fields of the real one quoted in modelscope's own
  tests (``tests/hub/test_hub_retry.py``): ``CommitMessage``, ``CommittedDate``,
  ``CommitterName``, ``InCheck``, ``IsLFS``, ``Mode``, ``Name``, ``Path``, ``Revision`` (the
  last commit that changed that file; there is no ``CommitId``), ``Sha256``, ``Size``, ``Type``
  (``blob``, or ``tree`` for a folder, which a recursive listing includes).
* An unknown revision is not an error: ``200`` with ``"Files": null`` (measured on the live
  service, see neutree-ai/neutree ``internal/model_registry/model_scope.go``).
* An unknown model: ``404`` with the body the live service gives for one,
  ``{"Code": 10010205001, "Message": "获取模型版本失败，信息：record not found", ...}``.
* ``GET /api/v1/models/{owner}/{name}/revisions`` - ``Data.RevisionMap.Branches/Tags``.
* ``GET /api/v1/models/{owner}/{name}/repo?Revision=&FilePath=`` - an LFS file (the weights)
  is a ``302`` to a signed URL (``Expires``, ``OSSAccessKeyId``, ``Signature``) on the CDN
  host; other files come straight from the API as ``200`` with chunked encoding, ignoring
  ``Range``. A missing file (or a revision the file endpoint does not know) is ``404`` with
  ``{"Code": 10990101007, "Message": "获取模型文件失败，文件内容为空", ...}``.
* The CDN checks the signature, refuses a request that also carries ``Authorization`` (an
  object store allows one way to authenticate), and answers ``Range`` with ``206`` (or, as
  some CDN nodes do, ``200`` with ``Content-Range``).
* JSON answers are gzip-compressed when the client accepts gzip, as the real API's are.
* Anything else (the client's region probe ``/api/v1/repos/internalAccelerationInfo``
  included): ``404``.

Faults (:class:`Faults`) replay what the real service and its CDN do on a bad day: ``429``
with ``Retry-After``, ``5xx`` with an HTML body from the gateway, an empty CDN object, a body
silently cut at 93 %, a dropped connection, a flipped byte, a stall, and a push upstream in
the middle of a download (:meth:`FakeRepo.push`).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlparse

import numpy as np
from safetensors.numpy import save as save_safetensors

from tests.helpers.real_models import reference
from vldesk.core.models.catalog import Family

CHUNK = 64 * 1024
#: Where a silently truncated body stops.
TRUNCATE_AT = 0.93

_MODEL_PATH = re.compile(r"^/api/v1/models/([^/]+)/([^/]+)(/repo/files|/repo|/revisions)?/?$")
_CDN_PATH = re.compile(r"^/modelscope-lfs/([^/]+)/([^/]+)/([0-9a-f]{64})/(.+)$")
_COMMIT_ID = re.compile(r"^[0-9a-f]{40}$")
_SIGNING_KEY = b"fake-oss-signing-key"
_ACCESS_KEY = "LTAI5tFakeModelScopeCdn"

UNKNOWN_MODEL_BODY = {
    "Code": 10010205001,
    "Message": "获取模型版本失败，信息：record not found",
    "Success": False,
}
MISSING_FILE_BODY = {
    "Code": 10990101007,
    "Message": "获取模型文件失败，文件内容为空",
    "Success": False,
}
RATE_LIMITED_BODY = {"Code": 429, "Message": "Too Many Requests", "Success": False}
GATEWAY_HTML = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>Tengine</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".gguf")


@dataclass(frozen=True)
class RequestRecord:
    """One request as a server saw it."""

    server: str  # "api" or "cdn"
    method: str
    path: str
    query: dict[str, str]
    range: str | None
    headers: dict[str, str]
    #: What it was answered with (0 when the connection was cut before a status).
    status: int = 0
    #: The answer's Content-Encoding.
    encoding: str | None = None

    @property
    def file(self) -> str | None:
        return self.query.get("FilePath") if self.server == "api" else self.cdn_file

    @property
    def cdn_file(self) -> str | None:
        found = _CDN_PATH.match(self.path)
        return unquote(found.group(4)) if found else None

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def cookie(self) -> str | None:
        return self.headers.get("cookie")


@dataclass
class Faults:
    """What goes wrong, per file name (a path in the repo) where it says so."""

    #: file -> byte offset: the next response carrying that offset is cut off there.
    drop_once: dict[str, int] = field(default_factory=dict)
    #: After a drop, the API answers 503 to everything (the hub went down mid-download).
    down_after_drop: bool = False
    #: Files whose next response has one byte flipped.
    corrupt_once: set[str] = field(default_factory=set)
    #: Files whose every response has one byte flipped.
    corrupt_always: set[str] = field(default_factory=set)
    #: file -> byte offset: the next response stalls there until ``release`` is set.
    pause_once: dict[str, int] = field(default_factory=dict)
    #: The API answers every request with a gateway's 503 HTML page.
    hub_down: bool = False
    #: The CDN serves the whole object with 200 whatever the Range header says.
    ignore_range: bool = False
    #: The status the CDN answers a satisfiable Range with: 206, or 200 plus Content-Range.
    range_status: int = 206
    #: Seconds to sleep between 64 KiB chunks.
    chunk_delay: float = 0.0
    #: Files the CDN holds as an empty object for the next request / for every request.
    empty_once: set[str] = field(default_factory=set)
    empty_always: set[str] = field(default_factory=set)
    #: Files whose next / every body ends cleanly at 93 % (chunked, no length to betray it).
    truncate_once: set[str] = field(default_factory=set)
    truncate_always: set[str] = field(default_factory=set)
    #: "listing" or "file" -> how many of the next such API requests answer 429.
    rate_limited: dict[str, int] = field(default_factory=dict)
    retry_after: int = 7
    #: "listing" or "file" -> how many of the next such API requests answer a 502 HTML page.
    gateway_errors: dict[str, int] = field(default_factory=dict)
    #: The file endpoint knows branches and tags but not commit ids (answers them 404).
    refuse_commit_ids: bool = False


@dataclass(frozen=True)
class Commit:
    id: str
    date: int
    message: str
    files: dict[str, bytes]
    #: Paths added, changed or removed by this commit.
    changed: frozenset[str]


class FakeRepo:
    """A model repository with a history: branches of commits, tags, and pushes."""

    def __init__(self, repo_id: str, lfs: frozenset[str] = frozenset()) -> None:
        self.repo_id = repo_id
        self.branches: dict[str, list[Commit]] = {}
        self.tags: dict[str, Commit] = {}
        #: Files stored through LFS beyond those named like weights.
        self.lfs = lfs
        self._clock = 1_761_000_000

    def push(
        self,
        files: dict[str, bytes],
        message: str = "upload",
        branch: str = "master",
        *,
        replace: bool = True,
    ) -> Commit:
        """Commit ``files`` (the whole tree, or changes on top when ``replace`` is False)."""
        history = self.branches.setdefault(branch, [])
        parent = history[-1] if history else None
        before = parent.files if parent else {}
        tree = dict(files) if replace else {**before, **files}
        changed = frozenset(
            path for path in set(before) | set(tree) if before.get(path) != tree.get(path)
        )
        self._clock += 3600
        digest = hashlib.sha1()
        digest.update((parent.id if parent else "").encode())
        digest.update(message.encode())
        for path in sorted(tree):
            digest.update(path.encode() + hashlib.sha256(tree[path]).digest())
        commit = Commit(digest.hexdigest(), self._clock, message, tree, changed)
        history.append(commit)
        return commit

    def tag(self, name: str, commit: Commit | None = None) -> None:
        self.tags[name] = commit or self.head

    @property
    def head(self) -> Commit:
        return self.branches["master"][-1]

    @property
    def files(self) -> dict[str, bytes]:
        return self.head.files

    def history(self, revision: str) -> list[Commit] | None:
        """The commits up to ``revision`` (a branch, a tag or a full commit id), oldest first."""
        if revision in self.branches:
            return list(self.branches[revision])
        target = self.tags.get(revision)
        wanted = target.id if target else revision if _COMMIT_ID.match(revision) else None
        for commits in self.branches.values():
            for index, commit in enumerate(commits):
                if commit.id == wanted:
                    return commits[: index + 1]
        return None

    def is_lfs(self, path: str) -> bool:
        return path in self.lfs or path.lower().endswith(_LFS_SUFFIXES)

    def listing(self, history: list[Commit]) -> list[dict[str, Any]]:
        """The recursive file list at the last commit of ``history``, folders included."""
        tree = history[-1].files

        def last_change(prefix: str) -> Commit:
            for commit in reversed(history):
                if any(p == prefix or p.startswith(prefix + "/") for p in commit.changed):
                    return commit
            return history[0]

        folders = {"/".join(p.split("/")[:i]) for p in tree for i in range(1, p.count("/") + 1)}
        entries: list[dict[str, Any]] = []
        for path in sorted(folders | set(tree)):
            commit = last_change(path)
            is_folder = path in folders
            data = b"" if is_folder else tree[path]
            entries.append(
                {
                    "CommitMessage": commit.message,
                    "CommittedDate": commit.date,
                    "CommitterName": "ModelScope",
                    "InCheck": False,
                    "IsLFS": not is_folder and self.is_lfs(path),
                    "Mode": "16384" if is_folder else "33188",
                    "Name": path.rsplit("/", 1)[-1],
                    "Path": path,
                    "Revision": commit.id,
                    "Sha256": "" if is_folder else hashlib.sha256(data).hexdigest(),
                    "Size": 0 if is_folder else len(data),
                    "Type": "tree" if is_folder else "blob",
                }
            )
        return entries


class FakeModelScope:
    """The fake service; use as a context manager, then point the client at :attr:`endpoint`."""

    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.faults = Faults()
        self.requests: list[RequestRecord] = []
        #: Set when a ``pause_once`` response reaches its offset; the test then acts.
        self.paused = threading.Event()
        #: Set by the test (or on stop) to let a paused response go on.
        self.release = threading.Event()
        #: Set while a paused response is held at its offset (cleared when it goes on).
        self.stalling = threading.Event()
        self._lock = threading.Lock()
        self._api: ThreadingHTTPServer | None = None
        self._cdn: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # -- set-up --------------------------------------------------------------------------------

    def add_repo(
        self,
        repo_id: str,
        files: dict[str, bytes],
        revision: str = "master",
        *,
        lfs: frozenset[str] = frozenset(),
    ) -> FakeRepo:
        """A repo (replacing one of the same id) whose ``revision`` holds ``files``."""
        repo = FakeRepo(repo_id, lfs)
        repo.push(files, "Upload folder using ModelScope SDK", branch="master")
        if revision != "master":
            repo.push(files, "Upload folder using ModelScope SDK", branch=revision)
        self.repos[repo_id.lower()] = repo
        return repo

    def repo(self, repo_id: str) -> FakeRepo:
        return self.repos[repo_id.lower()]

    @property
    def endpoint(self) -> str:
        assert self._api is not None, "the fake hub is not running"
        host, port = self._api.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def cdn_address(self) -> tuple[str, int]:
        assert self._cdn is not None, "the fake hub is not running"
        host, port = self._cdn.server_address[:2]
        return str(host), int(port)

    def start(self) -> FakeModelScope:
        self._api = self._serve("127.0.0.1", _ApiHandler, "fake-modelscope-api")
        try:
            self._cdn = self._serve("127.0.0.2", _CdnHandler, "fake-modelscope-cdn")
        except OSError:  # no 127.0.0.2 (macOS): another port is still another origin
            self._cdn = self._serve("127.0.0.1", _CdnHandler, "fake-modelscope-cdn")
        return self

    def _serve(self, host: str, handler: type, name: str) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer((host, 0), handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )
        thread.start()
        self._threads.append(thread)
        return server

    def stop(self) -> None:
        self.release.set()
        for server in (self._api, self._cdn):
            if server is not None:
                server.shutdown()
                server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeModelScope:
        return self.start()

    def __exit__(self, *args: object) -> None:
        self.stop()

    # -- inspection ----------------------------------------------------------------------------

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self.requests.append(entry)

    def file_requests(self, name: str | None = None) -> list[RequestRecord]:
        """Requests to the API's file endpoint (each LFS one is then redirected to the CDN)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.server == "api" and r.file is not None and (name is None or r.file == name)
            ]

    def cdn_requests(self, name: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [
                r for r in self.requests if r.server == "cdn" and (name is None or r.file == name)
            ]

    def listing_requests(self) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/repo/files")]

    # -- the CDN's signed URLs -----------------------------------------------------------------

    def signed_url(self, repo: FakeRepo, path: str, data: bytes) -> str:
        host, port = self.cdn_address
        owner, name = repo.repo_id.split("/", 1)
        object_path = (
            f"/modelscope-lfs/{quote(owner)}/{quote(name)}/{hashlib.sha256(data).hexdigest()}/"
            f"{quote(path, safe='')}"
        )
        expires = str(int(time.time()) + 3600)
        query = urlencode(
            {
                "Expires": expires,
                "OSSAccessKeyId": _ACCESS_KEY,
                "Signature": _signature(expires, object_path),
            }
        )
        return f"http://{host}:{port}{object_path}?{query}"

    def cdn_object(self, path: str) -> tuple[FakeRepo, str, bytes] | None:
        found = _CDN_PATH.match(path)
        if found is None:
            return None
        repo = self.repos.get(f"{unquote(found.group(1))}/{unquote(found.group(2))}".lower())
        if repo is None:
            return None
        wanted = found.group(3)
        for commits in repo.branches.values():
            for commit in commits:
                for data in commit.files.values():
                    if hashlib.sha256(data).hexdigest() == wanted:
                        return repo, unquote(found.group(4)), data
        return None

    def take(self, counter: dict[str, int], key: str) -> bool:
        """Use up one of ``counter[key]``; whether there was one."""
        with self._lock:
            left = counter.get(key, 0)
            if left <= 0:
                return False
            counter[key] = left - 1
            return True


def _signature(expires: str, object_path: str) -> str:
    text = f"GET\n\n\n{expires}\n{object_path}".encode()
    return base64.b64encode(hmac.new(_SIGNING_KEY, text, hashlib.sha1).digest()).decode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any
    name = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    @property
    def fake(self) -> FakeModelScope:
        return self.server.fake  # type: ignore[no-any-return]

    def do_HEAD(self) -> None:
        self._answer("HEAD")

    def do_GET(self) -> None:
        self._answer("GET")

    def _answer(self, method: str) -> None:
        raise NotImplementedError

    def _start(self, method: str) -> tuple[str, dict[str, str]]:
        url = urlparse(self.path)
        self._query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self._method = method
        self._url_path = url.path
        return url.path, self._query

    def _record(self, status: int, encoding: str | None = None) -> None:
        self.fake.record(
            RequestRecord(
                self.name,
                self._method,
                self._url_path,
                self._query,
                self.headers.get("Range"),
                {k.lower(): v for k, v in self.headers.items()},
                status,
                encoding,
            )
        )

    def _send_json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps({**body, "RequestId": str(uuid.uuid4())}, ensure_ascii=False).encode()
        encoding = None
        if "gzip" in self.headers.get("Accept-Encoding", ""):
            data, encoding = gzip.compress(data), "gzip"
        self._record(status, encoding)
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        if encoding:
            self.send_header("Content-Encoding", encoding)
            self.send_header("Vary", "Accept-Encoding")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self._method != "HEAD":
            self.wfile.write(data)

    def _send_html(self, status: int) -> None:
        reason = self.responses.get(status, ("Error",))[0]
        data = GATEWAY_HTML.format(status=status, reason=reason).encode()
        self._record(status)
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self._method != "HEAD":
            self.wfile.write(data)

    def _send_empty(self, status: int, headers: dict[str, str]) -> None:
        self._record(status)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # -- bodies --------------------------------------------------------------------------------

    def _send_bytes(
        self,
        name: str,
        data: bytes,
        *,
        honour_range: bool,
        chunked: bool,
        extra: dict[str, str] | None = None,
    ) -> None:
        """Serve ``data`` (or a range of it) with the faults set for ``name``."""
        faults = self.fake.faults
        start, status = 0, 200
        requested = self.headers.get("Range")
        found = re.fullmatch(r"bytes=(\d+)-(\d*)", (requested or "").strip())
        ranged = bool(found) and honour_range and not faults.ignore_range
        empty = name in faults.empty_always or self._use(faults.empty_once, name)
        if empty:
            data = b""
        end = len(data)
        if ranged and found:
            start = int(found.group(1))
            if found.group(2):
                end = min(end, int(found.group(2)) + 1)
            if start >= len(data):
                self._send_empty(416, {"Content-Range": f"bytes */{len(data)}"})
                return
            status = faults.range_status
        body = bytearray(data[start:end])
        if name in faults.corrupt_always or self._use(faults.corrupt_once, name):
            body[len(body) // 2] ^= 0xFF
        truncated = name in faults.truncate_always or self._use(faults.truncate_once, name)
        if truncated:
            body = body[: max(0, int(len(data) * TRUNCATE_AT) - start)]
            chunked = True
        headers = {"Content-Type": "application/octet-stream", **(extra or {})}
        if ranged:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
        if not chunked:
            # Announced in full even when the connection is going to be cut (drop_once).
            headers["Content-Length"] = str(end - start)
        self._record(status)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self._method == "HEAD":
            return
        try:
            self._stream(name, start, bytes(body), chunked)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True  # the client hung up (a cancel): that is fine

    def _use(self, names: set[str], name: str) -> bool:
        with self.fake._lock:
            if name in names:
                names.discard(name)
                return True
            return False

    def _write(self, data: bytes, chunked: bool) -> None:
        if not data:
            return
        if chunked:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        else:
            self.wfile.write(data)

    def _stream(self, name: str, start: int, body: bytes, chunked: bool) -> None:
        faults = self.fake.faults
        stop_at: int | None = None
        pause_at: int | None = None
        with self.fake._lock:
            drop = faults.drop_once.get(name)
            if drop is not None and start <= drop < start + len(body):
                stop_at = drop - start
                del faults.drop_once[name]
            pause = faults.pause_once.get(name)
            if pause is not None and start <= pause < start + len(body):
                pause_at = pause - start
                del faults.pause_once[name]
        sent = 0
        for chunk in _chunks(body):
            if pause_at is not None and sent <= pause_at < sent + len(chunk):
                head = pause_at - sent
                self._write(chunk[:head], chunked)
                self.wfile.flush()
                self.fake.stalling.set()
                self.fake.paused.set()
                self.fake.release.wait(timeout=20)
                self.fake.stalling.clear()
                chunk = chunk[head:]
                sent += head
                pause_at = None
            if stop_at is not None and sent + len(chunk) > stop_at:
                self._write(chunk[: stop_at - sent], chunked)
                self.wfile.flush()
                if faults.down_after_drop:
                    faults.hub_down = True
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._write(chunk, chunked)
            sent += len(chunk)
            if faults.chunk_delay:
                time.sleep(faults.chunk_delay)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _ApiHandler(_Handler):
    name = "api"

    def _answer(self, method: str) -> None:
        path, query = self._start(method)
        fake = self.fake
        faults = fake.faults
        if faults.hub_down:
            self._send_html(503)
            return
        match = _MODEL_PATH.match(path)
        if match is None:
            self._send_json(404, {"Code": 404, "Message": f"no route {path}", "Success": False})
            return
        kind = {"/repo/files": "listing", "/repo": "file"}.get(match.group(3) or "", "other")
        if fake.take(faults.rate_limited, kind):
            self._send_json(429, RATE_LIMITED_BODY, {"Retry-After": str(faults.retry_after)})
            return
        if fake.take(faults.gateway_errors, kind):
            self._send_html(502)
            return
        repo = fake.repos.get(f"{unquote(match.group(1))}/{unquote(match.group(2))}".lower())
        if repo is None:
            self._send_json(404, UNKNOWN_MODEL_BODY)
            return
        if match.group(3) is None:
            data = {"Path": repo.repo_id.split("/")[0], "Name": repo.repo_id.split("/")[1]}
            self._send_json(200, {"Code": 200, "Data": data, "Message": "success", "Success": True})
        elif match.group(3) == "/revisions":
            self._send_revisions(repo)
        elif match.group(3) == "/repo/files":
            history = repo.history(query.get("Revision") or "master")
            files = repo.listing(history) if history else None
            self._send_json(
                200, {"Code": 200, "Data": {"Files": files}, "Message": "success", "Success": True}
            )
        else:
            self._send_file(repo, query.get("Revision") or "master", query.get("FilePath", ""))

    def _send_revisions(self, repo: FakeRepo) -> None:
        def detail(name: str, commit: Commit) -> dict[str, Any]:
            return {"Revision": name, "CreatedAt": commit.date, "CommitId": commit.id}

        data = {
            "RevisionMap": {
                "Branches": [detail(n, c[-1]) for n, c in repo.branches.items()],
                "Tags": [detail(n, c) for n, c in repo.tags.items()],
            }
        }
        self._send_json(200, {"Code": 200, "Data": data, "Message": "success", "Success": True})

    def _send_file(self, repo: FakeRepo, revision: str, path: str) -> None:
        faults = self.fake.faults
        history = repo.history(revision)
        if faults.refuse_commit_ids and _COMMIT_ID.match(revision):
            history = None
        data = history[-1].files.get(path) if history else None
        if data is None:
            self._send_json(404, MISSING_FILE_BODY)
            return
        if repo.is_lfs(path):
            location = self.fake.signed_url(repo, path, data)
            self._send_empty(302, {"Location": location})
            return
        self._send_bytes(path, data, honour_range=False, chunked=True)


class _CdnHandler(_Handler):
    name = "cdn"

    def _answer(self, method: str) -> None:
        path, query = self._start(method)
        if self.headers.get("Authorization"):
            self._send_oss_error(
                400, "InvalidArgument", "Only one auth mechanism allowed; Authorization found."
            )
            return
        expires = query.get("Expires", "")
        expected = _signature(expires, path)
        if not hmac.compare_digest(query.get("Signature", ""), expected):
            self._send_oss_error(403, "SignatureDoesNotMatch", "The request signature is wrong.")
            return
        if not expires.isdigit() or int(expires) < time.time():
            self._send_oss_error(403, "AccessDenied", "Request has expired.")
            return
        found = self.fake.cdn_object(path)
        if found is None:
            self._send_oss_error(404, "NoSuchKey", "The specified key does not exist.")
            return
        _repo, name, data = found
        digest = hashlib.sha256(data).hexdigest()
        extra = {
            "Accept-Ranges": "bytes",
            "ETag": f'"{hashlib.md5(data).hexdigest().upper()}"',
            "X-Linked-ETag": f'"{digest}"',
            "x-oss-request-id": uuid.uuid4().hex[:24].upper(),
        }
        self._send_bytes(name, data, honour_range=True, chunked=False, extra=extra)

    def _send_oss_error(self, status: int, code: str, message: str) -> None:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
            f"  <Code>{code}</Code>\n  <Message>{message}</Message>\n"
            f"  <RequestId>{uuid.uuid4().hex[:24].upper()}</RequestId>\n</Error>\n"
        ).encode()
        self._record(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self._method != "HEAD":
            self.wfile.write(body)


def _chunks(data: bytes) -> Iterator[bytes]:
    for offset in range(0, len(data), CHUNK):
        yield data[offset : offset + CHUNK]


# ----------------------------------------------------------------------------------------------
# Fake model repos
# ----------------------------------------------------------------------------------------------

CONFIG = {
    "architectures": ["Qwen3VLForConditionalGeneration"],
    "model_type": "qwen3_vl",
    "image_token_id": 151655,
    "video_token_id": 151656,
    "text_config": {"model_type": "qwen3_vl_text", "hidden_size": 64, "num_hidden_layers": 1},
    "vision_config": {"model_type": "qwen3_vl", "patch_size": 16, "depth": 1},
}
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
)
#: The .gitattributes a Hugging Face repo starts with (ModelScope copies it).
GITATTRIBUTES = b"".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n".encode()
    for pattern in ("*.bin", "*.safetensors", "*.pt", "*.pth", "*.onnx", "tokenizer.json")
)


def safetensors_bytes(
    shape: tuple[int, int] = (512, 1024), seed: int = 0, prefix: str = ""
) -> bytes:
    """A real safetensors file of float32 random numbers (512x1024 is 2 MiB)."""
    rng = np.random.default_rng(seed)
    tensors = {
        f"{prefix}model.embed.weight": rng.standard_normal(shape, dtype=np.float32),
        f"{prefix}model.norm.weight": np.ones(shape[1], dtype=np.float32),
    }
    return bytes(save_safetensors(tensors))


def model_files(weights: bytes | None = None, *, extras: bool = True) -> dict[str, bytes]:
    """The files of a small fake Qwen3-VL repo; ``extras`` adds ones a download must skip."""
    files: dict[str, bytes] = {
        "config.json": json.dumps(CONFIG).encode(),
        "generation_config.json": json.dumps({"do_sample": False}).encode(),
        "configuration.json": json.dumps({"framework": "pytorch"}).encode(),
        "model.safetensors": weights if weights is not None else safetensors_bytes(),
        "tokenizer.json": json.dumps({"version": "1.0", "model": {"type": "BPE"}}).encode(),
        "tokenizer_config.json": json.dumps({"model_max_length": 32768}).encode(),
        "vocab.json": json.dumps({"a": 0, "b": 1}).encode(),
        "merges.txt": b"#version: 0.2\na b\n",
        "preprocessor_config.json": json.dumps({"patch_size": 16, "merge_size": 2}).encode(),
        "video_preprocessor_config.json": json.dumps({"patch_size": 16}).encode(),
        "chat_template.jinja": CHAT_TEMPLATE.encode(),
    }
    if extras:
        files.update(
            {
                "pytorch_model.bin": b"\x80\x02not really a pickle" * 100,
                "modeling_qwen.py": b"print('never downloaded')\n",
                "README.md": b"# fake\n",
                ".gitattributes": GITATTRIBUTES,
                "onnx/model.json": b"{}",
            }
        )
    return files


#: The 13 files of Qwen/Qwen3-VL-2B-Instruct on ModelScope: the 12 of the Hugging Face repo
#: plus the configuration.json ModelScope adds.
QWEN3_VL_2B_FILES = (
    ".gitattributes",
    "README.md",
    "chat_template.json",
    "config.json",
    "configuration.json",
    "generation_config.json",
    "merges.txt",
    "model.safetensors",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "video_preprocessor_config.json",
    "vocab.json",
)


def qwen3_vl_2b_files(readme: bytes = b"# Qwen3-VL-2B-Instruct\n") -> dict[str, bytes]:
    """The repo's 13 files: the real ones from ``../shared/real-models``, stand-ins for the rest
    (the test is skipped when the real files are not there).

    The weights (4.3 GB) and tokenizer.json (not gathered) are small stand-ins; README.md,
    .gitattributes and configuration.json are written as those repos have them.
    """
    real = reference(Family.QWEN3_VL)
    files = {p.name: p.read_bytes() for p in sorted(real.iterdir()) if p.is_file()}
    files.update(
        {
            ".gitattributes": GITATTRIBUTES,
            "README.md": readme,
            "configuration.json": json.dumps(
                {"framework": "pytorch", "task": "image-text-to-text", "allow_remote": True}
            ).encode(),
            "model.safetensors": safetensors_bytes(),
            "tokenizer.json": json.dumps({"version": "1.0", "model": {"type": "BPE"}}).encode(),
        }
    )
    assert sorted(files) == sorted(QWEN3_VL_2B_FILES), sorted(files)
    return files


def add_qwen3_vl_2b(hub: FakeModelScope) -> FakeRepo:
    """Qwen/Qwen3-VL-2B-Instruct as ModelScope holds it: an upload, then a README change.

    So the listing's per-file ``Revision`` differs between files, as it does on the service.
    """
    repo = hub.add_repo("Qwen/Qwen3-VL-2B-Instruct", qwen3_vl_2b_files())
    repo.push(
        {"README.md": b"# Qwen3-VL-2B-Instruct\n\nUpdated.\n"}, "Update README.md", replace=False
    )
    return repo


def sharded_files(shards: int = 2) -> dict[str, bytes]:
    """A fake repo with sharded weights and a ``model.safetensors.index.json``."""
    files = model_files(extras=False)
    del files["model.safetensors"]
    weight_map: dict[str, str] = {}
    for number in range(1, shards + 1):
        name = f"model-{number:05d}-of-{shards:05d}.safetensors"
        files[name] = safetensors_bytes((64, 64), seed=number, prefix=f"s{number}.")
        weight_map[f"s{number}.model.embed.weight"] = name
        weight_map[f"s{number}.model.norm.weight"] = name
    index = {"metadata": {"total_size": 0}, "weight_map": weight_map}
    files["model.safetensors.index.json"] = json.dumps(index).encode()
    return files


def write_folder(folder: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` into ``folder`` (created), as a model folder the user already has."""
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = [
    "QWEN3_VL_2B_FILES",
    "FakeModelScope",
    "FakeRepo",
    "Faults",
    "RequestRecord",
    "add_qwen3_vl_2b",
    "model_files",
    "qwen3_vl_2b_files",
    "safetensors_bytes",
    "sha256",
    "sharded_files",
    "write_folder",
]
