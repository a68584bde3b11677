"""One app per user: a second launch hands its files to the running window and exits.

The running app listens on a local socket in the user's runtime folder (one per vldesk data
folder, so a portable ``VLDESK_HOME`` gets its own). A second launch connects, sends the paths
as one JSON line, waits for the answer and exits; the first opens them and comes to the front.
One model in memory, one writer of the history database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

#: Set to 1 to start a separate app even when one is running (tests, benchmarks, debugging).
NEW_INSTANCE_ENV = "VLDESK_NEW_INSTANCE"
#: How long a second launch waits for the running app to connect and to answer.
HAND_OVER_TIMEOUT_MS = 3000
#: Longest message a second launch may send (paths of a large selection).
_MAX_MESSAGE = 1 << 20
_ANSWER = b"ok\n"


def server_name(data_dir: Path) -> str:
    """The socket's path: in the user's runtime folder, one per vldesk data folder.

    A full path keeps it out of the shared /tmp; the hash keeps it short (sockets allow about
    100 bytes) and tells portable installs apart.
    """
    digest = hashlib.sha256(str(data_dir.resolve()).encode("utf-8")).hexdigest()[:16]
    name = f"vldesk-{digest}"
    if sys.platform == "win32":
        return name  # a named pipe, private to the user's session
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and Path(runtime).is_dir():
        return str(Path(runtime) / f"{name}.sock")
    # No runtime folder (macOS, a bare session): the temporary folder, the user's id in the
    # name; the socket itself is readable by its owner only (UserAccessOption).
    return str(Path(tempfile.gettempdir()) / f"{name}-{os.getuid()}.sock")


class HandOver(Enum):
    """What became of a second launch's paths."""

    #: The running app took them: this launch exits.
    DELIVERED = "delivered"
    #: No app listens: this launch becomes the app.
    NO_APP = "no app"
    #: An app listens but did not answer in time: this launch says so and exits (starting a
    #: second app beside it would load a second model).
    NO_ANSWER = "no answer"


def hand_over(name: str, paths: list[str], timeout_ms: int = HAND_OVER_TIMEOUT_MS) -> HandOver:
    """Give ``paths`` to the app listening on ``name``.

    Paths are made absolute here: the running app has its own working folder.
    """
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return HandOver.NO_APP
    message = json.dumps({"open": [str(Path(p).absolute()) for p in paths]}) + "\n"
    socket.write(message.encode("utf-8"))
    answer = b""
    if socket.waitForBytesWritten(timeout_ms):
        while not answer.endswith(b"\n") and socket.waitForReadyRead(timeout_ms):
            answer += bytes(socket.readAll().data())
    socket.abort()
    return HandOver.DELIVERED if answer == _ANSWER else HandOver.NO_ANSWER


class InstanceServer(QObject):
    """Listens for later launches; emits :attr:`paths_received` with the paths each sends.

    Signals:
        paths_received(list): the paths a later launch asked to open (possibly empty: then it
            only asks for the window).
    """

    paths_received = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        #: What each connected launch has sent so far, by the socket's id.
        self._buffers: dict[int, bytes] = {}

    def listen(self) -> bool:
        """Start listening; a socket left by a crashed app is removed first. False on failure
        (the app then runs alone without it)."""
        if self._server.listen(self.name):
            log.info("listening for other launches on %s", self.name)
            return True
        # Called after a hand-over found no app: a socket file left there is stale.
        QLocalServer.removeServer(self.name)
        if self._server.listen(self.name):
            log.info("listening for other launches on %s (a stale socket was removed)", self.name)
            return True
        log.warning(
            "cannot listen for other launches on %s: %s", self.name, self._server.errorString()
        )
        return False

    def close(self) -> None:
        """Stop listening (the app is closing)."""
        self._server.close()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._buffers[id(socket)] = b""
            # Bound methods, not lambdas holding self: no reference cycle outlives the app.
            socket.readyRead.connect(self._read)
            socket.disconnected.connect(self._forget)

    def _forget(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._buffers.pop(id(socket), None)
            socket.deleteLater()

    def _read(self) -> None:
        socket = self.sender()
        if not isinstance(socket, QLocalSocket):
            return
        data = self._buffers.get(id(socket), b"") + bytes(socket.readAll().data())
        if len(data) > _MAX_MESSAGE:
            log.warning("a message from another launch was too long: ignored")
            socket.abort()
            return
        self._buffers[id(socket)] = data
        if not data.endswith(b"\n"):
            return
        paths = _paths_of(data)
        socket.write(_ANSWER)
        socket.flush()
        if paths is not None:
            log.info("another launch asked to open %d path(s)", len(paths))
            self.paths_received.emit(paths)


def _paths_of(data: bytes) -> list[str] | None:
    try:
        message = json.loads(data.decode("utf-8"))
        paths = message["open"]
    except (ValueError, KeyError, TypeError):
        log.warning("ignored a malformed message from another launch")
        return None
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        return None
    return paths
