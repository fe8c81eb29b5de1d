"""The local gateway over real sockets behaves like API Gateway's front end.

Raw sockets where a client library would hide the defect (cut-off requests, slow clients,
hang-ups). One gateway with short timeouts serves the module; its function workers write
their logs to a file, so a test can read what a handler logged.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import logging
import os
import select
import socket
import struct
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from embedrock import routes
from embedrock_local.runtime.gateway import ConnectionLimits
from embedrock_local.runtime.serve import LocalRuntime
from tests.integration.conftest import warm_up

pytestmark = pytest.mark.integration

CLIENT_TIMEOUT = 1.0
IDLE_TIMEOUT = 1.0
INTEGRATION_TIMEOUT = 3.0
MAX_CONNECTIONS = 8
EMBED = json.dumps({"texts": ["hello world"], "dimensions": 256}).encode()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LocalRuntime, Path]]:
    """The runtime, and the file its function workers write their stdout (the logs) to."""
    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory) / "functions.log"
        runtime = LocalRuntime(
            containers=1,
            limits=ConnectionLimits(
                integration_timeout=INTEGRATION_TIMEOUT,
                client_timeout=CLIENT_TIMEOUT,
                idle_timeout=IDLE_TIMEOUT,
                max_connections=MAX_CONNECTIONS,
            ),
        )
        # The workers start here and inherit fd 1: point it at the log file while they do.
        sys.stdout.flush()
        saved = os.dup(1)
        with log.open("wb") as sink:
            os.dup2(sink.fileno(), 1)
            try:
                runtime.start()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
        try:
            yield warm_up(runtime), log  # the 3 s integration timeout is not for first-request imports
        finally:
            runtime.close()


@pytest.fixture
def gw(served: tuple[LocalRuntime, Path]) -> Iterator[LocalRuntime]:
    runtime = served[0]
    assert runtime.emulator is not None
    runtime.emulator.faults.clear()
    runtime.emulator.stats.reset()
    yield runtime
    runtime.emulator.faults.clear()


def address(runtime: LocalRuntime) -> tuple[str, int]:
    host, port = runtime.url.removeprefix("http://").split(":")
    return host, int(port)


def read_until_closed(connection: socket.socket) -> bytes:
    answer = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def read_one_answer(connection: socket.socket) -> bytes:
    """One whole HTTP answer with a Content-Length, however many packets it arrives in."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += connection.recv(65536) or b"<closed>"
        assert not answer.endswith(b"<closed>"), answer
    head, body = answer.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, "closed before the answer's body ended"
        body += chunk
    assert len(body) == length, "more bytes than the answer's Content-Length"
    return head + b"\r\n\r\n" + body


def exchange(runtime: LocalRuntime, data: bytes, *, half_close: bool = True) -> bytes:
    """Send raw bytes (then end the sending side), and read the answer until the gateway closes."""
    with socket.create_connection(address(runtime), timeout=10) as connection:
        connection.sendall(data)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        return read_until_closed(connection)


def parsed(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def error_of(answer: bytes, status: int) -> dict[str, Any]:
    got, _, body = parsed(answer)
    assert got == status, answer[:300]
    error: dict[str, Any] = json.loads(body)["error"]
    assert set(error) == {"type", "message", "param", "code"}
    assert "Traceback" not in body.decode()
    return error


def post_head(length: int, path: str = "/embeddings", extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    ).encode()


# --- 1. incomplete requests are refused, never run ---------------------------------------


def test_a_body_shorter_than_its_content_length_is_a_400_and_never_runs(gw: LocalRuntime) -> None:
    # Given a valid JSON body whose Content-Length promises 10 more bytes, and the client ends
    answer = exchange(gw, post_head(len(EMBED) + 10) + EMBED)

    # Then it is refused, and nothing reached the function's Bedrock
    assert error_of(answer, 400)["code"] == "incomplete_request"
    assert gw.emulator is not None and gw.emulator.stats.calls("InvokeModel") == 0


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /health HTTP/1.1\r\nHost: local\r\nUser-Ag",  # cut mid-line
        b"GET /health HTTP/1.1\r\nHost: local\r\n",  # no empty line after the headers
        b"GET /health",  # cut in the request line
        post_head(0, extra="Transfer-Encoding: chunked\r\n") + b"5\r\nhello\r\n",  # no last chunk
    ],
    ids=["mid-header", "no-end-of-headers", "request-line", "chunks"],
)
def test_a_request_cut_off_is_a_400_and_never_dispatched(gw: LocalRuntime, request_bytes: bytes) -> None:
    # /health would answer 200 if the function ran
    assert error_of(exchange(gw, request_bytes), 400)["code"] == "incomplete_request"


