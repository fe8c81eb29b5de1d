"""collection_upsert: N float32 vectors upserted through the product's S3 Vectors adapter
(S3VectorsStore.put: batches of at most 500, paced under the per-index write limits) into the
emulator's in-process S3 Vectors, against the emulator's bare backend put of the same batches
into another index (the floor: no adapter, no client, no pacing).

The adapter paces by S3 Vectors' documented per-index write rate (limits.WRITE_VECTORS_PER_SECOND),
so at full size the pacing, not the emulator, sets the product's time; the report says how long
the adapter waited, so the remaining overhead can be read apart from the limit it honours.
Product and floor run REPEAT times in alternation; the medians count.

The in-process client answers boto3's calls without building requests, so `details.wire` adds
what a call to AWS also costs the caller: CPU per PutVectors of one full batch over HTTP to the
emulator, the product's client (from the composition root) against a bare boto3 client.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import numpy as np

from embedrock import wiring
from embedrock.vector_store import limits
from embedrock.vector_store.model import Collection, Document, WriteReport
from embedrock.vector_store.s3vectors import S3VectorsStore
from embedrock_local.environment import environment_set, function_environment
from embedrock_local.runtime.emulator import Emulator, EmulatorOptions, InProcessEmulator
from embedrock_local.tools.perf.common import DIMENSIONS, Result, Sizes, Timing, seconds_text, timed

BUCKET = "perf-collections"
PRODUCT_INDEX = "through-adapter"
FLOOR_INDEX = "bare-backend"
# Interleaved runs of product and floor; the medians count (the machine is shared).
REPEAT = 3


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


@dataclass(frozen=True)
class _Run:
    product: float
    floor: float
    paced: float
    report: WriteReport


def _run(
    client: Any, backend: Any, documents: list[Document], batches: list[list[dict[str, Any]]], run: int
) -> _Run:
    """One upsert through the adapter, then the floor's bare puts, each into its own new index."""
    product_index, floor_index = f"{PRODUCT_INDEX}-{run}", f"{FLOOR_INDEX}-{run}"
    pacing = _PacingClock()
    store = S3VectorsStore(client, BUCKET, sleep=pacing.sleep)
    for index in (product_index, floor_index):
        store.create(Collection(index, "amazon.titan-embed-text-v2:0", DIMENSIONS, "cosine"))
    reports: list[WriteReport] = []
    product = timed(lambda: reports.append(store.put(product_index, documents)))
    floor = timed(
        lambda: [
            backend.put_vectors({"vectorBucketName": BUCKET, "indexName": floor_index, "vectors": batch})
            for batch in batches
        ]
    )
    # Both indexes hold every vector: the measure timed writes, not refusals.
    stored = [
        len(client.list_vectors(vectorBucketName=BUCKET, indexName=name, maxResults=1)["vectors"])
        for name in (product_index, floor_index)
    ]
    assert reports[0].documents == len(documents) and all(stored)
    for index in (product_index, floor_index):
        store.delete(index)  # the next run starts from the same on-disk size
    return _Run(product, floor, pacing.slept, reports[0])


def _wire_cpu(documents: list[Document], batch: list[dict[str, Any]]) -> dict[str, Any]:
    """CPU of this thread per PutVectors of one full batch sent over HTTP, as to AWS: a bare boto3
    client (botocore validates and serializes every float) against the product's store and client
    from the composition root. The in-process client above skips botocore's request building, which
    real S3 Vectors calls pay; the emulator answers from its own threads, not counted here."""
    bare_cpu: list[float] = []
    product_cpu: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="embedrock-perf-upsert-wire-") as data_dir,
        Emulator(EmulatorOptions(data_dir=Path(data_dir))) as emulator,
        environment_set(function_environment(emulator.url)),
    ):
        wiring.reset()  # clients built before would point elsewhere
        try:
            store = wiring.build_vector_store(wiring.settings(), BUCKET)
            bare = boto3.client("s3vectors")
            bare.create_vector_bucket(vectorBucketName=BUCKET)
            for run in range(REPEAT):
                bare_index, product_index = f"wire-bare-{run}", f"wire-product-{run}"
                for index in (bare_index, product_index):
                    store.create(Collection(index, "amazon.titan-embed-text-v2:0", DIMENSIONS, "cosine"))
                bare_put = partial(
                    bare.put_vectors, vectorBucketName=BUCKET, indexName=bare_index, vectors=batch
                )
                bare_cpu.append(_thread_cpu(bare_put))
                product_cpu.append(_thread_cpu(partial(store.put, product_index, documents)))
        finally:
            wiring.reset()
    bare_median, product_median = statistics.median(bare_cpu), statistics.median(product_cpu)
    return {
        "vectors_per_call": len(batch),
        "bare_boto3_cpu_seconds_per_call": bare_median,
        "product_cpu_seconds_per_call": product_median,
        "bare_over_product": bare_median / product_median if product_median > 0 else math.inf,
        "bare_boto3_cpu_seconds": bare_cpu,
        "product_cpu_seconds": product_cpu,
    }


