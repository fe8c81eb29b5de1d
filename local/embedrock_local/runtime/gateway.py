"""A local API Gateway: HTTP requests in, REST proxy events to the real handlers, responses out.

Routing comes from the same route table the CDK stack is built from. Each function runs in
its own pool of worker processes, as Lambda runs each function in its own containers: the
handlers keep per-process state (the Powertools resolver holds the current event), so
concurrent requests to one function must not share a process.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import itertools
import json
import logging
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Mapping, MutableSequence
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from multiprocessing.pool import AsyncResult, Pool
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from embedrock import gateway_errors, routes
from embedrock.gateway_errors import GatewayError
from embedrock.routes import Route
from embedrock_local.runtime import httpio
from embedrock_local.runtime.httpio import CLIENT_TIMEOUT_SECONDS, IDLE_TIMEOUT_SECONDS, MAX_CONNECTIONS

STAGE = "local"
# API Gateway's REST integration timeout: after it the client gets a 504, whatever Lambda does.
INTEGRATION_TIMEOUT_SECONDS = 29.0


@dataclass(frozen=True)
class ConnectionLimits:
    """How long and how many: the knobs API Gateway fixes and `embedrock serve` exposes."""

    integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS
    client_timeout: float = CLIENT_TIMEOUT_SECONDS
    idle_timeout: float = IDLE_TIMEOUT_SECONDS
    max_connections: int = MAX_CONNECTIONS
    access_log: bool = False


DEFAULT_LIMITS = ConnectionLimits()


# After an early answer (413, broken framing), what a client still sends is read and discarded,
# up to this much, so that it reads the answer instead of a connection reset.
LINGER_MAX_BYTES = 32 * 1024 * 1024
# Start times of submitted invocations, by slot: enough for every request a pool can have queued.
_STARTS = 4096

logger = logging.getLogger(__name__)


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


_worker: dict[str, MutableSequence[float]] = {}  # "started": the pool's start times (shared memory)


def _worker_init(environment: Mapping[str, str], started: MutableSequence[float]) -> None:
    # Ctrl-C reaches the whole process group; the parent stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.update(environment)
    _worker["started"] = started


def _invoke(function_name: str, event: dict[str, Any], slot: int, deadline: float) -> dict[str, Any] | None:
    now = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the machine
    _worker["started"][slot] = now
    if now >= deadline:
        # It waited behind busy workers until the gateway answered 504: never run (or bill) it.
        return None
    function = routes.function_named(function_name)
    module_name, _, attribute = function.handler.rpartition(".")
    handler = getattr(import_module(module_name), attribute)
    # Lambda's aws_request_id and the event's requestId are one id here, the one the gateway
    # returns in x-amzn-requestid and the handlers quote and log.
    context = LambdaContext(function, event["requestContext"]["requestId"])
    response: dict[str, Any] = handler(event, context)
    return response


def _warm(function_name: str) -> bool:
    function = routes.function_named(function_name)
    import_module(function.handler.rpartition(".")[0])
    return True


# --- gateway side ----------------------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    """A request handed to a function's workers."""

    function: str
    result: AsyncResult[dict[str, Any] | None]
    submitted: float
    slot: int


class FunctionPools:
    """One lazily started process pool per function, all stopped together."""

    def __init__(self, environment: Mapping[str, str], containers: int) -> None:
        self._environment = dict(environment)
        self.containers = containers
        self._pools: dict[str, Pool] = {}
        self._started: dict[str, MutableSequence[float]] = {}
        self._slots = itertools.count()
        self._lock = threading.Lock()

    def pool(self, function_name: str) -> Pool:
        with self._lock:
            if function_name not in self._pools:
                context = multiprocessing.get_context("spawn")
                # Workers write when they start each invocation: a 504 can then say whether the
                # request ran or only waited for a worker.
                started: MutableSequence[float] = context.Array("d", _STARTS, lock=False)
                self._started[function_name] = started
                self._pools[function_name] = context.Pool(
                    self.containers, initializer=_worker_init, initargs=(self._environment, started)
                )
            return self._pools[function_name]

    def submit(self, function_name: str, event: dict[str, Any], timeout: float) -> Invocation:
        pool = self.pool(function_name)
        slot = next(self._slots) % _STARTS
        self._started[function_name][slot] = 0.0
        submitted = time.monotonic()
        result = pool.apply_async(_invoke, (function_name, event, slot, submitted + timeout))
        return Invocation(function_name, result, submitted, slot)

    def started_at(self, invocation: Invocation) -> float | None:
        """When a worker took the invocation (time.monotonic()), or None if none did yet."""
        started = self._started[invocation.function][invocation.slot]
        return started if started >= invocation.submitted else None

    def warm(self) -> None:
        """Start every function's workers and import its handler: Lambda's init phase, paid up
        front. What a handler defers to its first request (numpy, the embedder, its client) is
        paid there, as it is in Lambda."""
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
    request_id: str | None = None,
) -> dict[str, Any]:
    """The API Gateway REST proxy event for one request, shaped as API Gateway sends it.

    The gateway serves the API at its root, as a custom domain with an empty base path does, so
    requestContext.path is the path as requested: the OpenAPI document and Swagger UI then name
    "/" as the server, a URL this gateway serves (deployed, the stage's "/<stage>").
    """
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
    request_id = request_id or str(uuid.uuid4())
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
            "path": raw_path,
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


