"""collection_upsert: N float32 vectors upserted through the product's S3 Vectors adapter
(S3VectorsStore.put: batches of at most 500, paced under the per-index write limits) into the
emulator's in-process S3 Vectors, against the emulator's bare backend put of the same batches
into another index (the floor: no adapter, no client, no pacing).

The adapter paces by S3 Vectors' documented per-index write rate (limits.WRITE_VECTORS_PER_SECOND),
so at full size the pacing, not the emulator, sets the product's time; the report says how long
the adapter waited, so the remaining overhead can be read apart from the limit it honours.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from embedrock.vector_store import limits
from embedrock.vector_store.model import Collection, Document, WriteReport
from embedrock.vector_store.s3vectors import S3VectorsStore
from embedrock_local.runtime.emulator import EmulatorOptions, InProcessEmulator
from embedrock_local.tools.perf.common import DIMENSIONS, Result, Sizes, Timing, seconds_text, timed

BUCKET = "perf-collections"
PRODUCT_INDEX = "through-adapter"
FLOOR_INDEX = "bare-backend"


def describe(sizes: Sizes) -> str:
    return f"upsert {sizes.upsert_vectors:,} x {DIMENSIONS:,} float32 vectors into an emulated collection"


class _PacingClock:
    """time.sleep that also adds up how long the adapter's pacer waited."""

    def __init__(self) -> None:
        self.slept = 0.0
        self.waits = 0

    def sleep(self, seconds: float) -> None:
        self.slept += max(seconds, 0.0)
        self.waits += 1
        time.sleep(seconds)


def _vectors(count: int) -> np.ndarray:
    vectors = np.random.default_rng(7).standard_normal((count, DIMENSIONS), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def _metadata(position: int) -> dict[str, Any]:
    return {"group": f"g{position % 10}"}


def measure(sizes: Sizes) -> Result:
    count = sizes.upsert_vectors
    vectors = _vectors(count)
    rows = vectors.tolist()  # as a caller holds them (JSON numbers); both sides get the same lists
    documents = [Document(f"doc-{i}", rows[i], _metadata(i)) for i in range(count)]
    with tempfile.TemporaryDirectory(prefix="embedrock-perf-upsert-") as data_dir:
        emulator = InProcessEmulator(EmulatorOptions(data_dir=Path(data_dir)))
        try:
            client = emulator.s3vectors_client()
            client.create_vector_bucket(vectorBucketName=BUCKET)
            pacing = _PacingClock()
            store = S3VectorsStore(client, BUCKET, sleep=pacing.sleep)
            for index in (PRODUCT_INDEX, FLOOR_INDEX):
                store.create(Collection(index, "amazon.titan-embed-text-v2:0", DIMENSIONS, "cosine"))
            put_calls = 0

            def count_put(**_: Any) -> None:
                nonlocal put_calls
                put_calls += 1

            client.meta.events.register("before-call.s3vectors.PutVectors", count_put)
            reports: list[WriteReport] = []
            product = timed(lambda: reports.append(store.put(PRODUCT_INDEX, documents)))
            report = reports[0]
            batches = [
                [
                    {"key": f"doc-{i}", "data": {"float32": rows[i]}, "metadata": _metadata(i)}
                    for i in range(start, min(start + limits.PUT_MAX, count))
                ]
                for start in range(0, count, limits.PUT_MAX)
            ]
            backend = emulator.s3vectors
            floor = timed(
                lambda: [
                    backend.put_vectors(
                        {"vectorBucketName": BUCKET, "indexName": FLOOR_INDEX, "vectors": batch}
                    )
                    for batch in batches
                ]
            )
            # Both indexes hold every vector: the measure timed writes, not refusals.
            stored = [
                len(client.list_vectors(vectorBucketName=BUCKET, indexName=name, maxResults=1)["vectors"])
                for name in (PRODUCT_INDEX, FLOOR_INDEX)
            ]
            assert report.documents == count and all(stored)
        finally:
            emulator.close()
    expected_calls = math.ceil(count / limits.PUT_MAX)
    unpaced = max(product - pacing.slept, 0.0)
    over_floor = product / floor if floor > 0 else math.inf
    return Result(
        name="collection_upsert",
        baseline=Timing(f"emulator backend put_vectors ({len(batches)} batches)", floor),
        product=Timing("S3VectorsStore.put (batched, paced)", product),
        ratio=over_floor,
        ratio_means="times the bare backend put (the floor)",
        goal=f"PutVectors calls = ceil(n / {limits.PUT_MAX}); paced at <= {limits.WRITE_VECTORS_PER_SECOND:,} vectors/s",
        met=put_calls == report.calls == expected_calls,
        verdict=(
            f"{count / product:,.0f} vectors/s through the adapter ({put_calls} PutVectors, "
            f"{seconds_text(pacing.slept)} paced); floor {count / floor:,.0f} vectors/s"
        ),
        details={
            "vectors": count,
            "dimensions": DIMENSIONS,
            "put_vectors_calls": put_calls,
            "expected_put_vectors_calls": expected_calls,
            "adapter_reported_calls": report.calls,
            "vectors_per_second": count / product,
            "floor_vectors_per_second": count / floor,
            "pacing_seconds": pacing.slept,
            "pacing_waits": pacing.waits,
            "write_limit_vectors_per_second": limits.WRITE_VECTORS_PER_SECOND,
            "write_limit_requests_per_second": limits.WRITE_REQUESTS_PER_SECOND,
            "unpaced_seconds": unpaced,
            "unpaced_times_floor": unpaced / floor if floor > 0 else math.inf,
        },
    )
