"""Request-body checks that word their findings the way Bedrock's JSON-schema validator does.

Bedrock validates model bodies with a JSON-schema library and answers, for example,
"Malformed input request: #/dimensions: 384 is not a valid enum value, please reformat your
input and try again." Families collect violations here and turn them into one message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import BedrockError, validation

_SUFFIX = ", please reformat your input and try again."


def type_name(value: Any) -> str:
    """The Java type names the validator prints ("expected type: String, found: Integer")."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "BigDecimal"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "JSONArray"
    return "JSONObject"


class Violations:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, pointer: str, text: str) -> None:
        self.items.append(f"{pointer}: {text}")

    def keys(self, body: Mapping[str, Any], allowed: Iterable[str], required: Iterable[str] = ()) -> None:
        allowed = set(allowed)
        for key in required:
            if key not in body:
                self.add("#", f"required key [{key}] not found")
        for key in body:
            if key not in allowed:
                self.add("#", f"extraneous key [{key}] is not permitted")

    def typed(self, value: Any, expected: str, pointer: str) -> bool:
        if type_name(value) != expected:
            self.add(pointer, f"expected type: {expected}, found: {type_name(value)}")
            return False
        return True

    def string(self, value: Any, pointer: str, min_length: int = 0, max_length: int | None = None) -> bool:
        if not self.typed(value, "String", pointer):
            return False
        if len(value) < min_length:
            self.add(pointer, f"expected minLength: {min_length}, actual: {len(value)}")
            return False
        if max_length is not None and len(value) > max_length:
            self.add(pointer, f"expected maxLength: {max_length}, actual: {len(value)}")
            return False
        return True

    def enum(self, value: Any, allowed: Sequence[object], pointer: str) -> bool:
        # bool is an int in Python; the schema validator does not confuse true with 1.
        if isinstance(value, bool) or value not in allowed:
            self.add(pointer, f"{_render(value)} is not a valid enum value")
            return False
        return True

    def array(self, value: Any, pointer: str, min_items: int = 0, max_items: int | None = None) -> bool:
        if not self.typed(value, "JSONArray", pointer):
            return False
        if len(value) < min_items:
            self.add(pointer, f"expected minimum item count: {min_items}, found: {len(value)}")
            return False
        if max_items is not None and len(value) > max_items:
            self.add(pointer, f"expected maximum item count: {max_items}, found: {len(value)}")
            return False
        return True

    def error(self, *, concatenate: bool) -> BedrockError | None:
        """The ValidationException for what was found, or None.

        Titan reports "N schema violations found" when there are several; Cohere's schema
        reports them all, run together, as Bedrock does.
        """
        if not self.items:
            return None
        if len(self.items) == 1 or concatenate:
            detail = "".join(self.items)
        else:
            detail = f"{len(self.items)} schema violations found"
        return validation("Malformed input request: " + detail + _SUFFIX)

    def raise_if_any(self, *, concatenate: bool = False) -> None:
        error = self.error(concatenate=concatenate)
        if error is not None:
            raise error


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)