class _LineReader(io.BufferedIOBase):
    """The connection's reader, remembering the last line read.

    http.server reads headers up to an empty line *or the end of the connection*: without this,
    a request cut off in its headers would be dispatched as if it were complete.
    """

    def __init__(self, raw: io.BufferedIOBase) -> None:
        super().__init__()
        self._raw = raw
        self.last_line = b""

    def readline(self, size: int | None = -1, /) -> bytes:
        self.last_line = self._raw.readline(-1 if size is None else size)
        return self.last_line

    def read(self, size: int | None = -1, /) -> bytes:
        return self._raw.read(size)

    def read1(self, size: int = -1, /) -> bytes:
        return self._raw.read1(size)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Answers to a request line too broken to carry a version still get a status line.
    default_request_version = "HTTP/1.0"
    # Without TCP_NODELAY every keep-alive response waits ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True
    server: GatewayServer
    rfile: _LineReader
    _request_id = ""
    _deadline = 0.0
    _responded = False
    _linger = False

    def setup(self) -> None:
        super().setup()
        self.rfile = _LineReader(self.rfile)

    def handle_one_request(self) -> None:
        """http.server's, plus: incomplete requests refused, timeouts, and hang-ups kept quiet."""
        self._request_id, self._responded = str(uuid.uuid4()), False
        # None yet: not the previous request's (an early answer logs and reads these).
        self.headers = http.client.HTTPMessage()
        self.command, self.requestline, self.request_version = "", "", self.default_request_version
        try:
            self.connection.settimeout(self.server.idle_timeout)
            try:
                self.raw_requestline = self.rfile.readline(65537)
            except TimeoutError:  # an idle keep-alive connection: closed without a word
                self.close_connection = True
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            self._deadline = time.monotonic() + self.server.client_timeout
            self.connection.settimeout(self.server.client_timeout)
            if len(self.raw_requestline) > 65536:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline.endswith(b"\n"):
                self._error(INCOMPLETE_REQUEST, close=True)
                return
            if not self.parse_request():
                return
            if self.rfile.last_line not in (b"\r\n", b"\n"):
                self._error(INCOMPLETE_REQUEST, close=True)
                return
            # Every method, made-up ones too, is routed: an unknown one gets the unknown-route
            # error in the API's shape, as from API Gateway, not http.server's HTML 501 page.
            self._serve(self.command)
        except TimeoutError:  # the client stopped sending its headers, or stopped reading
            self._timed_out()
        except OSError as error:  # the client hung up: nothing to answer, nothing to print
            logger.debug("connection from %s ended early: %r", self.client_address[0], error)
            self.close_connection = True

    def finish(self) -> None:
        super().finish()
        if self._linger:
            httpio.linger_close(
                self.connection, seconds=self.server.client_timeout, max_bytes=LINGER_MAX_BYTES
            )

    def handle_expect_100(self) -> bool:
        # A body over the limit is refused before the client sends it (curl waits for 100 first).
        with contextlib.suppress(ValueError):
            if int(self.headers.get("Content-Length") or 0) > routes.MAX_REQUEST_BYTES:
                return True
        return super().handle_expect_100()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own refusals (broken request line, headers too long), in the API's shape.
        reason = (message or HTTPStatus(code).phrase).rstrip(".")
        error = GatewayError(
            "BAD_REQUEST_BODY",
            code,
            "invalid_request_error",
            "malformed_request",
            f"Malformed HTTP request: {reason}.",
        )
        self._error(error, linger=True)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log:
            super().log_message(format, *args)

    def _serve(self, method: str) -> None:
        body = self._body()
        if body is None:
            return
        url = urlsplit(self.path)
        path = unquote(url.path)
        found = match(method, path)
        if found is None:
            self._error(gateway_errors.UNKNOWN_ROUTE)
            return
        route, parameters = found
        api_key = self.server.api_key
        if api_key is not None and route.api_key_required and self.headers.get("x-api-key") != api_key:
            self._error(gateway_errors.INVALID_API_KEY)
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
            request_id=self._request_id,
        )
        timeout = self.server.integration_timeout
        invocation = self.server.pools.submit(route.function, event, timeout)
        try:
            response = invocation.result.get(timeout=timeout)
        except multiprocessing.TimeoutError:
            response = None
        except Exception:
            # API Gateway answers 502 when the function crashes; the details stay in its logs.
            logger.warning("function %s failed on request %s", route.function, self._request_id)
            self._error(replace(FUNCTION_FAILED, message=FUNCTION_FAILED.message.format(self._request_id)))
            return
        if response is None:
            self._error(self._integration_timeout(invocation))
            return
        self._send_proxy_response(response)

    def _body(self) -> bytes | None:
        """The request body, decompressed; None once the request has been answered."""
        try:
            raw = httpio.read_body(
                self.rfile,
                self.connection,
                self.headers,
                max_bytes=routes.MAX_REQUEST_BYTES,
                deadline=self._deadline,
            )
        except httpio.BodyTooLarge:
            self._error(gateway_errors.BODY_TOO_LARGE, linger=True)
            return None
        except httpio.BadFraming:
            self._error(BAD_FRAMING, linger=True)
            return None
        except httpio.IncompleteBody:
            self._error(INCOMPLETE_REQUEST, close=True)
            return None
        except httpio.BodyTimeout:
            self._timed_out()
            return None
        try:
            return httpio.decode_content(
                raw, self.headers.get("Content-Encoding"), max_bytes=routes.MAX_REQUEST_BYTES
            )
        except httpio.BodyTooLarge:
            self._error(DECOMPRESSED_TOO_LARGE)
        except httpio.UnsupportedEncoding:
            self._error(gateway_errors.UNSUPPORTED_CONTENT_ENCODING)
        return None

    def _integration_timeout(self, invocation: Invocation) -> GatewayError:
        """The 504, saying whether the time went to the function or to waiting for a local worker."""
        timeout = self.server.integration_timeout
        started = self.server.pools.started_at(invocation)
        waited = (started if started is not None else time.monotonic()) - invocation.submitted
        if waited < min(1.0, timeout / 10):
            return gateway_errors.INTEGRATION_TIMEOUT  # the function itself took the time, as on AWS
        workers = f"{self.server.pools.containers} {invocation.function} worker processes"
        advice = "retry, or start the gateway with more workers (embedrock serve --containers N)."
        if started is None:
            message = (
                f"The local gateway's {workers} were all busy with earlier requests for the whole "
                f"{timeout:g} s of API Gateway's integration timeout, so this request never ran; {advice}"
            )
        else:
            message = (
                f"This request waited {waited:.1f} s for one of the local gateway's {workers} (all busy "
                f"with earlier requests), then ran past API Gateway's {timeout:g} s integration timeout; "
                f"{advice}"
            )
        return replace(gateway_errors.INTEGRATION_TIMEOUT, message=message)

    def _timed_out(self) -> None:
        self.close_connection = True
        if not self._responded:
            with contextlib.suppress(OSError):
                timeout = self.server.client_timeout
                self.connection.settimeout(timeout)
                self._error(replace(REQUEST_TIMEOUT, message=REQUEST_TIMEOUT.message.format(timeout)))

    def _send_proxy_response(self, response: Mapping[str, Any]) -> None:
        headers: dict[str, str] = {}
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name.lower()] = ", ".join(str(value) for value in values)
        for name, value in (response.get("headers") or {}).items():
            headers[name.lower()] = str(value)
        raw = response.get("body") or ""
        body = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode("utf-8")
        self._send(int(response.get("statusCode", 200)), headers, body)

    def _error(self, error: GatewayError, *, close: bool = False, linger: bool = False) -> None:
        """An error in the API's shape; `linger`: the request is unread, so drain it after."""
        if close or linger:
            self.close_connection = True
        self._linger = linger
        self._send(error.status, {"content-type": "application/json"}, json.dumps(error.body()).encode())

    def _send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self._responded = True
        # The client has the whole timeout to take the answer, whatever reading the request left.
        self.connection.settimeout(self.server.client_timeout)
        coding = None
        if len(body) >= routes.MIN_COMPRESSION_BYTES and "content-encoding" not in headers:
            # As API Gateway with minimumCompressionSize set: the client's preferred coding.
            coding = httpio.preferred_coding(self.headers.get("Accept-Encoding"))
        if coding is not None:
            body = httpio.compress(body, coding)
        self.send_response(status)
        for name, value in headers.items():
            if name not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        if coding is not None:
            self.send_header("Content-Encoding", coding)
        self.send_header("x-amzn-requestid", self._request_id)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


