"""The HTTP server: parses Bedrock's REST paths (and the admin paths) for the backends, and
serializes their answers and errors as Bedrock's wire format."""

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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

import orjson

from embedrock_local.runtime import httpio

from .backends import Backends
from .errors import BedrockError, validation
from .faults import Fault
from .state import Dropped

ADMIN = "_emulator"  # /_emulator/... never collides with Bedrock's /model/ and /foundation-models
_REGION_IN_AUTH = re.compile(r"Credential=[^/,]+/\d{8}/([a-z0-9-]+)/")


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # callers run many calls concurrently; the default 5 drops connections

    def __init__(self, address: tuple[str, int], backends: Backends) -> None:
        self.backends = backends
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
        if isinstance(sys.exc_info()[1], OSError) or self.backends.state.stopping.is_set():
            return
        super().handle_error(request, client_address)


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
        if self.server.backends.options.verbose:
            super().log_message(format, *args)

    @property
    def backends(self) -> Backends:
        return self.server.backends

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
        except (Dropped, ConnectionError):
            # Stopping, or the client hung up (its read timeout fired while a fault held the call).
            self.close_connection = True
        except Exception:
            traceback.print_exc()
            failure = BedrockError("InternalServerException", "The embedrock emulator failed; see its log.")
            self._send(failure.status, failure.body(), failure.headers())

    def _route(self, method: str, segments: list[str], query: dict[str, str], body: bytes) -> None:
        match method, segments:
            case "POST", ["model", model_id, "invoke"]:
                output = self.backends.runtime.invoke_model(model_id, body)
                self._send_raw(200, output.body, output.headers())
            case "GET", ["foundation-models"]:
                self._send(200, self.backends.control.list_foundation_models(query, self._region()))
            case "GET", ["foundation-models", identifier]:
                self._send(200, self.backends.control.get_foundation_model(identifier, self._region()))
            case "GET", ["inference-profiles"]:
                self._send(200, self.backends.control.list_inference_profiles(query, self._region()))
            case "GET", ["foundation-model-availability", model_id]:
                self._send(200, self.backends.control.get_foundation_model_availability(model_id))
            case "GET", ["list-foundation-model-agreement-offers", model_id]:
                offers = self.backends.control.list_foundation_model_agreement_offers(
                    model_id, query.get("offerType")
                )
                self._send(200, offers)
            case "POST", ["create-foundation-model-agreement"]:
                request = _json_body(body)
                agreement = self.backends.control.create_foundation_model_agreement(
                    str(request.get("modelId", "")), str(request.get("offerToken", ""))
                )
                self._send(202, agreement)
            case "POST" | "GET" | "DELETE", ["tags", *arn] if arn:
                self._send(200, self._tags_call(method, "/".join(arn), body))
            case "POST", [str(operation)] if self.backends.s3vectors.handles(operation):
                # S3 Vectors' rest-json operations are all POST /OperationName (botocore's model).
                self._send(200, self.backends.s3vectors.call(operation, _json_body(body)))
            case _, [str(admin), *rest] if admin == ADMIN:
                self._admin(method, rest, body)
            case _:
                raise BedrockError("UnknownOperationException", f"No operation matches {method} {self.path}.")

    def _tags_call(self, method: str, arn: str, body: bytes) -> dict[str, Any]:
        """S3 Vectors' tag operations, the only ones with the ARN in the path: /tags/{resourceArn}
        (POST TagResource, GET ListTagsForResource, DELETE UntagResource ?tagKeys=k&tagKeys=...)."""
        s3vectors = self.backends.s3vectors
        if method == "POST":
            return s3vectors.call("TagResource", {**_json_body(body), "resourceArn": arn})
        if method == "GET":
            return s3vectors.call("ListTagsForResource", {"resourceArn": arn})
        keys = parse_qs(urlsplit(self.path).query).get("tagKeys", [])
        return s3vectors.call("UntagResource", {"resourceArn": arn, "tagKeys": keys})

    def _admin(self, method: str, path: list[str], body: bytes) -> None:
        faults, stats = self.backends.faults, self.backends.stats
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
                self._send(200, self.backends.health())
                return
            case _:
                raise BedrockError(
                    "UnknownOperationException", f"No admin operation matches {method} {self.path}."
                )
        self._send(200, {"faults": faults.snapshot()})

    def _region(self) -> str:
        """The region the client signed for, so ARNs look like the caller's; else the default."""
        found = _REGION_IN_AUTH.search(self.headers.get("Authorization", ""))
        return found.group(1) if found else self.backends.state.region

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


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise validation("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise validation("The request body must be a JSON object.")
    return data


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
