"""``vldesk bench --peer llama.cpp``: the comparison's arithmetic and table, and a clear message
when llama.cpp is not installed. (The measurement itself is a benchmark, never a timed test.)"""

from __future__ import annotations

import builtins
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from vldesk.bench import peer
from vldesk.bench.llama_cpp import INSTALL_HINT, llama_cpp_version
from vldesk.bench.peer import format_comparison, ratio
from vldesk.bench.peer_measure import PeerSpec, _text_of, prompt_ids
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


def test_vldesk_s_llama_cpp_engine_is_measured_on_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "gguf" / "model"
    files = {kind: folder / f"model-{kind}.gguf" for kind in ("F16", "Q4_K_M")}
    specs: list[PeerSpec] = []

    def run_measurement(spec: PeerSpec) -> dict[str, Any]:
        specs.append(spec)
        return {"prefill_tokens": 1003} if spec.engine == "vldesk" else {}

    monkeypatch.setattr(peer, "gguf_files", lambda *_args: (files, folder / "mmproj-F16.gguf"))
    monkeypatch.setattr(peer, "run_measurement", run_measurement)
    monkeypatch.setattr(peer, "llama_cpp_version", lambda: "0.3.36")
    result = peer.compare(tmp_path / "model", tmp_path, square_image=None, formats=["int4"])
    assert [(s.engine, s.weights) for s in specs] == [
        ("vldesk", "int4"),
        ("llama.cpp", "Q4_K_M"),
        ("vldesk-llama.cpp", "int4"),  # the engine picks Q4_K_M from the folder by its bits
    ]
    transformers, llama, engine = specs
    assert llama.prompt_tokens == 1003  # as many as vldesk's chat template gave
    assert (engine.model_dir, engine.gguf) == (str(folder), str(files["Q4_K_M"]))
    assert engine.prompt_tokens == transformers.prompt_tokens == 1000
    assert set(result["rows"][0]) == {"vldesk", "llama_cpp", "ours", "peer", "engine"}
    assert set(peer.MEASURES) == {spec.engine for spec in specs}


def test_the_table_shows_the_engine_against_llama_cpp() -> None:
    row: dict[str, Any] = {
        "vldesk": "full",
        "llama_cpp": "F16",
        "ours": {"decode_cached_tokens_per_s": 6.0},
        "peer": {"decode_cached_tokens_per_s": 12.0, "image_first_token_s": 50.0},
        "engine": {"decode_cached_tokens_per_s": 11.4, "image_first_token_s": 52.0},
    }
    table = format_comparison({"llama_cpp_version": "0.3.36", "rows": [row]})
    lines = table.splitlines()
    start = lines.index("vldesk's llama.cpp engine on the same F16 file")
    decode = [line for line in lines if line.startswith("decode, ~1,000")]
    assert decode[0].split()[-3:] == ["6.00", "12.00", "0.50x"]  # transformers, above it
    assert decode[1].split()[-3:] == ["11.40", "12.00", "0.95x"]
    assert lines.index(decode[1]) > start
    image = [line for line in lines if line.startswith("1024x1024 image")][1]
    assert image.split()[-3:] == ["52.00", "50.00", "0.96x"]
    # A report from before the engine was measured still prints, without that part.
    del row["engine"]
    assert "engine on the same" not in format_comparison(
        {"llama_cpp_version": "0.3.36", "rows": [row]}
    )


class _WordsEngine:
    """The edge of the prompt-length search: a chat template of 14 tokens, 3 tokens a word."""

    def generate(self, conversation: Any, settings: Any, **_kwargs: Any) -> Any:
        words = len(conversation.turns[-1].text.split())
        stats = SimpleNamespace(prompt_tokens=14 + 3 * words)
        return SimpleNamespace(stats=stats)


def test_the_long_prompt_has_about_the_asked_length_when_words_take_several_tokens() -> None:
    conversation = _text_of(cast(Any, _WordsEngine()), 1000)
    words = len(conversation.turns[-1].text.split())
    assert abs(14 + 3 * words - 1000) <= 3
