"""Requests per minute through the server with 1, 4 and 16 clients, against one at a time (by hand).

    .venv/bin/python benchmarks/serve_throughput.py [--layers N] [--out docs/bench/x.json]

Builds (once, in the bench cache) a random-weight model of the real Qwen3-VL-2B architecture,
loads it on the CPU and measures, in one run on one machine:

- ``one_at_a_time``: the engine answering the requests one after another, no server (the
  baseline), before the server's levels and again after them (``one_at_a_time_after``);
- ``server_N``: ``vldesk serve``'s server with N clients, each sending its next request as soon
  as its last one is answered (unstreamed: requests that wait together share a batch);
- ``app_N``: the same through the desktop app's path (Model → Serve on This Computer…): the
  server's calls run on the app's inference thread through :class:`SharedEngine`.

Every request is a small photo and a short question, greedy, at most ``--max-tokens`` new
tokens. Figures depend on the machine and on what else runs on it: the load average and the
other processes' share of the CPU are recorded with them, and nothing is compared with a
threshold.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

QUESTION = "Describe this image in one sentence."
#: Levels that would start after this moment (``time.monotonic()``) are skipped: the machine is
#: shared, so the whole run is kept short (``--budget``).
_deadline = [float("inf")]


def over_budget() -> bool:
    return time.monotonic() > _deadline[0]


def photo_url(work: Path, size: tuple[int, int]) -> str:
    from vldesk.bench.fixtures import make_photo

    path = make_photo(work / f"serve-photo-{size[0]}x{size[1]}.jpg", size, seed=7)
    return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()


def request_body(image: str, max_tokens: int) -> dict[str, Any]:
    content = [
        {"type": "text", "text": QUESTION},
        {"type": "image_url", "image_url": {"url": image}},
    ]
    return {
        "model": "",
        "max_tokens": max_tokens,
        "temperature": 0,
        "messages": [{"role": "user", "content": content}],
    }


def machine_state() -> dict[str, Any]:
    one, five, fifteen = os.getloadavg()
    return {"loadavg_1m": one, "loadavg_5m": five, "loadavg_15m": fifteen}


def timed(run: Callable[[], list[dict[str, Any]]]) -> dict[str, Any]:
    """Run ``run`` (it returns one record per request); requests per minute and the machine's
    load while it ran."""
    from vldesk.bench.system import LoadMeter

    before = machine_state()
    meter = LoadMeter().start()
    started = time.perf_counter()
    records = run()
    seconds = time.perf_counter() - started
    failed = [r for r in records if not r["ok"]]
    latencies = [r["seconds"] for r in records if r["ok"]]
    tokens = sum(r["tokens"] for r in records if r["ok"])
    return {
        "requests": len(records),
        "failed": len(failed),
        "errors": sorted({r.get("error", "") for r in failed}),
        "seconds": round(seconds, 2),
        "requests_per_minute": round(60 * (len(records) - len(failed)) / seconds, 2),
        "completion_tokens": tokens,
        "tokens_per_minute": round(60 * tokens / seconds, 1),
        "latency_median_s": round(statistics.median(latencies), 2) if latencies else None,
        "latency_max_s": round(max(latencies), 2) if latencies else None,
        "other_processes_cpu_share": meter.stop(),
        "before": before,
        "after": machine_state(),
    }


def on_own_thread(work: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """``work()`` on a thread of its own, as the server's scheduler and the app's worker run:
    torch on the main thread was 10-20x slower on the loaded 2-core machine (its OpenMP
    threads contend there; a small matmul loop alone shows it)."""
    out: list[list[dict[str, Any]]] = []
    thread = threading.Thread(target=lambda: out.append(work()))
    thread.start()
    thread.join()
    return out[0]


def one_at_a_time(engine: Any, image_path: Path, count: int, max_tokens: int) -> dict[str, Any]:
    from vldesk.core.generation import Conversation, GenerationSettings
    from vldesk.core.images import load_image

    image = load_image(image_path)
    settings = GenerationSettings(max_new_tokens=max_tokens, greedy=True)

    def run() -> list[dict[str, Any]]:
        return on_own_thread(answer_each)

    def answer_each() -> list[dict[str, Any]]:
        records = []
        for _ in range(count):
            started = time.perf_counter()
            conversation = Conversation().ask(QUESTION, [image])
            result = engine.generate(conversation, settings, reuse_cache=False)
            elapsed = time.perf_counter() - started
            records.append({"ok": True, "seconds": elapsed, "tokens": result.stats.new_tokens})
        return records

    return timed(run)


def with_clients(url: str, body: dict[str, Any], clients: int, count: int) -> dict[str, Any]:
    """``count`` requests from ``clients`` threads, each sending its next when answered."""
    import httpx

    left = [count]
    lock = threading.Lock()

    def run() -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []

        def client() -> None:
            with httpx.Client(timeout=900) as http:
                while True:
                    with lock:
                        if left[0] == 0:
                            return
                        left[0] -= 1
                    started = time.perf_counter()
                    response = http.post(f"{url}/v1/chat/completions", json=body)
                    elapsed = time.perf_counter() - started
                    record: dict[str, Any] = {"ok": response.status_code == 200, "seconds": elapsed}
                    if record["ok"]:
                        record["tokens"] = response.json()["usage"]["completion_tokens"]
                    else:
                        record["error"] = f"{response.status_code}: {response.text[:200]}"
                    with lock:
                        records.append(record)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return records

    return timed(run)


class CallCounter:
    """Passes every call on to ``engine`` and notes the size of each: 1 for an answer alone."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self.calls: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(1)
        return self._engine.generate(*args, **kwargs)

    def generate_batch(self, conversations: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(len(conversations))
        return self._engine.generate_batch(conversations, *args, **kwargs)


def requests_for(clients: int, base: int) -> int:
    """At least ``base`` requests, and two per client: every client waits behind others once."""
    return max(base, 2 * clients)


def server_levels(
    engine: Any, body: dict[str, Any], levels: list[int], base: int, prefix: str
) -> dict[str, Any]:
    from vldesk.server.config import Limits, ServerConfig
    from vldesk.server.runner import Server

    counter = CallCounter(engine)
    server = Server(ServerConfig(host="127.0.0.1", port=0, limits=Limits(queue=64)))
    server.scheduler.attach(counter)
    server.start()
    figures: dict[str, Any] = {}
    try:
        for clients in levels:
            if over_budget():
                figures[f"{prefix}_{clients}"] = {"skipped": "over the time budget"}
                continue
            print(f"{prefix}_{clients} ...", file=sys.stderr, flush=True)
            counter.calls.clear()
            measured = with_clients(server.url, body, clients, requests_for(clients, base))
            figures[f"{prefix}_{clients}"] = {
                "clients": clients,
                **measured,
                # Unstreamed requests that wait together share one engine call.
                "engine_call_sizes": list(counter.calls),
            }
            print(json.dumps(figures[f"{prefix}_{clients}"]), file=sys.stderr, flush=True)
    finally:
        server.scheduler.detach("The benchmark is over.")  # the caller keeps the engine
        server.stop()
    return figures


def app_levels(request: Any, body: dict[str, Any], levels: list[int], base: int) -> dict[str, Any]:
    """The desktop app's path: its inference worker owns the model; the server borrows it."""
    from PySide6.QtCore import QCoreApplication

    from vldesk.gui.workers.inference_client import InferenceClient
    from vldesk.gui.workers.shared_engine import SharedEngine

    qt = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    inference = InferenceClient()
    loaded: list[Any] = []
    inference.model_loaded.connect(loaded.append)
    inference.model_failed.connect(lambda message: loaded.append(RuntimeError(message)))
    inference.load_model(request)
    while not loaded:
        qt.processEvents()
        time.sleep(0.05)
    if isinstance(loaded[0], Exception):
        raise loaded[0]
    try:
        shared = SharedEngine(loaded[0].facts, inference.call_engine)
        return server_levels(shared, body, levels, base, "app")
    finally:
        inference.shut_down()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", type=Path, help="use this model folder instead")
    parser.add_argument("--layers", type=int, help="text layers and vision blocks (default: all)")
    parser.add_argument("--clients", default="1,4,16", help="client counts (default 1,4,16)")
    parser.add_argument("--app-clients", default="4", help="the app path's ('' for none)")
    parser.add_argument("--requests", type=int, default=4, help="requests per level, at least")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--photo", default="256x192", help="the photo's size (WxH)")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    parser.add_argument(
        "--budget", type=float, default=540, help="start no level after this many seconds"
    )
    args = parser.parse_args(argv)

    from vldesk.bench.fixtures import model_folder
    from vldesk.bench.system import describe_machine
    from vldesk.core.inference.engine import LoadRequest, load_engine
    from vldesk.core.models.catalog import Family
    from vldesk.core.paths import app_paths

    started = time.perf_counter()
    _deadline[0] = time.monotonic() + args.budget
    work = app_paths().cache_dir / "bench"
    work.mkdir(parents=True, exist_ok=True)
    folder = args.model_dir or model_folder(Family.QWEN3_VL, work / "models", args.layers)
    width, height = (int(v) for v in args.photo.split("x"))
    image = photo_url(work, (width, height))
    image_path = work / f"serve-photo-{width}x{height}.jpg"
    body = request_body(image, args.max_tokens)
    levels = [int(v) for v in args.clients.split(",") if v]
    app_clients = [int(v) for v in args.app_clients.split(",") if v]
    request = LoadRequest(folder, name=folder.name, device="cpu")

    engine = load_engine(request)
    report: dict[str, Any] = {
        "benchmark": "serve_throughput",
        "model": folder.name,
        "layers": args.layers or "all",
        "engine": engine.describe(),
        "max_batch": engine.capabilities.max_batch,
        "photo": args.photo,
        "max_tokens": args.max_tokens,
        "machine": describe_machine(),
        "start": machine_state(),
    }
    one_at_a_time(engine, image_path, 1, args.max_tokens)  # warm-up, not counted
    print("one_at_a_time ...", file=sys.stderr, flush=True)
    report["one_at_a_time"] = one_at_a_time(engine, image_path, args.requests, args.max_tokens)
    print(json.dumps(report["one_at_a_time"]), file=sys.stderr, flush=True)
    report.update(server_levels(engine, body, levels, args.requests, "server"))
    # Again after the server's levels: how far the machine's load moved the baseline meanwhile.
    report["one_at_a_time_after"] = one_at_a_time(
        engine, image_path, args.requests, args.max_tokens
    )
    engine.unload()  # the app path loads its own copy
    if app_clients and not over_budget():
        report.update(app_levels(request, body, app_clients, args.requests))
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
