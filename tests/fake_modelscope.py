"""A local stand-in for the ModelScope API that modelscope_hub's downloader calls, with faults.

It answers, on 127.0.0.1 and an ephemeral port:

* ``GET /api/v1/models/{owner}/{name}/repo/files?Revision=..&Recursive=..`` — the file listing
  (``Path``, ``Name``, ``Type``, ``Size``, ``Sha256``, ``CommitId``, ``CommittedDate``), as the
  legacy client's ``list_repo_files`` reads it;
* ``GET /api/v1/models/{owner}/{name}/repo?Revision=..&FilePath=..`` — a file's bytes, honouring
  ``Range: bytes=N-`` with ``206`` and ``Content-Range`` (``416`` past the end);
* ``GET /api/v1/models/{owner}/{name}`` — repository info;
* ``GET /cdn/{owner}/{name}?FilePath=..`` — where file requests are redirected (302) when
  ``redirect`` is on, as the real hub sends LFS files to its CDN;
* anything else (the client's region probe ``/api/v1/repos/internalAccelerationInfo``
  included): ``404``.

Unknown models and revisions get ``404``; ``hub_down`` makes every call answer ``503``. Faults
for file downloads: drop the connection at an offset once, flip a byte once, stall at an offset
until released (or until the client hangs up), throttle, ignore ``Range``.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import numpy as np
from safetensors.numpy import save as save_safetensors

CHUNK = 64 * 1024
COMMIT = "0123456789abcdef0123456789abcdef01234567"
_MODEL_PATH = re.compile(r"^/api/v1/models/([^/]+)/([^/]+)(/repo(/files)?)?/?$")


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    range: str | None

    @property
    def file(self) -> str | None:
        return self.query.get("FilePath")


@dataclass
class Faults:
    #: file name -> byte offset: the first response carrying that offset is cut off there.
    drop_once: dict[str, int] = field(default_factory=dict)
    #: After a drop, answer 503 to everything (the hub went down mid-download).
    down_after_drop: bool = False
    #: File names whose next response has one byte flipped.
    corrupt_once: set[str] = field(default_factory=set)
    #: File names whose every response has one byte flipped.
    corrupt_always: set[str] = field(default_factory=set)
    #: file name -> byte offset: the first response stalls there until ``release`` is set.
    pause_once: dict[str, int] = field(default_factory=dict)
    #: Every request answers 503.
    hub_down: bool = False
    #: Serve the whole file with 200 whatever the Range header says.
    ignore_range: bool = False
    #: Seconds to sleep between 64 KiB chunks.
    chunk_delay: float = 0.0
    #: Answer file requests with a 302 to a "CDN" path, as the real hub does for LFS files.
    redirect: bool = False


@dataclass
class FakeRepo:
    repo_id: str
    files: dict[str, bytes]
    revision: str = "master"
    commit: str = COMMIT


class FakeModelScope:
    """The fake hub; use as a context manager, then point the client at :attr:`endpoint`."""

    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.faults = Faults()
        self.requests: list[RequestRecord] = []
        #: Set when a ``pause_once`` response reaches its offset; the test then acts.
        self.paused = threading.Event()
        #: Set by the test (or on stop) to let a paused response go on.
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- set-up --------------------------------------------------------------------------------

    def add_repo(self, repo_id: str, files: dict[str, bytes], revision: str = "master") -> FakeRepo:
        repo = FakeRepo(repo_id, dict(files), revision)
        self.repos[repo_id.lower()] = repo
        return repo

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "the fake hub is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeModelScope:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-modelscope"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeModelScope:
        return self.start()

    def __exit__(self, *args: object) -> None:
        self.stop()

    # -- inspection ----------------------------------------------------------------------------

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self.requests.append(entry)

    def file_requests(self, name: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [
                r for r in self.requests if r.file is not None and (name is None or r.file == name)
            ]

    def listing_requests(self) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/repo/files")]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    @property
    def fake(self) -> FakeModelScope:
        return self.server.fake  # type: ignore[no-any-return]

    def do_HEAD(self) -> None:
        self._send_json(404, {"Code": 404, "Message": "not found"})

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.fake.record(RequestRecord("GET", url.path, query, self.headers.get("Range")))
        if self.fake.faults.hub_down:
            self._send_json(503, {"Code": 503, "Message": "Service Unavailable"})
            return
        if url.path.startswith("/cdn/"):
            repo = self.fake.repos.get(unquote(url.path[len("/cdn/") :]).lower())
            if repo is None:
                self._send_json(404, {"Code": 404, "Message": "no such object"})
            else:
                self._send_file(repo, query.get("FilePath", ""))
            return
        match = _MODEL_PATH.match(url.path)
        if match is None:
            self._send_json(404, {"Code": 404, "Message": f"no route {url.path}"})
            return
        repo_id = f"{unquote(match.group(1))}/{unquote(match.group(2))}"
        repo = self.fake.repos.get(repo_id.lower())
        if repo is None:
            self._send_json(404, {"Code": 404, "Message": f"Model {repo_id} not found"})
            return
        if match.group(3) is None:
            self._send_json(200, {"Code": 200, "Data": {"Path": repo_id, "Name": repo_id}})
            return
        revision = query.get("Revision", "master")
        if revision not in (repo.revision, repo.commit):
            self._send_json(404, {"Code": 404, "Message": f"Revision {revision} not found"})
            return
        if match.group(4):
            self._send_listing(repo)
        elif self.fake.faults.redirect:
            self.send_response(302)
            self.send_header("Location", f"/cdn/{repo.repo_id}?{url.query}")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send_file(repo, query.get("FilePath", ""))

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_listing(self, repo: FakeRepo) -> None:
        files = [
            {
                "Name": name.rsplit("/", 1)[-1],
                "Path": name,
                "Type": "blob",
                "Size": len(data),
                "Sha256": hashlib.sha256(data).hexdigest(),
                "CommitId": repo.commit,
                "CommittedDate": 1_735_689_600,
                "Revision": repo.commit,
                "IsLFS": name.endswith(".safetensors"),
            }
            for name, data in sorted(repo.files.items())
        ]
        self._send_json(200, {"Code": 200, "Data": {"Files": files}, "Success": True})

    def _send_file(self, repo: FakeRepo, name: str) -> None:
        faults = self.fake.faults
        data = repo.files.get(name)
        if data is None:
            self._send_json(404, {"Code": 404, "Message": f"File {name} not found"})
            return
        start, status = 0, 200
        requested = self.headers.get("Range")
        if requested and not faults.ignore_range:
            found = re.fullmatch(r"bytes=(\d+)-", requested.strip())
            if found:
                start = int(found.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
        body = bytearray(data[start:])
        if name in faults.corrupt_once or name in faults.corrupt_always:
            faults.corrupt_once.discard(name)
            body[len(body) // 2] ^= 0xFF
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        try:
            self._stream(name, start, bytes(body))
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True  # the client hung up (a cancel): that is fine

    def _stream(self, name: str, start: int, body: bytes) -> None:
        faults = self.fake.faults
        stop_at: int | None = None
        drop = faults.drop_once.get(name)
        if drop is not None and start <= drop < start + len(body):
            stop_at = drop - start
            del faults.drop_once[name]
        pause_at: int | None = None
        pause = faults.pause_once.get(name)
        if pause is not None and start <= pause < start + len(body):
            pause_at = pause - start
            del faults.pause_once[name]
        sent = 0
        for chunk in _chunks(body):
            if pause_at is not None and sent <= pause_at < sent + len(chunk):
                head = pause_at - sent
                self.wfile.write(chunk[:head])
                self.wfile.flush()
                self.fake.paused.set()
                self.fake.release.wait(timeout=20)
                chunk = chunk[head:]
                sent += head
                pause_at = None
            if stop_at is not None and sent + len(chunk) > stop_at:
                self.wfile.write(chunk[: stop_at - sent])
                self.wfile.flush()
                if faults.down_after_drop:
                    faults.hub_down = True
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(chunk)
            sent += len(chunk)
            if faults.chunk_delay:
                time.sleep(faults.chunk_delay)
        self.wfile.flush()


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
                ".gitattributes": b"*.safetensors filter=lfs\n",
                "onnx/model.json": b"{}",
            }
        )
    return files


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
    "COMMIT",
    "FakeModelScope",
    "Faults",
    "RequestRecord",
    "model_files",
    "safetensors_bytes",
    "sha256",
    "sharded_files",
    "write_folder",
]
