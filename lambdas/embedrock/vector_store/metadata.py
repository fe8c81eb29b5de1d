"""A document's metadata checked against S3 Vectors' limits before anything is paid for.

The document's text is kept under model.TEXT_KEY (non-filterable), so it counts toward the
metadata's keys and total size; the user's keys are all filterable. Sizes are counted as
limits.py says (compact JSON as UTF-8: how AWS counts them is not documented).
"""

from __future__ import annotations

import json
import math
from typing import Any

from embedrock.errors import InvalidRequest
from embedrock.vector_store import limits
from embedrock.vector_store.model import RESERVED_PREFIX, TEXT_KEY


def check_document(id_: str, metadata: object, text: str | None, *, where: str) -> dict[str, Any]:
    """The metadata as the store keeps it (the user's keys), or InvalidRequest naming `where`."""
    if not limits.KEY_MIN <= len(id_) <= limits.KEY_MAX:
        raise _invalid(
            f"{where}.id",
            f"the id is {len(id_)} characters; a document id has {limits.KEY_MIN} to {limits.KEY_MAX}.",
        )
    if not isinstance(metadata, dict):
        raise _invalid(f"{where}.metadata", "metadata must be a JSON object of keys and values.")
    keys = len(metadata) + (text is not None)
    if keys > limits.METADATA_KEYS_MAX:
        raise _invalid(
            f"{where}.metadata",
            f"metadata has {keys} keys (the text counts as one); at most {limits.METADATA_KEYS_MAX} are allowed.",
        )
    for key, value in metadata.items():
        if key.startswith(RESERVED_PREFIX) or not key:
            raise _invalid(
                f"{where}.metadata.{key[:100]}",
                f"metadata key '{key[:100]}' is not allowed: keys are not empty and do not start with "
                f"'{RESERVED_PREFIX}' (kept for the store's own keys).",
            )
        if not _filterable(value):
            raise _invalid(
                f"{where}.metadata.{key[:100]}",
                "metadata values are strings, numbers, booleans or lists of them.",
            )
    filterable = _size(metadata)
    if filterable > limits.FILTERABLE_BYTES_MAX:
        raise _invalid(
            f"{where}.metadata",
            f"metadata is {filterable} bytes; at most {limits.FILTERABLE_BYTES_MAX} bytes of filterable "
            "metadata are allowed per document.",
        )
    total = _size({**metadata, TEXT_KEY: text} if text is not None else metadata)
    if total > limits.METADATA_BYTES_MAX:
        raise _invalid(
            f"{where}.text",
            f"the text and metadata are {total} bytes; a document keeps at most "
            f"{limits.METADATA_BYTES_MAX} bytes of them (the text is stored with its vector).",
        )
    return dict(metadata)


def _filterable(value: Any) -> bool:
    def primitive(item: Any) -> bool:
        return isinstance(item, str | bool) or (isinstance(item, int | float) and math.isfinite(item))

    return primitive(value) or (isinstance(value, list) and all(primitive(item) for item in value))


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _invalid(param: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, param=param, code="invalid_document")
