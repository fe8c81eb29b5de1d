"""QueryVectors' metadata filter: parsed (and refused with a ValidationException) once per
query, then evaluated against each vector's metadata.

Semantics from the Amazon S3 User Guide, "Metadata filtering" (s3-vectors-metadata-filtering.html):
a bare value means $eq; $eq and $ne take a string, number or boolean, and $eq on a list value
matches when any element equals; $gt/$gte/$lt/$lte take a number; $in/$nin a non-empty array of
primitives; $exists a boolean; $and/$or a non-empty array of filters. Several keys in one object
are all required. What the guide leaves open, the emulator decides as follows: $ne and $nin are
the negations of $eq and $in (so a vector without the key matches them), and a comparison or $in
on a list value matches when any element does.

$startsWith (a string; matches a string value, or any string element of a list, that begins with
it) exists on ENHANCED indexes only: "Changing a vector index's mode" (s3-vectors-index-mode.html).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from .errors import invalid

Predicate = Callable[[Mapping[str, Any]], bool]
COMPARISONS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$startsWith")
LOGICAL = ("$and", "$or")


def compile_filter(spec: Any, non_filterable: Collection[str], *, enhanced: bool = True) -> Predicate:
    """The filter as a predicate, or a ValidationException naming what is wrong. `enhanced`:
    the query runs in ENHANCED mode, the one that has $startsWith."""
    if not isinstance(spec, dict) or not spec:
        raise invalid("Invalid filter: a filter must be a non-empty JSON object.")
    parts = [_clause(name, value, non_filterable, enhanced) for name, value in spec.items()]
    if len(parts) == 1:
        return parts[0]
    return lambda metadata: all(part(metadata) for part in parts)


def _clause(name: str, value: Any, non_filterable: Collection[str], enhanced: bool) -> Predicate:
    if name.startswith("$"):
        if name not in LOGICAL:
            raise invalid(f"Invalid filter: unknown logical operator {name}; allowed: {', '.join(LOGICAL)}.")
        if not isinstance(value, list) or not value:
            raise invalid(f"Invalid filter: {name} takes a non-empty array of filters.")
        parts = [compile_filter(item, non_filterable, enhanced=enhanced) for item in value]
        if name == "$and":
            return lambda metadata: all(part(metadata) for part in parts)
        return lambda metadata: any(part(metadata) for part in parts)
    if name in non_filterable:
        raise invalid(f"Invalid filter: metadata key {name!r} is non-filterable in this index.")
    if not isinstance(value, dict):
        return _field(name, "$eq", value)
    if not value:
        raise invalid(f"Invalid filter: the condition on {name!r} is an empty object.")
    if "$startsWith" in value and not enhanced:
        raise invalid(
            "Invalid filter: $startsWith is available on ENHANCED indexes only; this query runs CLASSIC."
        )
    tests = [_field(name, operator, operand) for operator, operand in value.items()]
    if len(tests) == 1:
        return tests[0]
    return lambda metadata: all(test(metadata) for test in tests)


def _field(name: str, operator: str, operand: Any) -> Predicate:
    match operator:
        case "$eq" | "$ne":
            _require(_is_primitive(operand), name, operator, "a string, number or boolean")
            if operator == "$eq":
                return lambda metadata: _any_element(metadata, name, lambda item: _equal(item, operand))
            return lambda metadata: not _any_element(metadata, name, lambda item: _equal(item, operand))
        case "$gt" | "$gte" | "$lt" | "$lte":
            _require(_is_number(operand), name, operator, "a number")
            compare = _ORDER[operator]
            return lambda metadata: _any_element(
                metadata, name, lambda item: _is_number(item) and compare(item, operand)
            )
        case "$in" | "$nin":
            valid = (
                isinstance(operand, list) and bool(operand) and all(_is_primitive(item) for item in operand)
            )
            _require(valid, name, operator, "a non-empty array of strings, numbers or booleans")
            choices = list(operand)

            def member(metadata: Mapping[str, Any]) -> bool:
                return _any_element(metadata, name, lambda item: any(_equal(item, c) for c in choices))

            return member if operator == "$in" else (lambda metadata: not member(metadata))
        case "$startsWith":
            _require(isinstance(operand, str), name, operator, "a string")
            prefix = str(operand)
            return lambda metadata: _any_element(
                metadata, name, lambda item: isinstance(item, str) and item.startswith(prefix)
            )
        case "$exists":
            _require(isinstance(operand, bool), name, operator, "a boolean")
            return lambda metadata: (name in metadata) == operand
        case _:
            raise invalid(
                f"Invalid filter: unknown operator {operator} on {name!r}; allowed: {', '.join(COMPARISONS)}."
            )


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}


def _require(ok: bool, name: str, operator: str, expected: str) -> None:
    if not ok:
        raise invalid(f"Invalid filter: {operator} on {name!r} takes {expected}.")


def _any_element(metadata: Mapping[str, Any], name: str, test: Callable[[Any], bool]) -> bool:
    if name not in metadata:
        return False
    value = metadata[name]
    items = value if isinstance(value, list) else [value]
    return any(test(item) for item in items)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_primitive(value: Any) -> bool:
    return isinstance(value, str | bool) or _is_number(value)


def _equal(stored: Any, wanted: Any) -> bool:
    # JSON types must match: true is not 1, "1" is not 1.
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return isinstance(stored, bool) and isinstance(wanted, bool) and stored == wanted
    if _is_number(stored) and _is_number(wanted):
        return bool(stored == wanted)
    return type(stored) is type(wanted) and bool(stored == wanted)
