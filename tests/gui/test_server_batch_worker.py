"""The server batch's worker: a batch on servers runs on its own thread and always reports its
end, even one cancelled before its turn came."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from vldesk.core.batch import BatchControl, BatchOptions
from vldesk.core.inference.remote import Endpoint
from vldesk.gui.workers.failure import FailureKind
from vldesk.gui.workers.remote import ServerTarget
from vldesk.gui.workers.server_batch import ServerBatchWorker

#: Nothing listens there: a batch that tried to connect would fail, not be cancelled.
NOWHERE = ServerTarget((Endpoint.parse("http://127.0.0.1:9/v1"),), concurrency=1)


def test_a_batch_cancelled_before_it_starts_still_says_it_ended(
    qtbot: QtBot, tmp_path: Path
) -> None:
    worker = ServerBatchWorker()
    control = BatchControl()
    control.cancel()
    options = BatchOptions(folder=tmp_path, prompt="Describe.", model="served-model")
    with qtbot.waitSignal(worker.batch_failed, timeout=10_000) as failed:
        request_id = worker.run_batch(options, control, NOWHERE)
    got_id, failure = failed.args
    assert got_id == request_id
    assert failure.kind is FailureKind.CANCELLED
    assert worker.shut_down()
    assert not worker.busy


def test_batches_carry_their_own_ids_and_an_unreachable_server_fails_the_batch(
    qtbot: QtBot, tmp_path: Path
) -> None:
    worker = ServerBatchWorker()
    options = BatchOptions(folder=tmp_path, prompt="Describe.", model="served-model")
    seen: list[int] = []
    worker.batch_failed.connect(lambda request_id, _failure: seen.append(request_id))
    first = worker.run_batch(options, BatchControl(), NOWHERE)
    second = worker.run_batch(options, BatchControl(), NOWHERE)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=30_000)
    assert first != second
    assert sorted(seen) == sorted([first, second])  # each said it ended, under its own id
    assert worker.shut_down()