def test_pipelined_requests_on_one_connection_are_each_read_whole(gw: LocalRuntime) -> None:
    # A sized body, a chunked one and a GET, sent at once: each is read to its end, no further
    vectors = json.dumps({"vectors": [[3, 4], [3, 4]]}).encode()
    chunked = f"{len(vectors):x}\r\n".encode() + vectors + b"\r\n0\r\n\r\n"
    answer = exchange(
        gw,
        post_head(len(vectors), "/similarity")
        + vectors
        + post_head(0, "/similarity", "Transfer-Encoding: chunked\r\n").replace(b"Content-Length: 0\r\n", b"")
        + chunked
        + b"GET /health HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n",
    )
    assert answer.count(b"HTTP/1.1 200 ") == 3 and answer.count(b'"score"') == 2


# --- 2. slow and idle clients are timed out; connections are bounded -----------------------


def test_half_sent_bodies_get_a_408_and_threads_stay_bounded(gw: LocalRuntime) -> None:
    # Given more half-sent requests than the gateway serves connections at once
    before = threading.active_count()
    count = MAX_CONNECTIONS * 2 + 4
    connections = [socket.create_connection(address(gw), timeout=10) for _ in range(count)]
    try:
        for connection in connections:
            connection.sendall(post_head(100) + b'{"texts": ')
        time.sleep(CLIENT_TIMEOUT / 2)
        busy = threading.active_count() - before
        started = time.monotonic()
        answers = [read_until_closed(connection) for connection in connections]
        elapsed = time.monotonic() - started
    finally:
        for connection in connections:
            connection.close()

    # Then no more threads than the bound served them, and each got a 408 within a few timeouts
    assert busy <= MAX_CONNECTIONS
    assert elapsed < CLIENT_TIMEOUT * (count / MAX_CONNECTIONS + 3)
    for answer in answers:
        assert error_of(answer, 408)["code"] == "request_timeout"


def test_a_body_sent_a_byte_at_a_time_still_times_out(gw: LocalRuntime) -> None:
    # The limit is on the whole body, not on each read: bytes trickling in do not hold the thread
    with socket.create_connection(address(gw), timeout=10) as connection:
        connection.sendall(post_head(1000))
        started = time.monotonic()
        with contextlib.suppress(OSError):  # the gateway may close while we still send
            while time.monotonic() - started < CLIENT_TIMEOUT * 5:
                connection.sendall(b" ")
                if select.select([connection], [], [], CLIENT_TIMEOUT / 10)[0]:
                    break  # the answer is there
        answer = read_until_closed(connection)
    assert time.monotonic() - started < CLIENT_TIMEOUT * 4
    assert error_of(answer, 408)["code"] == "request_timeout"


def test_an_idle_connection_is_closed_without_an_answer(gw: LocalRuntime) -> None:
    with socket.create_connection(address(gw), timeout=10) as connection:
        # One request on the keep-alive connection, then silence
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: local\r\n\r\n")
        first = read_one_answer(connection)
        started = time.monotonic()
        rest = read_until_closed(connection)
    assert first.startswith(b"HTTP/1.1 200") and rest == b""
    assert time.monotonic() - started < IDLE_TIMEOUT * 4


def test_requests_wait_for_a_free_connection_slot_then_are_served(gw: LocalRuntime) -> None:
    # Given every slot held by a silent connection
    holders = [socket.create_connection(address(gw), timeout=10) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.1)
        # When one more client asks, it is served once the idle ones are closed
        response = requests.get(f"{gw.url}/health", timeout=IDLE_TIMEOUT * 10)
    finally:
        for holder in holders:
            holder.close()
    assert response.status_code == 200


def test_keep_alive_answers_do_not_wait_for_a_delayed_ack(gw: LocalRuntime) -> None:
    # With Nagle on, each answer's body waits ~40 ms for the ACK of its headers (DESIGN's trap)
    connection = http.client.HTTPConnection(*address(gw), timeout=10)
    latencies = []
    for _ in range(21):
        started = time.perf_counter()
        connection.request("GET", "/health")
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
    connection.close()
    assert response.status == 200 and not response.will_close
    # With Nagle even the fastest answers take ~40 ms; without, most take a few ms even on a busy machine
    assert sorted(latencies)[5] < 0.03


# --- 3. clients that hang up print nothing ------------------------------------------------


