"""The S3 Vectors metadata filter: documented examples, refusals, and properties of every operator."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedrock_local.runtime.emulator.s3vectors.errors import S3VectorsError
from embedrock_local.runtime.emulator.s3vectors.filters import compile_filter

FIELDS = ("genre", "year", "flag")
primitives = st.one_of(
    st.sampled_from(["drama", "news", "comedy", ""]),
    st.integers(min_value=-3, max_value=3),
    st.floats(min_value=-3, max_value=3, allow_nan=False),
    st.booleans(),
)
values = st.one_of(primitives, st.lists(primitives, max_size=3))
metadatas = st.dictionaries(st.sampled_from(FIELDS), values, max_size=3)
numbers = st.one_of(
    st.integers(min_value=-3, max_value=3), st.floats(min_value=-3, max_value=3, allow_nan=False)
)
fields = st.sampled_from(FIELDS)


def matches(spec: Any, metadata: dict[str, Any], non_filterable: tuple[str, ...] = ()) -> bool:
    return compile_filter(spec, non_filterable)(metadata)


def leaf_filters() -> st.SearchStrategy[dict[str, Any]]:
    operand = st.one_of(
        st.tuples(st.sampled_from(["$eq", "$ne"]), primitives),
        st.tuples(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), numbers),
        st.tuples(st.sampled_from(["$in", "$nin"]), st.lists(primitives, min_size=1, max_size=3)),
        st.tuples(st.just("$exists"), st.booleans()),
        st.tuples(st.just("$startsWith"), st.sampled_from(["", "d", "dr", "news", "x"])),
    )
    return st.builds(lambda field, op: {field: {op[0]: op[1]}}, fields, operand)


filters = st.recursive(
    leaf_filters(),
    lambda inner: st.builds(
        lambda op, parts: {op: parts},
        st.sampled_from(["$and", "$or"]),
        st.lists(inner, min_size=1, max_size=3),
    ),
    max_leaves=6,
)


def elements(metadata: dict[str, Any], field: str) -> list[Any]:
    if field not in metadata:
        return []
    value = metadata[field]
    return value if isinstance(value, list) else [value]


def same(a: Any, b: Any) -> bool:
    """JSON equality: a boolean equals only a boolean; numbers compare by value."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    return bool(a == b)


# Documented examples (Amazon S3 User Guide, "Metadata filtering")
def test_documented_examples() -> None:
    movie = {"genre": ["documentary", "romance"], "year": 2020}
    assert matches({"genre": "documentary"}, movie)
    assert matches({"genre": {"$eq": "documentary"}}, movie)
    assert matches({"year": {"$gt": 2019}}, movie) and not matches({"year": {"$lt": 2020}}, movie)
    assert matches({"genre": {"$in": ["comedy", "documentary"]}}, movie)
    assert not matches({"genre": {"$nin": ["comedy", "documentary"]}}, movie)
    assert matches({"genre": {"$exists": True}}, movie) and not matches({"rating": {"$exists": True}}, movie)
    assert matches({"$and": [{"genre": "romance"}, {"year": {"$gte": 2020}}]}, movie)
    assert matches({"$or": [{"genre": "drama"}, {"year": 2020}]}, movie)
    assert not matches({"$or": [{"genre": "drama"}, {"year": 2021}]}, movie)


def test_json_types_do_not_mix() -> None:
    assert not matches({"flag": 1}, {"flag": True}) and not matches({"year": "2020"}, {"year": 2020})
    assert matches({"year": 2020.0}, {"year": 2020}) and not matches({"year": {"$gt": 1}}, {"year": "9"})


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ({}, "non-empty JSON object"),
        ([], "non-empty JSON object"),
        ({"genre": {"$regex": "dr"}}, "unknown operator $regex"),
        ({"$not": [{"genre": "x"}]}, "unknown logical operator $not"),
        ({"$and": []}, "non-empty array"),
        ({"$or": {"genre": "x"}}, "non-empty array"),
        ({"genre": {}}, "empty object"),
        ({"year": {"$gt": "2020"}}, "takes a number"),
        ({"year": {"$gt": True}}, "takes a number"),
        ({"genre": {"$in": []}}, "non-empty array"),
        ({"genre": {"$in": [["nested"]]}}, "non-empty array"),
        ({"genre": {"$eq": ["a"]}}, "string, number or boolean"),
        ({"genre": {"$exists": 1}}, "a boolean"),
        ({"genre": {"$startsWith": 1}}, "a string"),
        ({"$or": [{"genre": "x"}, {"text": "secret"}]}, "non-filterable"),
    ],
)
def test_bad_filters_are_refused_naming_the_problem(spec: Any, named: str) -> None:
    with pytest.raises(S3VectorsError) as caught:
        compile_filter(spec, ("text",))
    assert caught.value.code == "ValidationException" and named in caught.value.message


