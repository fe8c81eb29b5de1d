"""The HTTP reader shared by the local gateway and the emulator, without sockets."""

from __future__ import annotations

import gzip
import io
import time
import zlib
from email.message import Message
from typing import Any

import pytest

from embedrock_local.runtime import httpio

LIMIT = 1000


class Connection:
    """What the reader needs of a socket: per-read timeouts."""

    def settimeout(self, value: float | None) -> None:
        self.timeout = value


def read(data: bytes, max_bytes: int | None = LIMIT, deadline: float | None = None, **headers: str) -> bytes:
    message = Message()
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    rfile = io.BufferedReader(io.BytesIO(data))  # type: ignore[arg-type]
    connection: Any = Connection()
    return httpio.read_body(
        rfile, connection, message, max_bytes=max_bytes, deadline=deadline or time.monotonic() + 10
    )


def test_a_body_is_read_to_its_length_and_no_further() -> None:
    assert read(b"hello, and the next request", Content_Length="5") == b"hello"
    assert read(b"", Content_Length="0") == b""


@pytest.mark.parametrize(
    ("data", "headers", "error"),
    [
        (b"hel", {"Content_Length": "5"}, httpio.IncompleteBody),
        (b"5\r\nhello\r\n", {"Transfer_Encoding": "chunked"}, httpio.IncompleteBody),
        (b"5\r\nhel", {"Transfer_Encoding": "chunked"}, httpio.IncompleteBody),
        (b"", {"Content_Length": "abc"}, httpio.BadFraming),
        (b"", {"Content_Length": "-1"}, httpio.BadFraming),
        (b"zz\r\n", {"Transfer_Encoding": "chunked"}, httpio.BadFraming),
        (b"", {"Content_Length": str(LIMIT + 1)}, httpio.BodyTooLarge),
        (b"3e9\r\n" + b"x" * 1001 + b"\r\n0\r\n\r\n", {"Transfer_Encoding": "chunked"}, httpio.BodyTooLarge),
    ],
    ids=[
        "short",
        "no-last-chunk",
        "short-chunk",
        "letters",
        "negative",
        "bad-chunk",
        "too-large",
        "chunks-too-large",
    ],
)
def test_broken_bodies_say_why(data: bytes, headers: dict[str, str], error: type[Exception]) -> None:
    with pytest.raises(error):
        read(data, **headers)


def test_chunks_and_trailers() -> None:
    data = b"5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nTrailer: x\r\n\r\nNEXT"
    assert read(data, Transfer_Encoding="chunked") == b"hello!"


def test_a_passed_deadline_is_a_timeout() -> None:
    with pytest.raises(httpio.BodyTimeout):
        read(b"hello", Content_Length="5", deadline=time.monotonic() - 1)


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("coding", "encoded"),
    [
        (None, b"text"),
        ("identity", b"text"),
        ("gzip", gzip.compress(b"text", mtime=0)),
        ("gzip, identity", gzip.compress(b"text", mtime=0)),
        ("deflate", zlib.compress(b"text")),
        ("deflate", raw_deflate(b"text")),
        ("gzip", gzip.compress(b"te", mtime=0) + gzip.compress(b"xt", mtime=0)),  # two gzip members
        ("deflate, gzip", gzip.compress(zlib.compress(b"text"), mtime=0)),  # undone in reverse order
    ],
)
def test_content_codings_are_undone(coding: str | None, encoded: bytes) -> None:
    assert httpio.decode_content(encoded, coding, max_bytes=LIMIT) == b"text"


@pytest.mark.parametrize(
    ("coding", "encoded", "error"),
    [
        ("br", b"\x1b", httpio.UnsupportedEncoding),
        ("x-gzip", gzip.compress(b"text", mtime=0), httpio.UnsupportedEncoding),  # not one API Gateway lists
        ("gzip", b"plain", httpio.UnsupportedEncoding),
        ("gzip", gzip.compress(b"text", mtime=0)[:-4], httpio.UnsupportedEncoding),
        ("gzip", gzip.compress(b"x" * (LIMIT + 1), mtime=0), httpio.BodyTooLarge),
        ("deflate", zlib.compress(b"x" * 10_000_000), httpio.BodyTooLarge),
    ],
    ids=["unknown", "x-gzip", "not-gzip", "truncated", "over-limit", "bomb"],
)
def test_bad_or_oversized_encodings(coding: str, encoded: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        httpio.decode_content(encoded, coding, max_bytes=LIMIT)


def test_an_empty_body_needs_no_decoding() -> None:
    assert httpio.decode_content(b"", "gzip", max_bytes=LIMIT) == b""


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        (None, None),
        ("", None),
        ("gzip", "gzip"),
        ("GZIP;q=0.8", "gzip"),
        ("deflate", "deflate"),
        ("deflate, gzip", "gzip"),
        ("gzip;q=0.5, deflate", "deflate"),
        ("br, gzip;q=0.9", None),
        ("*", "gzip"),
        ("gzip;q=0", None),
        ("identity", None),
        ("gzip;q=abc, deflate;q=0.1", "deflate"),
    ],
)
def test_the_preferred_coding_is_compressed_only_if_supported(accept: str | None, coding: str | None) -> None:
    assert httpio.preferred_coding(accept) == coding


@pytest.mark.parametrize(("coding", "decode"), [("gzip", gzip.decompress), ("deflate", zlib.decompress)])
def test_compress_round_trips(coding: str, decode: Any) -> None:
    body = b'{"embedding": [0.1, 0.2]}' * 100
    assert decode(httpio.compress(body, coding)) == body
