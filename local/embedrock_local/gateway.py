"""A local API Gateway: HTTP requests in, REST proxy events to the real handlers, responses out.

Routing comes from the same route table the CDK stack is built from. Each function runs in
its own pool of worker processes, as Lambda runs each function in its own containers: the
handlers keep per-process state (the Powertools resolver holds the current event), so
concurrent requests to one function must not share a process.
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from multiprocessing.pool import Pool
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from embedrock import routes
from embedrock.routes import GatewayError, Route

STAGE = "local"
# API Gateway's REST integration timeout: after it the client gets a 504, whatever Lambda does.
INTEGRATION_TIMEOUT_SECONDS = 29.0


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    pattern: re.Pattern[str]


def _compile(route: Route) -> _CompiledRoute:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route.path))
    return _CompiledRoute(route, re.compile(f"^{regex}$"))


_ROUTES = tuple(_compile(route) for route in routes.ROUTES)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for compiled in _ROUTES:
        found = compiled.pattern.match(path)
        if found and compiled.route.method == method:
            return compiled.route, found.groupdict()
    return None


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, function: routes.Function, request_id: str) -> None:
        self.function_name = f"embedrock-{function.name}"
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = function.memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + function.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# --- worker process side -------------------------------------------------------------


def _worker_init(environment: Mapping[str, str]) -> None:
    # Ctrl-C reaches the whole process group; the parent stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.update(environment)


def _invoke(function_name: str, event: dict[str, Any]) -> dict[str, Any]:
    function = routes.function_named(function_name)
    module_name, _, attribute = function.handler.rpartition(".")
    handler = getattr(import_module(module_name), attribute)
    context = LambdaContext(function, event["requestContext"]["requestId"])
    response: dict[str, Any] = handler(event, context)
    return response


def _warm(function_name: str) -> bool:
    function = routes.function_named(function_name)
    import_module(function.handler.rpartition(".")[0])
    return True


# --- gateway side ----------------------------------------------------------------------


class FunctionPools:
    """One lazily started process pool per function, all stopped together."""

    def __init__(self, environment: Mapping[str, str], containers: int) -> None:
        self._environment = dict(environment)
        self._containers = containers
        self._pools: dict[str, Pool] = {}
        self._lock = threading.Lock()

    def pool(self, function_name: str) -> Pool:
        with self._lock:
            if function_name not in self._pools:
                context = multiprocessing.get_context("spawn")
                self._pools[function_name] = context.Pool(
                    self._containers, initializer=_worker_init, initargs=(self._environment,)
                )
            return self._pools[function_name]

    def warm(self) -> None:
        """Start every function's workers and import its handler: the cold starts, paid up front."""
        pending = [
            self.pool(function.name).apply_async(_warm, (function.name,)) for function in routes.FUNCTIONS
        ]
        for result in pending:
            result.get(timeout=120)

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.terminate()
            for pool in self._pools.values():
                pool.join()
            self._pools.clear()