def abort(connection: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0), as a killed client or a fired client timeout does."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def test_clients_that_hang_up_leave_one_debug_line_and_no_traceback(
    gw: LocalRuntime, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="embedrock_local.runtime.gateway")
    vectors = json.dumps({"vectors": [[1.0] * 512, [0.5] * 512], "matrix": True}).encode()
    for _ in range(20):
        # Hang up mid-body, and right after sending a whole request (before its answer)
        connection = socket.create_connection(address(gw), timeout=10)
        connection.sendall(post_head(len(vectors), "/similarity") + vectors[:100])
        abort(connection)
        connection = socket.create_connection(address(gw), timeout=10)
        connection.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: local\r\n\r\n")
        abort(connection)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(gateway_records(caplog)) < 20:
        time.sleep(0.1)
    # The gateway still serves
    assert requests.get(f"{gw.url}/health", timeout=10).status_code == 200

    records = gateway_records(caplog)
    assert len(records) >= 20
    assert all(record.levelno == logging.DEBUG and record.exc_info is None for record in records)
    assert all("\n" not in record.getMessage() for record in records)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err


def gateway_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "embedrock_local.runtime.gateway"]


# --- 4. a body over the limit: every client reads the 413 ---------------------------------

OVER_LIMIT = b" " * (15 * 1024 * 1024)


def test_urllib_reads_the_413_of_a_15_mb_body(gw: LocalRuntime) -> None:
    request = urllib.request.Request(
        f"{gw.url}/embeddings", data=OVER_LIMIT, headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=30)
    assert raised.value.code == 413
    assert json.loads(raised.value.read())["error"]["code"] == "request_too_large"


def test_requests_reads_the_413_of_a_15_mb_body(gw: LocalRuntime) -> None:
    response = requests.post(f"{gw.url}/embeddings", data=OVER_LIMIT, timeout=30)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert gw.emulator is not None and gw.emulator.stats.calls("InvokeModel") == 0


# --- 5. compressed bodies, as API Gateway takes and gives them ----------------------------


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("deflate", raw_deflate), ("GZIP, identity", None)],
    ids=["gzip", "deflate-zlib", "deflate-raw", "gzip-then-identity"],
)
def test_compressed_request_bodies_are_decompressed(gw: LocalRuntime, coding: str, encode: Any) -> None:
    body = (encode or gzip.compress)(EMBED)
    response = requests.post(
        f"{gw.url}/embeddings", data=body, headers={"Content-Encoding": coding}, timeout=30
    )
    plain = requests.post(f"{gw.url}/embeddings", data=EMBED, timeout=30)
    assert response.status_code == 200, response.text
    # same text, same vector (floats compared with a tolerance, never exactly)
    assert np.allclose(response.json()["embeddings"], plain.json()["embeddings"], atol=1e-6)


