"""perf's collection_query at a small size: it fills an emulated index through PutVectors, queries
it through the in-process client and reports both timings, their ratio and the details (no timing
is asserted: at this size fixed costs dominate)."""

from __future__ import annotations

import dataclasses
import math

from embedrock_local.tools.perf import collection_query, common


def test_collection_query_reports_both_timings_their_ratio_and_details() -> None:
    sizes = dataclasses.replace(common.QUICK, collection_vectors=700)  # two PutVectors batches
    result = collection_query.measure(sizes).to_json()
    emulated, bare = result["product"]["seconds"], result["baseline"]["seconds"]
    assert all(isinstance(v, float) and math.isfinite(v) and v > 0 for v in (emulated, bare))
    assert math.isclose(result["ratio"], emulated / bare)
    assert result["met"] == (result["ratio"] <= collection_query.GOAL)
    details = result["details"]
    assert (details["vectors"], details["dimensions"], details["top_k"]) == (700, common.DIMENSIONS, 10)
    assert details["emulator_seconds"] == emulated and details["numpy_seconds"] == bare
    assert details["first_query_seconds"] > 0 and details["fill_seconds"] > 0
