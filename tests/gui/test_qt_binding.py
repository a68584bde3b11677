"""The Qt binding itself: faults of a PySide6 release that would take the app down."""

from __future__ import annotations

import subprocess
import sys

# Emits bool and object signals from Python as the workers do, many times, and reports how the
# reference counts of True and False moved. PySide6 6.12.0 loses one reference per emit and the
# process aborts ("bool_dealloc: deallocating True") after enough of them.
EMITS = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class Emitter(QObject):
    flag = Signal(bool)
    pair = Signal(int, object)
emitter = Emitter()
emitter.flag.connect(lambda value: None)
emitter.pair.connect(lambda request, value: None)
before = sys.getrefcount(True), sys.getrefcount(False)
for _ in range(50_000):
    emitter.flag.emit(True)
    emitter.flag.emit(False)
    emitter.pair.emit(1, True)
print(sys.getrefcount(True) - before[0], sys.getrefcount(False) - before[1])
"""


def test_emitting_bools_keeps_their_reference_counts() -> None:
    result = subprocess.run(
        [sys.executable, "-c", EMITS], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["0", "0"]
