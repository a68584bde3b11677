"""Telling running out of memory from other failures: by type first, by the allocator's words."""

from __future__ import annotations

import errno
from collections.abc import Callable

import pytest

from vldesk.core.inference.memory_errors import is_out_of_memory

torch = pytest.importorskip("torch")


def raised_by(action: Callable[[], object]) -> BaseException:
    try:
        action()
    except BaseException as exc:
        return exc
    raise AssertionError(f"{action} raised nothing")


def test_the_cpu_allocator_refusing_a_request_is_out_of_memory() -> None:
    # A real failure, not a copy of its words: no machine has 4 EiB to give.
    refused = raised_by(lambda: torch.empty(2**62, dtype=torch.uint8))
    assert is_out_of_memory(refused)


@pytest.mark.parametrize(
    "error",
    [
        torch.OutOfMemoryError(),
        torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
        MemoryError(),
        OSError(errno.ENOMEM, "Cannot allocate memory"),
    ],
    ids=repr,
)
def test_memory_error_types_count_whatever_they_say(error: BaseException) -> None:
    assert is_out_of_memory(error)


@pytest.mark.parametrize(
    "message",
    [
        "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: "
        "you tried to allocate 1073741824 bytes.",
        "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
        "memory: you tried to allocate 8 bytes. Error code 12 (Cannot allocate memory)",
        "MPS backend out of memory (MPS allocated: 17.00 GB, other allocations: 1.00 GB)",
    ],
)
def test_a_runtime_error_in_the_allocators_words_counts(message: str) -> None:
    assert is_out_of_memory(RuntimeError(message))


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)"),
        OSError(errno.ENOENT, "No such file or directory"),
        ValueError("max_memory must name a device"),
    ],
    ids=repr,
)
def test_other_failures_do_not_count(error: BaseException) -> None:
    assert not is_out_of_memory(error)


def test_an_out_of_memory_error_inside_another_counts() -> None:
    def load() -> None:
        try:
            raise torch.OutOfMemoryError
        except RuntimeError as exc:
            raise OSError("Unable to load weights from model.safetensors") from exc

    assert is_out_of_memory(raised_by(load))


def test_an_error_raised_while_handling_one_counts_unless_it_hides_it() -> None:
    def while_handling(hide: bool) -> None:
        try:
            raise MemoryError
        except MemoryError:
            if hide:
                raise ValueError("a different problem") from None
            raise ValueError("a different problem")  # noqa: B904

    assert is_out_of_memory(raised_by(lambda: while_handling(hide=False)))
    assert not is_out_of_memory(raised_by(lambda: while_handling(hide=True)))