def proxy_event(
    *,
    route: Route,
    method: str,
    raw_path: str,
    path_parameters: Mapping[str, str],
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
) -> dict[str, Any]:
    """The API Gateway REST proxy event for one request, shaped as API Gateway sends it."""
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    pairs = parse_qsl(query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    try:
        text_body: str | None = body.decode("utf-8") if body else None
        is_base64 = False
    except UnicodeDecodeError:
        text_body, is_base64 = base64.b64encode(body).decode("ascii"), True
    lowered = {name.lower(): value for name, value in single_headers.items()}
    request_id = str(uuid.uuid4())
    return {
        "resource": route.path,
        "path": raw_path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": dict(pairs) or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": method,
            "path": f"/{STAGE}{raw_path}",
            "stage": STAGE,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": lowered.get("host", "localhost"),
            "identity": {
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent"),
                "apiKey": lowered.get("x-api-key"),
            },
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without TCP_NODELAY every keep-alive response waits ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True
    server: GatewayServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_OPTIONS(self) -> None:
        self._serve("OPTIONS")

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, CONNECT, made-up ones) gets the unknown-route error in the
        # API's shape, as from API Gateway, instead of http.server's HTML 501 page.
        method = name.removeprefix("do_")
        if name.startswith("do_") and method.isalpha() and method.isupper():
            return lambda: self._serve(method)
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log:
            super().log_message(format, *args)

    def _serve(self, method: str) -> None:
        try:
            body = self._read_body()
        except _BodyTooLarge:
            self._error(routes.BODY_TOO_LARGE, close=True)
            return
        except ValueError:
            self._error(BAD_FRAMING, close=True)
            return
        url = urlsplit(self.path)
        path = unquote(url.path)
        found = match(method, path)
        if found is None:
            self._error(routes.UNKNOWN_ROUTE)
            return
        route, parameters = found
        api_key = self.server.api_key
        if api_key is not None and route.api_key_required and self.headers.get("x-api-key") != api_key:
            self._error(routes.INVALID_API_KEY)
            return
        event = proxy_event(
            route=route,
            method=method,
            raw_path=path,
            path_parameters=parameters,
            query=url.query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        pending = self.server.pools.pool(route.function).apply_async(_invoke, (route.function, event))
        try:
            response = pending.get(timeout=self.server.integration_timeout)
        except multiprocessing.TimeoutError:
            self._error(routes.INTEGRATION_TIMEOUT)
            return
        except Exception:
            # API Gateway answers 502 when the function crashes; the details stay in its logs.
            self.log_error("function %s failed", route.function)
            self._send(502, {"content-type": "application/json"}, _internal_error_body())
            return
        self._send_proxy_response(response)

    def _read_body(self) -> bytes:
        """The body by Content-Length or chunks; ValueError if the framing is broken."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunks()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > routes.MAX_REQUEST_BYTES:
            raise _BodyTooLarge
        return self.rfile.read(length) if length else b""

    def _read_chunks(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline(64).split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if size < 0 or total > routes.MAX_REQUEST_BYTES:
                raise ValueError("negative chunk size") if size < 0 else _BodyTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline(64)

    def _send_proxy_response(self, response: Mapping[str, Any]) -> None:
        headers: dict[str, str] = {}
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name.lower()] = ", ".join(str(value) for value in values)
        for name, value in (response.get("headers") or {}).items():
            headers[name.lower()] = str(value)
        raw = response.get("body") or ""
        body = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode("utf-8")
        self._send(int(response.get("statusCode", 200)), headers, body)

    def _error(self, error: GatewayError, *, close: bool = False) -> None:
        if close:
            self.close_connection = True
        self._send(error.status, {"content-type": "application/json"}, json.dumps(error.body()).encode())

    def _send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("x-amzn-requestid", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _BodyTooLarge(Exception):
    pass


# Broken Content-Length or chunk framing: API Gateway's front end rejects such requests with a
# 400 before any route is matched. Local only: not a gateway response the stack installs.
BAD_FRAMING = GatewayError(
    "BAD_REQUEST_BODY",
    400,
    "invalid_request_error",
    "invalid_body_framing",
    "The request body's framing is broken (Content-Length or chunk sizes); send a valid HTTP request.",
)


def _internal_error_body() -> bytes:
    error = {
        "type": "internal_error",
        "message": "Internal server error.",
        "param": None,
        "code": "internal_error",
    }
    return json.dumps({"error": error}).encode()


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Clients open many connections at once under load; the default backlog of 5 resets some.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        pools: FunctionPools,
        *,
        api_key: str | None = None,
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        access_log: bool = False,
    ) -> None:
        super().__init__(address, _Handler)
        self.pools = pools
        self.api_key = api_key
        self.integration_timeout = integration_timeout
        self.access_log = access_log


class LocalGateway:
    """The gateway on a loopback port, served from a background thread."""

    def __init__(
        self,
        environment: Mapping[str, str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        containers: int = 2,
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        access_log: bool = False,
    ) -> None:
        self.pools = FunctionPools(environment, containers)
        self.server = GatewayServer(
            (host, port),
            self.pools,
            api_key=api_key,
            integration_timeout=integration_timeout,
            access_log=access_log,
        )
        self._thread = threading.Thread(target=self.server.serve_forever, name="gateway", daemon=True)
        self._serving = False

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, *, warm: bool = True) -> LocalGateway:
        if warm:
            self.pools.warm()
        self._thread.start()
        self._serving = True
        return self

    def close(self) -> None:
        if self._serving:  # shutdown() waits for serve_forever, which only runs once started
            self.server.shutdown()
            self._serving = False
        self.server.server_close()
        self.pools.close()

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()
