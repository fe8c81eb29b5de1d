"""Properties over generated inputs: codecs, encodings, similarity maths and request bodies.

Each property holds for every input Hypothesis draws, not only the examples of the other tests:
order is preserved, scores are symmetric and bounded, cosine ignores length, normalized
vectors have unit length, and malformed input is always a clean API error, never a crash.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pytest
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from embedrock import catalog, encoding, vector_math
from embedrock.bedrock import codecs
from embedrock.bedrock.embedder import _unit_length
from embedrock.embed_spec import EmbedSpec, resolve_spec
from embedrock.errors import ApiError, InvalidRequest, ModelFailed
from embedrock.http import body

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

FAST = settings(max_examples=60, deadline=None)

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
# What models return: float32 values (nothing below 1e-38 but zero).
model_values = st.floats(-1e3, 1e3, width=32, allow_subnormal=False)
# Any non-zero length, from denormal-small to overflow-large: cosine must not care.
scales = st.floats(1e-300, 1e300).filter(lambda x: x > 0)


def matrices(
    rows: tuple[int, int] = (1, 8), width: tuple[int, int] = (1, 16)
) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, st.tuples(st.integers(*rows), st.integers(*width)), elements=finite)


def nonzero_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = matrix.copy()
    matrix[~matrix.any(axis=-1)] = 1.0
    return matrix


# --- codecs: what Bedrock answers, read back in order --------------------------------------------


def _payload(spec: EmbedSpec, vectors: list[list[float]]) -> dict[str, Any]:
    """The response body each family returns for these vectors."""
    family = spec.model.family
    if family is catalog.Family.COHERE_V3:
        return {
            "id": "x",
            "response_type": "embeddings_floats",
            "texts": ["t"] * len(vectors),
            "embeddings": vectors,
        }
    if family is catalog.Family.COHERE_V4:
        return {"id": "x", "response_type": "embeddings_by_type", "embeddings": {"float": vectors}}
    if family is catalog.Family.NOVA_MULTIMODAL:
        return {"embeddings": [{"embeddingType": "TEXT", "embedding": vector} for vector in vectors]}
    return {"embedding": vectors[0], "inputTextTokenCount": 3}


@FAST
@given(st.sampled_from(catalog.MODELS), st.data())
def test_decode_returns_each_vector_in_the_order_bedrock_sent_it(
    model: catalog.CatalogModel, data: st.DataObject
) -> None:
    spec = resolve_spec(model_id=model.id, dimensions=data.draw(st.sampled_from(model.dimensions)))
    n = data.draw(st.integers(1, min(model.max_texts_per_call, 6)))
    # Distinct rows (a seeded generator: drawing thousands of floats one by one is slow)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    vectors = (
        rng.standard_normal((n, spec.dimensions)) * data.draw(scales.filter(lambda x: x < 1e100))
    ).tolist()
    decoded = codecs.decode(spec, _payload(spec, vectors), expected=n)
    np.testing.assert_array_equal(decoded, np.asarray(vectors))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
answer_keys = st.sampled_from(
    ["embedding", "embeddings", "embeddingsByType", "inputTextTokenCount", "texts", "x"]
)


@FAST
@given(
    st.sampled_from(catalog.MODELS),
    st.dictionaries(answer_keys, json_values, max_size=4),
    st.integers(1, 3),
)
def test_any_malformed_answer_is_a_502_never_a_crash(
    model: catalog.CatalogModel, payload: dict[str, Any], expected: int
) -> None:
    # Given whatever a broken model might answer
    spec = resolve_spec(model_id=model.id)
    # When it is decoded, Then it is the right vectors or a ModelFailed (502), nothing else
    try:
        decoded = codecs.decode(spec, payload, expected=expected)
    except ModelFailed as error:
        assert error.status == 502
    else:
        assert decoded.shape == (expected, spec.dimensions) and np.isfinite(decoded).all()


@FAST
@given(st.sampled_from(catalog.MODELS), st.one_of(st.integers(-5, 10**6), st.text(max_size=8), st.none()))
def test_token_counts_are_read_from_the_body_or_the_header(model: catalog.CatalogModel, header: Any) -> None:
    spec = resolve_spec(model_id=model.id)
    tokens = codecs.input_tokens(spec, {}, {codecs.TOKEN_COUNT_HEADER: header} if header is not None else {})
    assert isinstance(tokens, int)
    if isinstance(header, int):
        assert tokens == header


# --- encodings -------------------------------------------------------------------------------------


@FAST
@given(st.sampled_from(["int8", "binary"]), arrays(np.int8, st.tuples(st.integers(1, 5), st.integers(1, 64))))
def test_integer_vectors_survive_base64_exactly(embedding_type: str, vectors: np.ndarray) -> None:
    encoded = encoding.encode(vectors, embedding_type, "base64")
    assert len(encoded) == len(vectors)
    decoded = np.stack([encoding.from_base64(item, embedding_type) for item in encoded])  # type: ignore[arg-type]
    np.testing.assert_array_equal(decoded, vectors)


@FAST
@given(matrices())
def test_float_lists_keep_every_value_and_the_order(vectors: np.ndarray) -> None:
    listed = encoding.encode(vectors, "float", "float")
    assert listed == vectors.tolist()


@FAST
@given(arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 16)), elements=model_values))
def test_normalized_vectors_have_unit_length_or_stay_zero(vectors: np.ndarray) -> None:
    unit = _unit_length(vectors)
    norms = np.linalg.norm(unit, axis=1)
    for row, norm in zip(vectors, norms, strict=True):
        assert norm == pytest.approx(1.0 if row.any() else 0.0, abs=1e-9)
    # the direction is kept: each unit row is a positive multiple of its input
    for row, scaled in zip(vectors, unit, strict=True):
        if row.any():
            assert float(row @ scaled) > 0


# --- similarity maths ------------------------------------------------------------------------------


@FAST
@given(
    st.integers(1, 16).flatmap(
        lambda d: st.tuples(*(arrays(np.float64, d, elements=finite) for _ in range(2)))
    )
)
def test_cosine_is_symmetric_bounded_and_one_with_itself(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = (vector if vector.any() else np.ones_like(vector) for vector in pair)
    forward, backward = vector_math.score(a, b, "cosine"), vector_math.score(b, a, "cosine")
    assert forward == backward
    assert -1.0 <= forward <= 1.0
    assert vector_math.score(a, a, "cosine") == pytest.approx(1.0)
    assert vector_math.score(a, -a, "cosine") == pytest.approx(-1.0)


@FAST
@given(
    st.integers(1, 8).flatmap(
        lambda d: st.tuples(*(arrays(np.float64, d, elements=finite) for _ in range(2)))
    ),
    scales,
    scales,
)
def test_cosine_ignores_length_even_near_overflow_and_underflow(
    pair: tuple[np.ndarray, np.ndarray], first: float, second: float
) -> None:
    a, b = (vector if np.abs(vector).max() > 1e-3 else np.ones_like(vector) for vector in pair)
    expected = vector_math.score(a, b, "cosine")
    scaled = vector_math.score(a * first, b * second, "cosine")
    assert scaled == pytest.approx(expected, abs=1e-9)
    ranked = vector_math.top_k(a * first, np.stack([b * second, a]), 2, "cosine")
    assert [score for _, score in ranked] == pytest.approx(sorted([expected, 1.0], reverse=True), abs=1e-9)


@FAST
@given(matrices(rows=(1, 8)), st.sampled_from(vector_math.METRICS))
def test_matrices_are_symmetric_with_the_right_diagonal(
    vectors: np.ndarray, metric: vector_math.Metric
) -> None:
    vectors = nonzero_rows(vectors)
    result = vector_math.matrix(vectors, metric)
    assert (result == result.T).all()
    if metric == "cosine":
        assert (np.diag(result) == 1.0).all() and (np.abs(result) <= 1.0).all()
    elif metric == "euclidean":
        assert (np.diag(result) == 0.0).all() and (result >= 0).all()


@FAST
@given(matrices(rows=(3, 3)))
def test_euclidean_distances_obey_the_triangle_inequality(points: np.ndarray) -> None:
    distances = vector_math.matrix(points, "euclidean")
    assert distances[0, 2] <= distances[0, 1] + distances[1, 2] + 1e-9


@FAST
@given(matrices(rows=(1, 10)), st.sampled_from(vector_math.METRICS), st.data())
def test_pairwise_scores_keep_the_order_of_the_pairs(
    vectors: np.ndarray, metric: vector_math.Metric, data: st.DataObject
) -> None:
    vectors = nonzero_rows(vectors)
    order = data.draw(st.permutations(range(len(vectors))))
    scores = vector_math.pairwise(vectors, vectors[order], metric)
    for index, partner in enumerate(order):
        assert scores[index] == pytest.approx(
            vector_math.score(vectors[index], vectors[partner], metric), abs=1e-9
        )


@FAST
@given(matrices(rows=(1, 12)), st.sampled_from(vector_math.METRICS), st.data())
def test_top_k_is_the_best_k_best_first_ties_by_position(
    documents: np.ndarray, metric: vector_math.Metric, data: st.DataObject
) -> None:
    documents = nonzero_rows(np.round(documents))  # rounding makes ties
    query = nonzero_rows(data.draw(arrays(np.float64, documents.shape[1], elements=finite))[None])[0]
    k = data.draw(st.integers(1, len(documents)))
    ranked = vector_math.top_k(query, documents, k, metric)
    indexes = [index for index, _ in ranked]
    scores = [score for _, score in ranked]
    assert len(ranked) == k and len(set(indexes)) == k
    better_first = sorted(scores, reverse=vector_math.higher_is_closer(metric))
    assert scores == better_first
    # anything left out is no better than the last one kept
    everything = vector_math.scores_against(query, documents, metric)
    worst_kept = scores[-1]
    for index in set(range(len(documents))) - set(indexes):
        left_out = float(everything[index])
        assert (left_out <= worst_kept) if vector_math.higher_is_closer(metric) else (left_out >= worst_kept)
    # among equal scores, earlier documents come first
    for (i, s), (j, t) in itertools.pairwise(ranked):
        if s == t:
            assert i < j


# --- request bodies --------------------------------------------------------------------------------

json_objects = st.dictionaries(st.text(max_size=10), json_values, max_size=5)


@FAST
@given(json_objects)
def test_any_json_object_parses_to_itself(value: dict[str, Any]) -> None:
    assume(all(not isinstance(x, float) or math.isfinite(x) for x in _leaves(value)))
    assert body.parse(json.dumps(value)) == value
    assert body.parse(json.dumps(value, ensure_ascii=False)) == value


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60), st.binary(max_size=60).map(lambda raw: raw.decode("utf-8", "surrogateescape"))
    )
)
def test_any_body_parses_or_is_a_400(text: str) -> None:
    try:
        parsed = body.parse(text)
    except json.JSONDecodeError:
        pass  # reported as a 400 invalid_json by the resolver
    except RequestValidationError:
        pass  # valid JSON but not an object: a 400 naming the body's fields
    except InvalidRequest as error:
        assert error.status == 400 and error.code == "invalid_unicode"
    else:
        assert isinstance(parsed, dict)


@FAST
@given(st.integers(0xD800, 0xDFFF), st.text(max_size=5))
def test_an_unpaired_surrogate_anywhere_is_a_400_naming_where(code_point: int, around: str) -> None:
    escaped = f"{json.dumps(around)[1:-1]}\\u{code_point:04x}"
    with pytest.raises(ApiError) as raised:
        body.parse(f'{{"texts": ["ok", "{escaped}"]}}')
    assert raised.value.status == 400 and raised.value.param == "texts[1]"


@pytest.mark.parametrize(
    ("text", "param"),
    [
        ('{"texts": ["a\\nb", "\\u00e9", "%s", "\\uD800"]}' % ("x" * 100_000), "texts[3]"),
        ('{"texts": ["%s", "\\udc00"]}' % ("A/+9" * 100_000), "texts[1]"),
    ],
    ids=["after other escapes", "after a long run without any"],
)
def test_an_unpaired_surrogate_after_a_long_run_or_other_escapes_is_found(text: str, param: str) -> None:
    with pytest.raises(ApiError) as raised:
        body.parse(text)
    assert raised.value.param == param


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]
