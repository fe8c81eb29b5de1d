"""Bedrock emulated in a process of its own, with boto3 in this process pointed at it.

Bedrock runs on other machines: its work must not compete with the caller's threads for
this interpreter's GIL, or the caller's concurrency would be measured against the
emulator's JSON encoding rather than against Bedrock's latency.
"""

from __future__ import annotations

import json
import multiprocessing
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from multiprocessing.synchronize import Event
from typing import Any

from embedrock import wiring
from embedrock_local.environment import environment_set, function_environment
from embedrock_local.runtime.emulator import Emulator, EmulatorOptions
from embedrock_local.runtime.emulator.faults import Fault
from embedrock_local.runtime.emulator.server import ADMIN

_START_TIMEOUT_SECONDS = 60


class RemoteEmulator:
    """The emulator's URL and its call statistics (read over its admin API)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def stats(self) -> dict[str, Any]:
        return self._admin("GET", "stats")

    def reset_stats(self) -> None:
        self._admin("DELETE", "stats")

    def invoke_calls(self, model_id: str) -> int:
        calls: dict[str, dict[str, int]] = self.stats()["calls"]
        return calls.get("InvokeModel", {}).get(model_id, 0)

    def _admin(self, method: str, path: str) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.url}/{ADMIN}/{path}", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.load(response)
            return answer


def _serve(latency_ms: float, url_sink: Connection, stop: Event, faults: tuple[Fault, ...] = ()) -> None:
    with Emulator(EmulatorOptions(latency_ms=latency_ms, faults=list(faults))) as emulator:
        url_sink.send(emulator.url)
        stop.wait()


@contextmanager
def emulated_bedrock(latency_ms: float, faults: tuple[Fault, ...] = ()) -> Iterator[RemoteEmulator]:
    """An emulator adding `latency_ms` to every call (and `faults`); `wiring.embedder()` calls it.

    The environment is the one the local runtime gives its functions, so the product builds
    its real boto3 bedrock-runtime client (retry mode, pool size, timeouts) against it.
    """
    context = multiprocessing.get_context("spawn")
    url_source, url_sink = context.Pipe(duplex=False)
    stop = context.Event()
    process = context.Process(target=_serve, args=(latency_ms, url_sink, stop, faults), daemon=True)
    process.start()
    try:
        # Wakes on the URL or on the child's exit, whichever comes first.
        if url_source not in wait([url_source, process.sentinel], _START_TIMEOUT_SECONDS):
            raise RuntimeError("the Bedrock emulator process did not start; see its error above")
        emulator = RemoteEmulator(url_source.recv())
        with environment_set(function_environment(emulator.url)):
            wiring.reset()  # clients built before would point elsewhere
            try:
                yield emulator
            finally:
                wiring.reset()
    finally:
        stop.set()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