def _thread_cpu(action: Callable[[], object]) -> float:
    started = time.thread_time()
    action()
    return time.thread_time() - started


def _paced_minimum(batches: int) -> float:
    """The least time `batches` full batches take under the per-index vector rate: each window of
    one second holds WRITE_VECTORS_PER_SECOND // PUT_MAX of them, the last window's are not waited on."""
    per_window = limits.WRITE_VECTORS_PER_SECOND // limits.PUT_MAX
    return float((batches - 1) // per_window) if batches else 0.0


def measure(sizes: Sizes) -> Result:
    count = sizes.upsert_vectors
    vectors = _vectors(count)
    rows = vectors.tolist()  # as a caller holds them (JSON numbers); both sides get the same lists
    documents = [Document(f"doc-{i}", rows[i], _metadata(i)) for i in range(count)]
    batches = [
        [
            {"key": f"doc-{i}", "data": {"float32": rows[i]}, "metadata": _metadata(i)}
            for i in range(start, min(start + limits.PUT_MAX, count))
        ]
        for start in range(0, count, limits.PUT_MAX)
    ]
    products: list[float] = []
    floors: list[float] = []
    paced: list[float] = []
    put_calls: list[int] = []
    reports: list[WriteReport] = []
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="embedrock-perf-upsert-") as data_dir:
        emulator = InProcessEmulator(EmulatorOptions(data_dir=Path(data_dir)))
        try:
            client = emulator.s3vectors_client()
            client.create_vector_bucket(vectorBucketName=BUCKET)
            backend = emulator.s3vectors
            calls = 0

            def count_put(**_: Any) -> None:
                nonlocal calls
                calls += 1

            client.meta.events.register("before-call.s3vectors.PutVectors", count_put)
            # Product and floor in alternation, each into fresh indexes: a burst of load on the
            # shared machine hits both sides, and the medians count.
            for run in range(REPEAT):
                calls = 0
                outcome = _run(client, backend, documents, batches, run)
                products.append(outcome.product)
                floors.append(outcome.floor)
                paced.append(outcome.paced)
                reports.append(outcome.report)
                put_calls.append(calls)
                loads.append(os.getloadavg()[0])
        finally:
            emulator.close()
    wire = _wire_cpu(documents[: limits.PUT_MAX], batches[0])
    loads.append(os.getloadavg()[0])
    expected_calls = math.ceil(count / limits.PUT_MAX)
    product, floor = statistics.median(products), statistics.median(floors)
    unpaced = statistics.median(max(total - slept, 0.0) for total, slept in zip(products, paced, strict=True))
    paced_minimum = _paced_minimum(expected_calls)
    over_floor = product / floor if floor > 0 else math.inf
    return Result(
        name="collection_upsert",
        baseline=Timing(f"emulator backend put_vectors ({len(batches)} batches)", floor),
        product=Timing("S3VectorsStore.put (batched, paced)", product),
        ratio=over_floor,
        ratio_means="times the bare backend put (the floor)",
        goal=f"PutVectors calls = ceil(n / {limits.PUT_MAX}); paced at <= {limits.WRITE_VECTORS_PER_SECOND:,} vectors/s",
        met=all(
            calls == report.calls == expected_calls for calls, report in zip(put_calls, reports, strict=True)
        ),
        verdict=(
            f"{count / product:,.0f} vectors/s through the adapter ({expected_calls} PutVectors, "
            f"{seconds_text(statistics.median(paced))} paced, S3 Vectors' limit allows no less than "
            f"{seconds_text(paced_minimum)}); unpaced {unpaced / floor:.2f}x the floor of "
            f"{count / floor:,.0f} vectors/s; over HTTP, CPU per PutVectors of {len(batches[0])} "
            f"{seconds_text(wire['product_cpu_seconds_per_call'])} vs bare boto3's "
            f"{seconds_text(wire['bare_boto3_cpu_seconds_per_call'])}"
        ),
        details={
            "vectors": count,
            "dimensions": DIMENSIONS,
            "repetitions": REPEAT,
            "put_vectors_calls": put_calls,
            "expected_put_vectors_calls": expected_calls,
            "adapter_reported_calls": [report.calls for report in reports],
            "vectors_per_second": count / product,
            "floor_vectors_per_second": count / floor,
            "product_seconds": products,
            "floor_seconds": floors,
            "pacing_seconds": paced,
            "paced_minimum_seconds": paced_minimum,
            "write_limit_vectors_per_second": limits.WRITE_VECTORS_PER_SECOND,
            "write_limit_requests_per_second": limits.WRITE_REQUESTS_PER_SECOND,
            "unpaced_seconds": unpaced,
            "unpaced_times_floor": unpaced / floor if floor > 0 else math.inf,
            "wire": wire,
            "load_average": loads,
        },
    )
