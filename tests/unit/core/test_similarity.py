"""vector_math.py against hand-computed values, plus properties over random vectors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from embedrock import vector_math
from embedrock.errors import InvalidRequest


def v(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


@pytest.mark.parametrize(
    ("first", "second", "metric", "expected"),
    [
        (v(1, 0), v(1, 1), "cosine", 1 / math.sqrt(2)),
        (v(1, 0), v(0, 1), "cosine", 0.0),
        (v(1, 2), v(-1, -2), "cosine", -1.0),
        (v(1, 2, 3), v(4, 5, 6), "dot", 32.0),
        (v(0, 0), v(3, 4), "euclidean", 5.0),
        (v(1, 1), v(1, 1), "euclidean", 0.0),
        (v(2, 0), v(5, 0), "cosine", 1.0),
    ],
)
def test_score_matches_hand_computed_values(
    first: np.ndarray, second: np.ndarray, metric: vector_math.Metric, expected: float
) -> None:
    # Given two vectors and a metric
    # When they are scored
    # Then the value is the textbook one
    assert vector_math.score(first, second, metric) == pytest.approx(expected)


def test_pairwise_scores_each_row_with_its_partner() -> None:
    # Given two pairs
    first = np.array([[1.0, 0.0], [0.0, 0.0]])
    second = np.array([[1.0, 1.0], [3.0, 4.0]])

    # When scored by euclidean distance and by dot product
    # Then row i is compared with row i only
    np.testing.assert_allclose(vector_math.pairwise(first, second, "euclidean"), [1.0, 5.0])
    np.testing.assert_allclose(vector_math.pairwise(first, second, "dot"), [1.0, 0.0])


def test_cosine_matrix_is_symmetric_with_ones_on_the_diagonal() -> None:
    # Given three vectors
    vectors = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])

    # When the cosine matrix is computed
    matrix = vector_math.matrix(vectors, "cosine")

    # Then it is exactly symmetric, exactly 1 on the diagonal, and right off it
    assert (matrix == matrix.T).all() and (np.diag(matrix) == 1.0).all()
    assert matrix[0, 1] == pytest.approx(1 / math.sqrt(2)) and matrix[0, 2] == pytest.approx(0.0)


def test_euclidean_matrix_has_zero_diagonal_and_distances() -> None:
    # Given points on a 3-4-5 triangle
    vectors = np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 4.0]])

    # When the distance matrix is computed
    matrix = vector_math.matrix(vectors, "euclidean")

    # Then it holds the side lengths
    np.testing.assert_allclose(matrix, [[0, 3, 5], [3, 0, 4], [5, 4, 0]], atol=1e-12)
    assert (np.diag(matrix) == 0).all()


def test_top_k_ranks_by_similarity_descending() -> None:
    # Given a query and documents at known angles
    query = v(1, 0)
    documents = np.array([[0.0, 1.0], [1.0, 0.1], [1.0, 1.0], [-1.0, 0.0]])

    # When the top 2 are asked for
    ranked = vector_math.top_k(query, documents, 2, "cosine")

    # Then the closest come first with their scores
    assert [index for index, _ in ranked] == [1, 2]
    assert ranked[1][1] == pytest.approx(1 / math.sqrt(2))


def test_top_k_ranks_distances_ascending() -> None:
    # Given points at distances 5, 1, 3 from the origin
    documents = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 3.0]])

    # When ranked by euclidean distance
    ranked = vector_math.top_k(v(0, 0), documents, 3, "euclidean")

    # Then the nearest comes first
    assert ranked == [(1, 1.0), (2, 3.0), (0, 5.0)]


def test_top_k_ties_keep_document_order() -> None:
    # Given five identical documents and k smaller than their number
    documents = np.ones((5, 3))

    # When ranked
    ranked = vector_math.top_k(v(1, 1, 1), documents, 3, "dot")

    # Then the lowest indexes win the tie, in order
    assert [index for index, _ in ranked] == [0, 1, 2]


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 6)), elements=st.floats(-10, 10)),
    st.sampled_from(vector_math.METRICS),
    st.data(),
)
def test_top_k_agrees_with_a_full_stable_sort(
    documents: np.ndarray, metric: vector_math.Metric, data: st.DataObject
) -> None:
    # Given random documents (rounded so ties happen) and a query among them
    documents = np.round(documents)
    if metric == "cosine":
        documents[~documents.any(axis=1)] = 1.0
    query = documents[data.draw(st.integers(0, len(documents) - 1))]
    k = data.draw(st.integers(1, len(documents)))

    # When the top k are taken
    ranked = vector_math.top_k(query, documents, k, metric)

    # Then they are the first k of a stable full sort, best first
    scores = vector_math.scores_against(query, documents, metric)
    key = -scores if vector_math.higher_is_closer(metric) else scores
    expected = np.argsort(key, kind="stable")[:k]
    assert [index for index, _ in ranked] == expected.tolist()


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 5)), elements=st.floats(0.1, 5)))
def test_cosine_matrix_properties(vectors: np.ndarray) -> None:
    # Given positive vectors
    # When the cosine matrix is computed
    matrix = vector_math.matrix(vectors, "cosine")

    # Then it is symmetric, bounded by 1 and agrees with pairwise scores
    assert (matrix == matrix.T).all() and (np.abs(matrix) <= 1.0).all()
    np.testing.assert_allclose(
        matrix[0], vector_math.scores_against(vectors[0], vectors, "cosine"), atol=1e-12
    )


class TestValidation:
    def test_ragged_vectors_name_the_offender(self) -> None:
        # Given vectors of different lengths
        # When they are stacked
        with pytest.raises(InvalidRequest) as raised:
            vector_math.as_matrix([[1, 2], [1, 2], [1, 2, 3]], "vectors")

        # Then the error names vectors[2] and both lengths
        assert raised.value.param == "vectors[2]"
        assert "3 numbers" in raised.value.message and "vectors[0] has 2" in raised.value.message

    @pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
    def test_non_finite_values_are_rejected(self, bad: float) -> None:
        # Given a NaN or infinite value in the second vector
        with pytest.raises(InvalidRequest) as raised:
            vector_math.as_matrix([[1.0, 0.0], [bad, 1.0]], "vectors")

        # Then the error names it
        assert raised.value.param == "vectors[1]" and "NaN or infinity" in raised.value.message

    def test_empty_inputs_are_rejected(self) -> None:
        with pytest.raises(InvalidRequest) as no_vectors:
            vector_math.as_matrix([], "vectors")
        with pytest.raises(InvalidRequest) as empty_vector:
            vector_math.as_matrix([[1.0], []], "documents")
        with pytest.raises(InvalidRequest) as empty_query:
            vector_math.as_vector([], "query")
        assert (no_vectors.value.param, empty_vector.value.param, empty_query.value.param) == (
            "vectors",
            "documents[1]",
            "query",
        )

    def test_pairs_name_the_vector_inside_the_pair(self) -> None:
        # Given a pair whose second vector is longer
        with pytest.raises(InvalidRequest) as ragged:
            vector_math.as_pairs([[[1, 2], [1, 2]], [[1, 2], [1, 2, 3]]], "pairs")
        # And a pair holding NaN
        with pytest.raises(InvalidRequest) as nan:
            vector_math.as_pairs([[[1, 2], [1, 2]], [[1, 2], [math.nan, 2]]], "pairs")

        # Then both name pairs[1][1]
        assert ragged.value.param == nan.value.param == "pairs[1][1]"

    def test_zero_vectors_are_rejected_under_cosine_only(self) -> None:
        # Given a zero vector
        vectors = np.array([[1.0, 2.0], [0.0, 0.0]])

        # When checked for cosine, then for dot
        with pytest.raises(InvalidRequest) as raised:
            vector_math.check_metric(vectors, "cosine", "vectors")
        vector_math.check_metric(vectors, "dot", "vectors")

        # Then only cosine objects, naming the vector
        assert raised.value.param == "vectors[1]" and "cosine similarity is undefined" in raised.value.message
        with pytest.raises(InvalidRequest) as query:
            vector_math.check_metric(np.zeros(3), "cosine", "query")
        assert query.value.param == "query"

    @pytest.mark.parametrize("top_k", [0, -1, 4])
    def test_top_k_must_be_between_1_and_the_number_of_documents(self, top_k: int) -> None:
        with pytest.raises(InvalidRequest) as raised:
            vector_math.check_top_k(top_k, 3)
        assert (
            raised.value.param == "top_k"
            and "between 1 and the number of documents (3)" in raised.value.message
        )

    def test_overflowing_scores_are_rejected(self) -> None:
        # Given finite vectors whose dot product overflows
        huge = np.array([[1e200, 1e200]])

        # When scored
        # Then an error says so instead of returning inf
        with pytest.raises(InvalidRequest):
            vector_math.top_k(huge[0], huge, 1, "dot")


# Seeds whose vectors, on this machine, score 0.999... or 6e-08 with themselves without the
# identical-vector rule; the rule makes the exact values part of the contract.
@pytest.mark.parametrize("seed", [4, 8, 9, 10, 15])
def test_identical_vectors_score_exactly_one_and_zero(seed: int) -> None:
    # Given a vector and an equal copy of it
    vector = np.random.default_rng(seed).normal(size=7)
    twice = np.stack([vector, vector.copy()])

    # When they are scored every way
    # Then cosine is exactly 1 and euclidean exactly 0 (a contract, so compared exactly)
    assert vector_math.pairwise(twice[:1], twice[1:], "cosine")[0] == 1.0
    assert vector_math.score(vector, vector.copy(), "cosine") == 1.0
    assert (vector_math.matrix(twice, "cosine") == 1.0).all()
    assert (vector_math.matrix(twice, "euclidean") == 0.0).all()
    assert (vector_math.scores_against(vector, twice, "cosine") == 1.0).all()
    assert [score for _, score in vector_math.top_k(vector, twice, 2, "cosine")] == [1.0, 1.0]


def test_only_identical_vectors_are_forced_to_one() -> None:
    # Given a vector and one a hair away from it
    vector = np.random.default_rng(9).normal(size=7)
    near = vector + np.array([1e-9, 0, 0, 0, 0, 0, 0])

    # When scored, the near one keeps its computed (clipped) cosine
    computed = float(np.dot(vector, near) / (np.linalg.norm(vector) * np.linalg.norm(near)))
    assert vector_math.score(vector, near, "cosine") == pytest.approx(min(computed, 1.0), abs=1e-15)


def test_euclidean_matrix_is_exact_for_close_points_far_from_the_origin():
    # Given two points 1e-4 apart at 1e3 from the origin (the Gram-matrix shortcut got this 10 % wrong)
    points = np.array([[1000.0, 1000.0], [1000.0, 1000.0001]])

    # Then the matrix gives their distance to the precision of the difference itself
    distances = vector_math.matrix(points, "euclidean")
    assert distances[0, 1] == pytest.approx(1e-4, rel=1e-6)
    assert distances[0, 1] == distances[1, 0] and distances[0, 0] == 0.0
