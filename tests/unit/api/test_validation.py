"""validation.py: pydantic errors as one sentence and one field path."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from embedrock.api.schemas import SimilarityRequest
from embedrock.http.validation import field_path, to_invalid_request


@pytest.mark.parametrize(
    ("loc", "path"),
    [(("texts", 0), "texts[0]"), (("pairs", 1, 0), "pairs[1][0]"), (("a", "b"), "a.b"), ((), "")],
)
def test_field_path_uses_brackets_for_indexes(loc: tuple[str | int, ...], path: str) -> None:
    assert field_path(loc) == path


def test_union_members_are_merged_into_one_sentence() -> None:
    # Given a value that fits neither member of a union (str | list[float])
    with pytest.raises(ValidationError) as raised:
        SimilarityRequest.model_validate({"query": 5, "documents": ["a"]})

    # When it is turned into an API error
    error = to_invalid_request(raised.value.errors(), model=SimilarityRequest)

    # Then the union's type tags are gone and both expectations are named
    assert (error.param, error.message) == ("query", "query must be a string or a list.")


def test_error_inputs_are_never_echoed() -> None:
    # Given a wrong type carrying a distinctive value
    with pytest.raises(ValidationError) as raised:
        SimilarityRequest.model_validate({"texts": ["secret words", 3]})

    # When it is turned into an API error
    error = to_invalid_request(raised.value.errors(), model=SimilarityRequest)

    # Then the message names the place, not the content
    assert error.param == "texts[1]" and "secret" not in error.message