@given(fields, primitives, metadatas)
def test_a_bare_value_is_eq_and_eq_matches_any_list_element(
    field: str, value: Any, metadata: dict[str, Any]
) -> None:
    expected = any(same(item, value) for item in elements(metadata, field))
    assert matches({field: value}, metadata) == matches({field: {"$eq": value}}, metadata) == expected


@given(fields, primitives, metadatas)
def test_ne_is_the_negation_of_eq(field: str, value: Any, metadata: dict[str, Any]) -> None:
    assert matches({field: {"$ne": value}}, metadata) != matches({field: {"$eq": value}}, metadata)


@given(fields, st.lists(primitives, min_size=1, max_size=4), metadatas)
def test_in_is_eq_on_any_choice_and_nin_its_negation(
    field: str, choices: list[Any], metadata: dict[str, Any]
) -> None:
    expected = any(matches({field: {"$eq": choice}}, metadata) for choice in choices)
    assert matches({field: {"$in": choices}}, metadata) == expected
    assert matches({field: {"$nin": choices}}, metadata) == (not expected)


@given(fields, numbers, metadatas)
def test_comparisons_match_numeric_elements_only(field: str, bound: float, metadata: dict[str, Any]) -> None:
    numeric = [
        item
        for item in elements(metadata, field)
        if isinstance(item, int | float) and not isinstance(item, bool)
    ]
    assert matches({field: {"$gt": bound}}, metadata) == any(item > bound for item in numeric)
    assert matches({field: {"$gte": bound}}, metadata) == any(item >= bound for item in numeric)
    assert matches({field: {"$lt": bound}}, metadata) == any(item < bound for item in numeric)
    assert matches({field: {"$lte": bound}}, metadata) == any(item <= bound for item in numeric)


@given(fields, st.booleans(), metadatas)
def test_exists_checks_presence(field: str, wanted: bool, metadata: dict[str, Any]) -> None:
    assert matches({field: {"$exists": wanted}}, metadata) == ((field in metadata) == wanted)


@given(st.lists(filters, min_size=1, max_size=3), metadatas)
def test_and_or_combine_their_parts(parts: list[dict[str, Any]], metadata: dict[str, Any]) -> None:
    each = [matches(part, metadata) for part in parts]
    assert matches({"$and": parts}, metadata) == all(each)
    assert matches({"$or": parts}, metadata) == any(each)


@given(leaf_filters(), leaf_filters(), metadatas)
def test_several_keys_in_one_object_are_all_required(
    first: dict[str, Any], second: dict[str, Any], metadata: dict[str, Any]
) -> None:
    (name_a, cond_a), (name_b, cond_b) = next(iter(first.items())), next(iter(second.items()))
    if name_a == name_b:
        combined = {name_a: {**cond_a, **cond_b}}
        parts = [{name_a: {op: v}} for op, v in combined[name_a].items()]
    else:
        combined = {name_a: cond_a, name_b: cond_b}
        parts = [first, second]
    assert matches(combined, metadata) == all(matches(part, metadata) for part in parts)


@given(leaf_filters(), metadatas)
def test_a_missing_key_matches_only_negations_and_absence(
    spec: dict[str, Any], metadata: dict[str, Any]
) -> None:
    # Without the key, a condition holds only for $ne, $nin and $exists false.
    field, condition = next(iter(spec.items()))
    ((operator, operand),) = condition.items()
    metadata.pop(field, None)
    negation = operator in ("$ne", "$nin") or (operator == "$exists" and operand is False)
    assert matches(spec, metadata) == negation


@given(fields, st.sampled_from(["", "d", "dr", "co", "x"]), metadatas)
def test_starts_with_matches_string_elements_by_prefix(
    field: str, prefix: str, metadata: dict[str, Any]
) -> None:
    expected = any(isinstance(item, str) and item.startswith(prefix) for item in elements(metadata, field))
    assert matches({field: {"$startsWith": prefix}}, metadata) == expected


def test_starts_with_is_refused_in_classic_mode() -> None:
    with pytest.raises(S3VectorsError) as caught:
        compile_filter({"$or": [{"genre": {"$startsWith": "dr"}}]}, (), enhanced=False)
    assert "ENHANCED indexes only" in caught.value.message
    assert compile_filter({"genre": {"$startsWith": "dr"}}, ())({"genre": ["news", "drama"]})
