"""A document's id and metadata checked against S3 Vectors' per-vector limits, before anything is
paid for: one set of rules for both the collections' API and the pipeline filling a collection.

The document's text is kept under model.TEXT_KEY (non-filterable), so it counts toward the
metadata's keys and total size; the user's keys are all filterable. Sizes are counted as
limits.json_bytes counts them (limits.py has the sources).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from embedrock.errors import InvalidRequest, shown
from embedrock.vector_store import limits
from embedrock.vector_store.model import RESERVED_PREFIX, TEXT_KEY

# Metadata integers are kept to those a JSON number carries exactly everywhere (RFC 8259, section 6).
INT_MAX = 2**53


def check_id(value: str, param: str) -> None:
    if not limits.KEY_MIN <= len(value) <= limits.KEY_MAX:
        raise InvalidRequest(
            f"{param} has {len(value)} characters; ids have {limits.KEY_MIN} to {limits.KEY_MAX}.",
            param=param,
            code="invalid_id",
        )


def check_metadata(metadata: Mapping[str, Any], text: str | None, *, where: str) -> None:
    """Keys and values, then S3 Vectors' counts: keys (the stored text is one), filterable bytes
    (every user key is filterable) and total bytes (with the text), as limits.json_bytes counts."""
    param = f"{where}.metadata"
    for key, value in metadata.items():
        if not key or key.startswith(RESERVED_PREFIX):
            raise InvalidRequest(
                f"{param} key '{shown(key)}' is not allowed: keys are non-empty and may not start with "
                f"'{RESERVED_PREFIX}' (kept for the service's own keys).",
                param=f"{param}.{shown(key)}",
                code="invalid_metadata",
            )
        if isinstance(value, int | float) and not isinstance(value, bool) and not is_number(value):
            raise InvalidRequest(
                f"{param}.{shown(key)} is {shown(value)}; metadata numbers must be finite, and integers "
                f"within ±2^53.",
                param=f"{param}.{shown(key)}",
                code="invalid_metadata",
            )
        if not _value(value):
            raise InvalidRequest(
                f"{param}.{shown(key)} is not a metadata value: metadata values are strings, numbers, "
                "booleans or lists of strings.",
                param=f"{param}.{shown(key)}",
                code="invalid_metadata",
            )
    keys = len(metadata) + (text is not None)
    if keys > limits.METADATA_KEYS_MAX:
        raise InvalidRequest(
            f"{param} has {keys} keys counting the stored text; S3 Vectors keeps at most "
            f"{limits.METADATA_KEYS_MAX} per vector.",
            param=param,
            code="metadata_too_large",
        )
    filterable = limits.json_bytes(metadata)
    if filterable > limits.FILTERABLE_BYTES_MAX:
        raise InvalidRequest(
            f"{param} is {filterable} bytes as compact JSON; filterable metadata is limited to "
            f"{limits.FILTERABLE_BYTES_MAX} bytes per vector.",
            param=param,
            code="metadata_too_large",
        )
    if text is not None:
        total = limits.json_bytes({**metadata, TEXT_KEY: text})
        if total > limits.METADATA_BYTES_MAX:
            raise InvalidRequest(
                f"{where}.text with its metadata is {total} bytes as compact JSON; S3 Vectors keeps at "
                f"most {limits.METADATA_BYTES_MAX} bytes of metadata per vector, the text included. "
                "Split the text into smaller documents.",
                param=f"{where}.text",
                code="text_too_long",
            )


def _value(value: Any) -> bool:
    """What the collections' API schema takes (collections.schemas.MetadataValue)."""
    if isinstance(value, list):
        return all(isinstance(item, str) for item in value)
    return is_scalar(value)


def is_scalar(value: Any) -> bool:
    """A string, boolean or number S3 Vectors stores as it is sent (also what a filter compares)."""
    return isinstance(value, str | bool) or is_number(value)


def is_number(value: Any) -> bool:
    """An int within float64's exact range or a finite float; booleans are not numbers here."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= INT_MAX
    return isinstance(value, float) and math.isfinite(value)
