"""The inference client passes on exactly the worker's signals (declared twice on purpose)."""

from __future__ import annotations

from PySide6.QtCore import QMetaMethod, QMetaObject, QObject

from vldesk.gui.workers.inference import InferenceWorker
from vldesk.gui.workers.inference_client import InferenceClient


def declared_signals(cls: type[QObject]) -> set[str]:
    """The signatures (``name(types)``) of the signals ``cls`` itself declares, not QObject's;
    the client's own request signals (``_name``) are left out."""
    meta: QMetaObject = cls.staticMetaObject  # type: ignore[attr-defined]  # not in the stubs
    signatures = set()
    for index in range(meta.methodOffset(), meta.methodCount()):
        method = meta.method(index)
        if method.methodType() == QMetaMethod.MethodType.Signal:
            signature = bytes(method.methodSignature().data()).decode()
            if not signature.startswith("_"):
                signatures.add(signature)
    return signatures


def test_the_client_declares_exactly_the_workers_signals_with_the_same_types() -> None:
    # The client re-declares the worker's signals rather than handing them out (a pass-through
    # connection avoids PySide's per-emit cost): a signal added to one must be added to both.
    worker = declared_signals(InferenceWorker)
    assert "text_chunk(int,QString)" in worker
    assert declared_signals(InferenceClient) == worker
