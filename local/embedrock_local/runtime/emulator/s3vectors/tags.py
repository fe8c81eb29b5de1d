"""Tag checks for vector buckets and indexes, to S3 Vectors' limits (embedrock.vector_store.limits)."""

from __future__ import annotations

import unicodedata
from typing import Any

from embedrock.vector_store import limits

from .errors import invalid


def check_tags(value: Any, field: str = "tags") -> dict[str, str]:
    """A tags map as CreateVectorBucket, CreateIndex and TagResource take it."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise invalid(f"{field} must map tag keys to tag values, both strings.")
    if len(value) > limits.TAGS_MAX:
        raise invalid(f"{field} holds {len(value)} tags; a resource takes at most {limits.TAGS_MAX}.")
    for key, tag_value in value.items():
        check_tag_key(key, field)
        if len(tag_value) > limits.TAG_VALUE_MAX or not _allowed(tag_value):
            raise invalid(
                f"{field}[{key!r}]: a tag value is 0 to {limits.TAG_VALUE_MAX} characters of "
                f"letters, numbers, spaces and {limits.TAG_PUNCTUATION}."
            )
    return dict(value)


def check_tag_keys(value: Any, field: str = "tagKeys") -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(k, str) for k in value):
        raise invalid(f"{field} must list one or more tag keys.")
    for key in value:
        check_tag_key(key, field)
    return list(value)


def check_tag_key(key: str, field: str) -> None:
    if not limits.TAG_KEY_MIN <= len(key) <= limits.TAG_KEY_MAX or not _allowed(key):
        raise invalid(
            f"{field}: tag key {key!r} must be {limits.TAG_KEY_MIN} to {limits.TAG_KEY_MAX} characters of "
            f"letters, numbers, spaces and {limits.TAG_PUNCTUATION}."
        )
    if key.lower().startswith(limits.TAG_RESERVED_PREFIX):
        raise invalid(
            f"{field}: tag key {key!r} uses the prefix {limits.TAG_RESERVED_PREFIX}, reserved for AWS."
        )


def merged(current: dict[str, str], added: dict[str, str]) -> dict[str, str]:
    """TagResource adds new keys and overwrites existing ones, within the per-resource maximum."""
    result = {**current, **added}
    if len(result) > limits.TAGS_MAX:
        raise invalid(
            f"The resource would have {len(result)} tags; a resource takes at most {limits.TAGS_MAX}."
        )
    return result


def _allowed(text: str) -> bool:
    return all(
        unicodedata.category(char)[0] in limits.TAG_UNICODE_CATEGORIES or char in limits.TAG_PUNCTUATION
        for char in text
    )
