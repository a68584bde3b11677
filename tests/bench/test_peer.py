"""``vldesk bench --peer llama.cpp``: the comparison's arithmetic and table, and a clear message
when llama.cpp is not installed. (The measurement itself is a benchmark, never a timed test.)"""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from vldesk.bench.llama_cpp import INSTALL_HINT, llama_cpp_version
from vldesk.bench.peer import format_comparison, ratio
from vldesk.bench.peer_measure import prompt_ids
from vldesk.cli import run_cli


def test_advantage_is_above_one_when_vldesk_is_better_either_way() -> None:
    assert ratio(10.0, 5.0, higher_is_better=True) == 2.0  # twice the tokens per second
    assert ratio(2.0, 4.0, higher_is_better=False) == 2.0  # half the seconds or bytes
    assert ratio(0.0, 5.0, higher_is_better=True) is None  # a failed or missing figure
    assert ratio(None, 5.0, higher_is_better=True) is None


def test_the_table_shows_both_engines_per_precision_and_failures() -> None:
    result: dict[str, Any] = {
        "llama_cpp_version": "0.3.36",
        "rows": [
            {
                "vldesk": "int8",
                "llama_cpp": "Q8_0",
                "ours": {
                    "decode_cached_tokens_per_s": 12.0,
                    "peak_rss_bytes": 3e9,
                    "image_tokens": 1024,
                },
                "peer": {
                    "decode_cached_tokens_per_s": 10.0,
                    "peak_rss_bytes": 2e9,
                    "image_tokens": 1024,
                },
            },
            {
                "vldesk": "int4",
                "llama_cpp": "Q4_K_M",
                "ours": {"decode_cached_tokens_per_s": 9.0},
                "peer": {"error": "llama.cpp Q4_K_M failed: Traceback\nValueError: no projector"},
            },
        ],
    }
    table = format_comparison(result)
    assert "int8 weights against Q8_0" in table
    decode = next(line for line in table.splitlines() if line.startswith("decode, ~1,000"))
    assert decode.split()[-3:] == ["12.00", "10.00", "1.20x"]
    memory = next(line for line in table.splitlines() if line.startswith("peak memory"))
    assert memory.split()[-3:] == ["3.00", "2.00", "0.67x"]
    assert "  ValueError: no projector" in table  # the cause, not the traceback's first line


def test_the_same_prompt_ids_for_both_engines() -> None:
    assert prompt_ids(50, 151_936) == prompt_ids(50, 151_936)
    assert all(1000 <= token < 150_000 for token in prompt_ids(500, 151_936))
    assert all(0 <= token < 300 for token in prompt_ids(50, 300))  # a tiny vocabulary


def test_without_llama_cpp_the_command_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_import = builtins.__import__

    def no_llama(name: str, *args: Any, **kwargs: Any) -> Any:
        if name in ("llama_cpp", "gguf"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_llama)
    with pytest.raises(Exception, match="llama-cpp-python"):
        llama_cpp_version()
    assert run_cli(["bench", "--peer", "llama.cpp"]) == 1
    err = capsys.readouterr().err
    assert INSTALL_HINT in err
    assert "Preparing" not in err  # said before any model is built
