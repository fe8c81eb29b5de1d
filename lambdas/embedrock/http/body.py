"""Request bodies parsed as JSON, every way a body can be broken answered as a 400.

API Gateway hands the function a body that is text, or base64 when the bytes were not text.
Bytes that are not UTF-8, JSON nested past the parser's recursion limit, integers longer
than Python converts, and unpaired UTF-16 surrogates (which Bedrock cannot take and which
cannot be written back out as UTF-8) all become a clean error here instead of a 500.
NaN and Infinity are parsed (Python clients send them) so that the vector checks can name
the field that holds them. A body that is JSON but not an object is a 400 too.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from embedrock.errors import InvalidRequest
from embedrock.http.validation import field_path

_SURROGATE = re.compile("[\ud800-\udfff]")


def decode(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event with a base64 body turned into text; bytes that are not UTF-8 are kept as
    lone surrogates (surrogateescape) so that `parse` can report where they are."""
    if not event.get("isBase64Encoded") or not event.get("body"):
        return event
    try:
        raw = base64.b64decode(str(event["body"]), validate=True)
    except (binascii.Error, ValueError):
        return event  # not ours to fix: Powertools reports it as it would
    return {**event, "body": raw.decode("utf-8", errors="surrogateescape"), "isBase64Encoded": False}


def parse(text: str) -> Any:
    """json.loads, with the failures json.loads does not report as JSON errors turned into them."""
    # A UTF-8 byte order mark (Windows tools write one) is not JSON, but its meaning is clear:
    # skipped, as many servers do, instead of failing with Python's "decode using utf-8-sig".
    text = text.removeprefix("\ufeff")
    if not text.isascii():  # O(1) in CPython: only bodies with non-ASCII text pay the check
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise json.JSONDecodeError(
                "it is not UTF-8 (send JSON encoded as UTF-8)", text, error.start
            ) from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("it is nested too deeply", text, 0) from None
    except json.JSONDecodeError as error:
        # json's own message without its position ("Unterminated string starting at"), then
        # the position once, in words.
        where = f"line {error.lineno}, column {error.colno}"
        raise json.JSONDecodeError(f"{error.msg.removesuffix(' at')} at {where}", text, error.pos) from None
    except ValueError:  # an integer of more digits than Python converts (4300)
        raise json.JSONDecodeError("a number in it has too many digits", text, 0) from None
    # A surrogate escape: only unpaired ones are a problem. A body with no backslash at all (a
    # body of base64, an image) has none, and a search for one character is a memchr: ~30 µs per
    # 500 KB where a search for `\u` takes ~550 µs.
    first = text.find("\\")
    if first >= 0 and _has_surrogate_escape(text, first):
        _reject_lone_surrogates(data, ())
    if not isinstance(data, dict):
        # Every body of this API is an object. Powertools would quietly take the first item
        # of a list as the body; reported instead as the resolver reports a wrong body type.
        raise RequestValidationError(
            [{"type": "dict_type", "loc": ("body",), "msg": "not an object", "input": {}}]
        )
    return data


def _has_surrogate_escape(text: str, start: int) -> bool:
    """A `\\ud...` or `\\uD...` escape at or after `start`: a `\\u` first, as most bodies have none."""
    escape = text.find("\\u", start)
    return escape >= 0 and (text.find("\\ud", escape) >= 0 or text.find("\\uD", escape) >= 0)


def _reject_lone_surrogates(value: Any, path: tuple[str | int, ...]) -> None:
    if isinstance(value, str):
        if _SURROGATE.search(value):
            where = field_path(path)
            raise InvalidRequest(
                f"{where or 'the body'} holds an unpaired UTF-16 surrogate (a \\ud800-\\udfff escape "
                "without its partner); strings must be valid Unicode.",
                param=where or None,
                code="invalid_unicode",
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_lone_surrogates(key, path)
            _reject_lone_surrogates(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_lone_surrogates(item, (*path, index))
