"""The HTTP server: Bedrock's REST paths and the emulator's admin paths."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from embedrock_local import httpio

from . import models_api, runtime_api
from .engines import Engine
from .errors import BedrockError, validation
from .faults import Fault, FaultSet
from .stats import Stats

ADMIN = "_emulator"  # /_emulator/... never collides with Bedrock's /model/ and /foundation-models
_REGION_IN_AUTH = re.compile(r"Credential=[^/,]+/\d{8}/([a-z0-9-]+)/")


@dataclass
class App:
    """What every request handler shares."""

    engine: Engine
    faults: FaultSet
    stats: Stats
    region: str
    stopping: threading.Event
    verbose: bool = False


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # callers run many calls concurrently; the default 5 drops connections

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, BedrockHandler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def close_connections(self) -> None:
        """Wake keep-alive handler threads blocked on idle sockets so they end now."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (e.g. its read timeout fired during a timeout fault) is normal.
        if isinstance(sys.exc_info()[1], OSError) or self.app.stopping.is_set():
            return
        super().handle_error(request, client_address)


class _Dropped(Exception):
    """The emulator is stopping while this request waited: close without answering."""


class BedrockHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    # TCP_NODELAY on every accepted socket: with keep-alive, Nagle plus delayed ACK adds ~40 ms a call.
    disable_nagle_algorithm = True
    server_version = "embedrock-emulator"
    timeout = 300  # idle keep-alive connections are closed after this many seconds
    server: EmulatorServer

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.app.verbose:
            super().log_message(format, *args)

    @property
    def app(self) -> App:
        return self.server.app

    def _dispatch(self, method: str) -> None:
        try:
            # Read the whole body first, even for calls that fail early, to keep the connection usable.
            body = self._read_body()
            url = urlsplit(self.path)
            # Split before unquoting: an ARN model id arrives with its '/' encoded as %2F.
            segments = [unquote(part) for part in url.path.strip("/").split("/")]
            query = dict(parse_qsl(url.query))
            self._route(method, segments, query, body)
        except BedrockError as error:
            self._send(error.status, error.body(), error.headers())
        except (_Dropped, ConnectionError):
            # Stopping, or the client hung up (its read timeout fired while a fault held the call).
            self.close_connection = True
        except Exception:
            traceback.print_exc()
            failure = BedrockError("InternalServerException", "The embedrock emulator failed; see its log.")
            self._send(failure.status, failure.body(), failure.headers())

    def _route(self, method: str, segments: list[str], query: dict[str, str], body: bytes) -> None:
        match method, segments:
            case "POST", ["model", model_id, "invoke"]:
                self._invoke(model_id, body)
            case "GET", ["foundation-models"]:
                self._bedrock(
                    "ListFoundationModels",
                    None,
                    lambda: models_api.list_foundation_models(query, self._region()),
                )
            case "GET", ["foundation-models", identifier]:
                self._bedrock(
                    "GetFoundationModel",
                    models_api.model_id_from(identifier),
                    lambda: models_api.get_foundation_model(identifier, self._region()),
                )
            case _, [str(admin), *rest] if admin == ADMIN:
                self._admin(method, rest, body)
            case _:
                raise BedrockError("UnknownOperationException", f"No operation matches {method} {self.path}.")

    def _invoke(self, raw_model_id: str, body: bytes) -> None:
        model_id = models_api.model_id_from(raw_model_id)
        stats = self.app.stats
        stats.begin()
        started = time.perf_counter()
        try:
            malformed = self._apply_faults("InvokeModel", model_id)
            result = runtime_api.invoke(model_id, body, self.app.engine)
        except BedrockError as error:
            stats.record("InvokeModel", model_id, error.code)
            raise
        finally:
            stats.end()
        if malformed is not None:
            stats.record("InvokeModel", model_id, "Malformed")
            self._send_raw(200, malformed.encode())
            return
        stats.record("InvokeModel", model_id, tokens=result.input_tokens)
        latency_ms = round((time.perf_counter() - started) * 1000)
        self._send(
            200,
            result.body,
            {
                "X-Amzn-Bedrock-Input-Token-Count": str(result.input_tokens),
                "X-Amzn-Bedrock-Invocation-Latency": str(latency_ms),
            },
        )

    def _bedrock(self, operation: str, model_id: str | None, answer: Callable[[], dict[str, Any]]) -> None:
        """A control-plane call: faults scoped to it apply, then it is counted."""
        try:
            self._apply_faults(operation, model_id)
            payload = answer()
        except BedrockError as error:
            self.app.stats.record(operation, model_id, error.code)
            raise
        self.app.stats.record(operation, model_id)
        self._send(200, payload)

    def _apply_faults(self, operation: str, model_id: str | None) -> str | None:
        """Wait and raise as the faults decide; the malformed body to answer with, if any."""
        outcome = self.app.faults.check(operation, model_id)
        if outcome.delay > 0 and self.app.stopping.wait(outcome.delay):
            raise _Dropped
        if outcome.error is not None:
            raise outcome.error
        return outcome.malformed

    def _admin(self, method: str, path: list[str], body: bytes) -> None:
        faults, stats = self.app.faults, self.app.stats
        match method, path:
            case "GET", ["faults"]:
                pass
            case "POST" | "PUT", ["faults"]:
                new = _parse_faults(body)
                if method == "PUT":
                    faults.clear()
                faults.extend(new)
            case "DELETE", ["faults"]:
                faults.clear()
            case "GET", ["stats"]:
                self._send(200, stats.snapshot())
                return
            case "DELETE", ["stats"]:
                stats.reset()
                self._send(200, stats.snapshot())
                return
            case "GET", ["health"]:
                self._send(200, {"status": "ok", "emulator": "embedrock", "engine": self.app.engine.name})
                return
            case _:
                raise BedrockError(
                    "UnknownOperationException", f"No admin operation matches {method} {self.path}."
                )
        self._send(200, {"faults": faults.snapshot()})

    def _region(self) -> str:
        """The region the client signed for, so ARNs look like the caller's; else the default."""
        found = _REGION_IN_AUTH.search(self.headers.get("Authorization", ""))
        return found.group(1) if found else self.app.region

    def _read_body(self) -> bytes:
        try:
            # No size limit (Bedrock's own comes from the model); cut-off bodies are refused.
            return httpio.read_body(
                self.rfile,
                self.connection,
                self.headers,
                max_bytes=None,
                deadline=time.monotonic() + self.timeout,
            )
        except httpio.BodyError as error:
            # The framing is broken, so the rest of the connection cannot be trusted.
            self.close_connection = True
            if isinstance(error, httpio.IncompleteBody):
                raise validation("The HTTP body ended before its Content-Length or last chunk.") from None
            raise validation("Malformed HTTP body framing (Content-Length or chunk size).") from None

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        # orjson: a 96-text Cohere response is ~1 MB of floats, and stdlib json took most of
        # the emulator's time per call, so it, not the caller, bounded batched throughput.
        self._send_raw(status, orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY), headers)

    def _send_raw(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _parse_faults(body: bytes) -> list[Fault]:
    """An admin body: one fault object, a list of them, or {"faults": [...]}."""
    try:
        data = json.loads(body or b"null")
        if isinstance(data, dict) and set(data) == {"faults"}:
            data = data["faults"]
        items = data if isinstance(data, list) else [data]
        if not all(isinstance(item, dict) for item in items):
            raise ValueError('send a fault object, a list of them, or {"faults": [...]}')
        return [Fault.from_dict(item) for item in items]
    except (TypeError, ValueError) as error:
        raise validation(f"Invalid fault: {error}") from None