# Local only, not gateway responses the stack installs: API Gateway's front end refuses such
# requests before any route is matched.
BAD_FRAMING = GatewayError(
    "BAD_REQUEST_BODY",
    400,
    "invalid_request_error",
    "invalid_body_framing",
    "The request body's framing is broken (Content-Length or chunk sizes); send a valid HTTP request.",
)
INCOMPLETE_REQUEST = GatewayError(
    "BAD_REQUEST_BODY",
    400,
    "invalid_request_error",
    "incomplete_request",
    "The connection ended before the request did (its headers, or the bytes its Content-Length or "
    "chunks announce); nothing was run. Send the whole request.",
)
# A client too slow to send its request: told why, rather than just disconnected.
REQUEST_TIMEOUT = GatewayError(
    "REQUEST_TIMEOUT",
    408,
    "invalid_request_error",
    "request_timeout",
    "The request did not arrive whole within {:g} s of its first line; send it again, faster "
    "(embedrock serve --client-timeout sets this limit).",
)
DECOMPRESSED_TOO_LARGE = replace(
    gateway_errors.BODY_TOO_LARGE,
    message="The request body, once decompressed, is over the 6 MB limit of a Lambda payload: send "
    "fewer texts per request, or use the batch pipeline for whole files.",
)
# API Gateway's answer when the function fails (crash, timeout of the process, bad response).
FUNCTION_FAILED = GatewayError(
    "DEFAULT_5XX",
    502,
    "internal_error",
    "internal_error",
    "Internal server error; quote request id {} when reporting it.",
)


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    # Closing must not wait for the threads of idle keep-alive connections.
    block_on_close = False
    allow_reuse_address = True
    # Clients open many connections at once under load; the default backlog of 5 resets some.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        pools: FunctionPools,
        *,
        api_key: str | None = None,
        limits: ConnectionLimits = DEFAULT_LIMITS,
    ) -> None:
        super().__init__(address, _Handler)
        self.pools = pools
        self.api_key = api_key
        self.integration_timeout = limits.integration_timeout
        self.client_timeout = limits.client_timeout
        self.idle_timeout = limits.idle_timeout
        self.access_log = limits.access_log
        self._connections = threading.BoundedSemaphore(limits.max_connections)
        self._closing = threading.Event()

    def process_request(self, request: Any, client_address: Any) -> None:
        # At the bound, stop accepting: the kernel queues new connections until a thread is free
        # (every connection is time-limited, so one always frees up).
        while not self._connections.acquire(timeout=0.2):
            if self._closing.is_set():
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._connections.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._connections.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Never a traceback on the terminal: a client that hung up is normal (debug); anything
        # else is one line, with the traceback at debug level.
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            logger.debug("connection from %s ended early: %r", client_address[0], error)
            return
        logger.error("the gateway failed on a request from %s: %r", client_address[0], error)
        logger.debug("traceback", exc_info=True)

    def shutdown(self) -> None:
        self._closing.set()
        super().shutdown()


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
        limits: ConnectionLimits = DEFAULT_LIMITS,
    ) -> None:
        self.pools = FunctionPools(environment, containers)
        self.server = GatewayServer((host, port), self.pools, api_key=api_key, limits=limits)
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
