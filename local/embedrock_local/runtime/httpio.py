"""HTTP/1.1 plumbing shared by the local gateway and the Bedrock emulator's server.

http.server alone executes a body cut short of its Content-Length, dispatches headers cut
off by the end of the connection, waits forever for a slow client and closes with the
request unread (so the client sees a reset instead of the answer). These helpers read a
request whole or say why not, within a deadline and a size limit.
"""

from __future__ import annotations

import contextlib
import socket
import time
import zlib
from collections.abc import Callable
from email.message import Message
from typing import Protocol

# API Gateway's supported content codings: deflate, gzip, identity; anything else, or a body not
# compressed as declared, is a 415 ("Call an API method with a compressed payload in API Gateway"
# and "Enable payload compression for an API in API Gateway", Amazon API Gateway developer guide).
CODINGS = ("gzip", "deflate", "identity")
_CHUNK = 64 * 1024

# The local servers' defaults (here, not in the gateway module, so the CLI reads them cheaply).
# A client has this long to send a request once its first line arrived (headers, then the whole
# body) and to take the response; after it the gateway answers 408 and closes the connection.
CLIENT_TIMEOUT_SECONDS = 10.0
# A keep-alive connection with no request for this long is closed.
IDLE_TIMEOUT_SECONDS = 30.0
# Each open connection holds a thread; past this many, new ones wait in the listen backlog.
MAX_CONNECTIONS = 128


class BodyError(Exception):
    """The request body cannot be used; the subclass says why."""


class IncompleteBody(BodyError):
    """The connection ended before the body did."""


class BadFraming(BodyError):
    """Content-Length or a chunk size is not a valid number."""


class BodyTooLarge(BodyError):
    """The body, as sent or once decompressed, is over the limit."""


class BodyTimeout(BodyError):
    """The client took longer than the deadline to send the body."""


class UnsupportedEncoding(BodyError):
    """A content coding other than gzip, deflate or identity, or a body it does not decode."""


