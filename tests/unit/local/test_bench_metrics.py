"""Benchmark arithmetic against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from embedrock import catalog
from embedrock_local.tools.bench import metrics
from embedrock_local.tools.bench.runner import share_tokens


def model(model_id: str) -> catalog.CatalogModel:
    found = catalog.find(model_id)
    assert found is not None
    return found


def test_average_ranks_share_the_mean_of_tied_positions():
    assert metrics.average_ranks([10, 20, 20, 30, 20]).tolist() == [1, 3, 3, 5, 3]


def test_spearman_with_ties_by_hand():
    # ranks x = 1, 2.5, 2.5, 4; ranks y = 1, 3, 2, 4; deviations (-1.5, 0, 0, 1.5) and
    # (-1.5, .5, -.5, 1.5): rho = 4.5 / sqrt(4.5 * 5) = 3 / sqrt(10).
    assert metrics.spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(3 / math.sqrt(10))


def test_spearman_is_one_for_any_increasing_map_and_minus_one_reversed():
    x = [0.1, 0.5, 0.2, 0.9]
    assert metrics.spearman(x, [v**3 for v in x]) == pytest.approx(1.0)
    assert metrics.spearman(x, [-v for v in x]) == pytest.approx(-1.0)


def test_spearman_of_a_constant_is_undefined():
    assert math.isnan(metrics.spearman([1, 1, 1], [1, 2, 3]))


def test_ndcg_with_graded_relevance_by_hand():
    relevance = {"a": 2, "b": 1, "c": 1}
    ranked = ["x", "b", "a", "y"]
    # DCG = 1/log2(3) + 2/log2(4); ideal = 2/log2(2) + 1/log2(3) + 1/log2(4).
    dcg = 1 / math.log2(3) + 1.0
    ideal = 2 + 1 / math.log2(3) + 0.5
    assert metrics.ndcg_at_k(ranked, relevance) == pytest.approx(dcg / ideal)
    assert metrics.ndcg_at_k(ranked, relevance) == pytest.approx(0.520909, abs=1e-6)
    # At k=2 only b counts; the ideal holds a and one of b/c.
    assert metrics.ndcg_at_k(ranked, relevance, k=2) == pytest.approx(
        (1 / math.log2(3)) / (2 + 1 / math.log2(3))
    )


def test_ndcg_is_one_for_the_ideal_order_and_zero_without_relevant_documents():
    assert metrics.ndcg_at_k(["a", "b", "c"], {"a": 2, "b": 1, "c": 1}) == pytest.approx(1.0)
    assert metrics.ndcg_at_k(["a"], {"a": 0}) == pytest.approx(0.0)


def test_recall_at_k_counts_relevant_documents_found():
    relevance = {"a": 2, "b": 1, "c": 1, "z": 0}
    assert metrics.recall_at_k(["x", "b", "a", "z"], relevance) == pytest.approx(2 / 3)
    assert metrics.recall_at_k(["x", "b", "a"], relevance, k=2) == pytest.approx(1 / 3)
    assert metrics.recall_at_k(["x"], {"z": 0}) == pytest.approx(0.0)


def test_top_k_ranks_by_cosine_and_breaks_ties_by_corpus_order():
    queries = np.array([[1.0, 0.0]])
    documents = np.array([[0.0, 1.0], [2.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    assert metrics.top_k(queries, documents, k=3).tolist() == [[1, 2, 3]]
    assert metrics.top_k(queries, documents, k=10).shape == (1, 4)


def test_binary_types_compare_by_hamming_distance():
    bits = np.array([[1, 0, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0]], dtype=bool)
    packed_unsigned = np.packbits(bits, axis=1)  # ubinary, every model: one byte per 8 dims
    signs = metrics.comparable(packed_unsigned, "ubinary", 8)
    assert signs.tolist() == np.where(bits, 1, -1).tolist()
    # One bit in 8 differs: cosine of +-1 vectors = 1 - 2 * 1/8.
    assert metrics.pair_cosines(signs[:1], signs[1:])[0] == pytest.approx(0.75)
    packed_signed = (packed_unsigned.astype(np.int16) - 128).astype(np.int8)  # binary
    assert np.array_equal(metrics.comparable(packed_signed, "binary", 8), signs)


def test_integer_types_compare_as_numbers_with_uint8_shifted_back():
    int8 = np.array([[-128, 0, 127]], dtype=np.int8)
    assert metrics.comparable(int8, "int8", 3).tolist() == [[-128, 0, 127]]
    assert metrics.comparable((int8.astype(np.int16) + 128).astype(np.uint8), "uint8", 3).tolist() == [
        [-128, 0, 127]
    ]


def test_truncate_keeps_a_prefix_at_unit_length():
    cut = metrics.truncate(np.array([[3.0, 4.0, 12.0]]), 2)
    assert cut.tolist() == [[0.6, 0.8]]


@pytest.mark.parametrize(
    ("kind", "dimensions", "expected"),
    [
        ("float", 1024, 4096),
        ("float", 256, 1024),
        ("int8", 1024, 1024),
        ("uint8", 384, 384),
        ("binary", 1024, 128),
        ("ubinary", 256, 32),
        ("binary", 12, 2),
    ],
)
def test_bytes_per_vector(kind, dimensions, expected):
    assert metrics.bytes_per_vector(kind, dimensions) == expected


def test_cost_follows_the_catalog_prices():
    # Titan V2 $0.02, Titan V1 and Cohere v3 $0.10 per 1M input tokens.
    assert metrics.cost_usd(model("amazon.titan-embed-text-v2:0"), 1_000_000) == pytest.approx(0.02)
    assert metrics.cost_usd(model("amazon.titan-embed-text-v1"), 250_000) == pytest.approx(0.025)
    assert metrics.cost_usd(model("cohere.embed-english-v3"), 12_345) == pytest.approx(0.0012345)
    # 2,000 texts cost $0.0004: a million such texts cost $0.20.
    assert metrics.per_million(0.0004, 2_000) == pytest.approx(0.2)
    assert math.isnan(metrics.per_million(1.0, 0))


def test_latency_summary_percentiles_and_throughput():
    summary = metrics.latency_summary([float(ms) for ms in range(1, 101)], texts=500)
    assert summary["p50"] == pytest.approx(50.5)
    assert summary["p95"] == pytest.approx(95.05)
    assert summary["p99"] == pytest.approx(99.01)
    # 5,050 ms in all for 500 texts.
    assert summary["throughput"] == pytest.approx(500 / 5.05)
    assert all(math.isnan(v) for v in metrics.latency_summary([], 0).values())


def test_share_tokens_adds_up_and_follows_length():
    texts = ["one", "two words", "a longer text of five"]
    shares = share_tokens(17, texts)
    assert sum(shares) == 17
    assert shares[0] <= shares[1] <= shares[2]
    assert share_tokens(0, texts) == [0, 0, 0]
    assert share_tokens(5, ["solo"]) == [5]
