"""Servers' model lists, asked for in the background; only the latest request's answer counts."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal, Slot

from vldesk.core.errors import VldeskError
from vldesk.core.inference.remote import Endpoint
from vldesk.core.messages import message_of
from vldesk.gui.workers.background import BackgroundRunner
from vldesk.gui.workers.remote import list_models

#: One server's answer: its address and its models, or why it gave none (a core message).
ServerModels = tuple[str, list[str] | str]


class ModelListing(QObject):
    """Asks servers for their models on a background thread, one server after another.

    Signals:
        listed(list[ServerModels]): the answers of the latest :meth:`start`, in its order;
            none comes for a listing that :meth:`forget` or a newer :meth:`start` outdated.
    """

    listed = Signal(object)
    _answered = Signal(int, object)

    def __init__(self, thread_name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = BackgroundRunner(thread_name)
        self._cancels: list[threading.Event] = []
        self._latest = 0  # the latest listing's number: older answers are dropped
        self._answered.connect(self._on_answered)

    def start(self, endpoints: Sequence[Endpoint]) -> None:
        self._latest += 1
        number = self._latest

        def ask(cancel: threading.Event) -> None:
            answers: list[ServerModels] = []
            for endpoint in endpoints:
                try:
                    answers.append((endpoint.display, list_models(endpoint)))
                except VldeskError as exc:
                    answers.append((endpoint.display, message_of(exc)))
                if cancel.is_set():
                    return
            self._answered.emit(number, answers)

        self._cancels.append(self._runner.start(ask))

    def forget(self) -> None:
        """What is still being asked no longer counts (the addresses changed)."""
        self._latest += 1

    def stop(self) -> None:
        """Stop waiting for answers (the dialog is closing); never blocks."""
        self._latest += 1
        self._runner.shut_down(self._cancels, timeout=0)

    @Slot(int, object)
    def _on_answered(self, number: int, answers: list[ServerModels]) -> None:
        if number == self._latest:
            self.listed.emit(answers)