class Readable(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...

    def read1(self, size: int = -1, /) -> bytes: ...


def read_body(
    rfile: Readable,
    connection: socket.socket,
    headers: Message,
    *,
    max_bytes: int | None,
    deadline: float,
) -> bytes:
    """The whole body by Content-Length or chunks, by `deadline` (time.monotonic())."""
    reader = _Reader(rfile, connection, deadline)
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        return _read_chunks(reader, max_bytes)
    try:
        length = int(headers.get("Content-Length") or 0)
    except ValueError:
        raise BadFraming("Content-Length is not a number") from None
    if length < 0:
        raise BadFraming("negative Content-Length")
    if max_bytes is not None and length > max_bytes:
        raise BodyTooLarge
    return reader.exactly(length)


def _read_chunks(reader: _Reader, max_bytes: int | None) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        line = reader.line(1024)
        if not line.endswith(b"\n"):
            raise IncompleteBody("the connection ended in a chunk size")
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise BadFraming("a chunk size is not hexadecimal") from None
        if size < 0:
            raise BadFraming("negative chunk size")
        if size == 0:
            while (trailer := reader.line(8192)) not in (b"\r\n", b"\n"):
                if not trailer.endswith(b"\n"):
                    raise IncompleteBody("the connection ended in the trailers")
            return b"".join(chunks)
        total += size
        if max_bytes is not None and total > max_bytes:
            raise BodyTooLarge
        chunks.append(reader.exactly(size))
        if not reader.line(64).endswith(b"\n"):
            raise IncompleteBody("the connection ended after a chunk")


class _Reader:
    """Reads that give up at the deadline, not after each recv's own timeout."""

    def __init__(self, rfile: Readable, connection: socket.socket, deadline: float) -> None:
        self._rfile, self._connection, self._deadline = rfile, connection, deadline

    def _within_deadline(self, read: Callable[[int], bytes], size: int) -> bytes:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise BodyTimeout
        self._connection.settimeout(remaining)
        try:
            return read(size)
        except TimeoutError:
            raise BodyTimeout from None

    def exactly(self, length: int) -> bytes:
        parts: list[bytes] = []
        missing = length
        while missing > 0:
            # read1: at most one recv, so the deadline is checked between recvs.
            part = self._within_deadline(self._rfile.read1, min(missing, _CHUNK))
            if not part:
                raise IncompleteBody(f"the body ended {missing} bytes short of its length")
            parts.append(part)
            missing -= len(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def line(self, limit: int) -> bytes:
        return self._within_deadline(self._rfile.readline, limit)


def decode_content(body: bytes, content_encoding: str | None, *, max_bytes: int) -> bytes:
    """The body with its content codings undone, as API Gateway does before calling Lambda.

    Decompression stops past `max_bytes`, so a small "zip bomb" never grows in memory.
    """
    codings = [coding.strip().lower() for coding in (content_encoding or "").split(",") if coding.strip()]
    if not body:
        return body
    for coding in reversed(codings):  # codings are listed in the order they were applied
        if coding not in CODINGS:
            raise UnsupportedEncoding(f"content coding {coding!r}")
        if coding == "gzip":
            body = _inflate(body, zlib.MAX_WBITS | 16, max_bytes)
        elif coding == "deflate":
            # RFC 9110's deflate is zlib-wrapped; some clients send raw deflate: take both.
            try:
                body = _inflate(body, zlib.MAX_WBITS, max_bytes)
            except UnsupportedEncoding:
                body = _inflate(body, -zlib.MAX_WBITS, max_bytes)
    return body


def _inflate(data: bytes, wbits: int, max_bytes: int) -> bytes:
    out: list[bytes] = []
    size = 0
    while data:  # gzip allows several members one after the other
        inflater = zlib.decompressobj(wbits)
        try:
            part = inflater.decompress(data, max_bytes + 1 - size)
        except zlib.error:
            raise UnsupportedEncoding("the body is not compressed as its Content-Encoding says") from None
        size += len(part)
        if size > max_bytes:
            raise BodyTooLarge
        out.append(part)
        if not inflater.eof:
            raise UnsupportedEncoding("the compressed body is truncated")
        data = inflater.unused_data if wbits & 16 else b""
    return b"".join(out)


def preferred_coding(accept_encoding: str | None) -> str | None:
    """gzip or deflate if one of them is the client's highest-priority coding, else None.

    API Gateway compresses only when the highest-priority coding is one it supports; among
    equally preferred ones (curl's "deflate, gzip, br, zstd") gzip is taken, as most servers do.
    """
    qualities: dict[str, float] = {}
    for item in (accept_encoding or "").split(","):
        name, _, parameters = item.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        quality = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[{"x-gzip": "gzip", "*": "gzip"}.get(name, name)] = quality
    best = max(qualities.values(), default=0.0)
    if best <= 0:
        return None
    preferred = {name for name, quality in qualities.items() if quality == best}
    return next((coding for coding in ("gzip", "deflate") if coding in preferred), None)


def compress(body: bytes, coding: str) -> bytes:
    # Level 1: JSON vectors shrink nearly as much as at 9, for a fraction of the CPU.
    if coding == "gzip":
        compressor = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    else:
        compressor = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


def linger_close(connection: socket.socket, *, seconds: float, max_bytes: int) -> None:
    """Half-close, then read and discard what the client still sends, until it closes.

    Closing with unread data makes the kernel send a reset, and a client that sends its
    whole body before reading (urllib, requests) would see the reset, not the response.
    """
    deadline = time.monotonic() + seconds
    discarded = 0
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_WR)
        while discarded < max_bytes and (remaining := deadline - time.monotonic()) > 0:
            connection.settimeout(remaining)
            data = connection.recv(_CHUNK)
            if not data:
                break
            discarded += len(data)