@pytest.mark.parametrize(
    ("coding", "body"),
    [("br", b"\x1b\x00"), ("gzip", b"not gzip at all"), ("gzip", gzip.compress(EMBED, mtime=0)[:-12])],
    ids=["unknown-coding", "not-gzip", "truncated-gzip"],
)
def test_unknown_or_broken_encodings_are_a_415(gw: LocalRuntime, coding: str, body: bytes) -> None:
    response = requests.post(
        f"{gw.url}/embeddings", data=body, headers={"Content-Encoding": coding}, timeout=30
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_content_encoding"


def test_a_zip_bomb_is_a_413_once_decompressed(gw: LocalRuntime) -> None:
    bomb = gzip.compress(b" " * (routes.MAX_REQUEST_BYTES + 1))
    assert len(bomb) < 100_000
    response = requests.post(
        f"{gw.url}/embeddings", data=bomb, headers={"Content-Encoding": "gzip"}, timeout=30
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert "decompressed" in response.json()["error"]["message"]
    assert gw.emulator is not None and gw.emulator.stats.calls("InvokeModel") == 0


def get_raw(runtime: LocalRuntime, path: str, accept_encoding: str | None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(*address(runtime), timeout=10)  # no automatic decoding
    headers = {} if accept_encoding is None else {"Accept-Encoding": accept_encoding}
    connection.request("GET", path, headers=headers)
    return connection.getresponse()


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip", "gzip"),
        ("deflate", "deflate"),
        ("deflate, gzip, br, zstd", "gzip"),  # curl --compressed: equal preference, gzip taken
        ("gzip;q=0.5, deflate", "deflate"),
        ("br;q=1.0, gzip;q=0.5", None),  # the preferred coding is not one API Gateway supports
        ("identity", None),
        (None, None),
    ],
)
def test_responses_over_the_minimum_size_are_compressed_when_asked(
    gw: LocalRuntime, accept: str | None, coding: str | None
) -> None:
    response = get_raw(gw, "/openapi.json", accept)
    body = response.read()
    assert response.status == 200
    assert response.getheader("Content-Encoding") == coding
    decoded = {"gzip": gzip.decompress, "deflate": zlib.decompress, None: bytes}[coding](body)
    assert len(decoded) >= routes.MIN_COMPRESSION_BYTES and "paths" in json.loads(decoded)
    # A response under the minimum is never compressed
    small = get_raw(gw, "/health", accept)
    assert len(small.read()) < routes.MIN_COMPRESSION_BYTES and small.getheader("Content-Encoding") is None


# --- 6. the OpenAPI document names a URL the local gateway serves -------------------------


def test_swagger_try_it_out_reaches_the_local_routes(gw: LocalRuntime) -> None:
    document = requests.get(f"{gw.url}/openapi.json", timeout=10).json()
    docs = requests.get(f"{gw.url}/docs", timeout=10).text
    server = document["servers"][0]["url"]
    # Swagger UI sends "Try it out" to the server URL plus the path
    response = requests.post(f"{gw.url}{server.rstrip('/')}/embeddings", data=EMBED, timeout=30)
    assert server == "/" and response.status_code == 200
    assert '"url": "/local"' not in docs and '"url": "/"' in docs


# --- 7. one request id: the header, the event, the Lambda context and the logs -----------


def test_the_request_id_header_is_the_one_the_function_logged(
    gw: LocalRuntime, served: tuple[LocalRuntime, Path]
) -> None:
    # Given Bedrock unavailable, so the function logs a warning about this request
    assert gw.emulator is not None
    gw.emulator.faults.add("unavailable")
    response = requests.post(f"{gw.url}/embeddings", data=EMBED, timeout=30)
    request_id = response.headers["x-amzn-requestid"]
    assert response.status_code == 503

    # Then its log lines carry that id as the API Gateway request id and Lambda's request id
    deadline = time.monotonic() + 10
    lines: list[dict[str, Any]] = []
    while not lines and time.monotonic() < deadline:
        text = served[1].read_text(errors="replace")
        lines = [
            json.loads(line) for line in text.splitlines() if request_id in line and line.startswith("{")
        ]
        time.sleep(0.1)
    assert lines, f"no log line names {request_id}"
    assert all(line["correlation_id"] == request_id for line in lines)
    assert all(line["function_request_id"] == request_id for line in lines)


def test_gateway_answers_carry_a_request_id_too(gw: LocalRuntime) -> None:
    first = requests.get(f"{gw.url}/nowhere", timeout=10)
    second = requests.get(f"{gw.url}/nowhere", timeout=10)
    assert first.status_code == 404
    assert first.headers["x-amzn-requestid"] != second.headers["x-amzn-requestid"]


# --- 8. a 504 from waiting for a local worker says so -------------------------------------


def test_a_504_from_queueing_behind_busy_workers_says_so(gw: LocalRuntime) -> None:
    # Given the only embeddings worker held by a call that outlasts the integration timeout
    assert gw.emulator is not None
    gw.emulator.faults.add("latency", latency_ms=(INTEGRATION_TIMEOUT + 1.0) * 1000, times=1)
    results: list[requests.Response] = []
    holder = threading.Thread(
        target=lambda: results.append(requests.post(f"{gw.url}/embeddings", data=EMBED, timeout=30))
    )
    holder.start()
    deadline = time.monotonic() + 10
    while gw.emulator.stats.in_flight < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert gw.emulator.stats.in_flight == 1

    # When another request comes meanwhile
    queued = requests.post(f"{gw.url}/embeddings", data=EMBED, timeout=30)
    holder.join(timeout=30)

    # Then its 504 says it waited for the local workers, not that it had too many texts
    assert queued.status_code == 504
    error = queued.json()["error"]
    assert error["code"] == "integration_timeout"
    assert "1 embeddings worker processes" in error["message"] and "--containers" in error["message"]
    assert "fewer texts" not in error["message"]
    # The first one did run that long: API Gateway's own message
    assert results[0].status_code == 504 and "fewer texts" in results[0].json()["error"]["message"]
    # And the queued request, abandoned, never ran: the next one is the second Bedrock call
    assert requests.post(f"{gw.url}/embeddings", data=EMBED, timeout=30).status_code == 200
    assert gw.emulator.stats.calls("InvokeModel") == 2
