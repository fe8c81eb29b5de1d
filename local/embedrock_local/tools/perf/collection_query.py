"""collection_query: a top-10 cosine QueryVectors over an emulated S3 Vectors index, as the
product's boto3 client reaches it (the emulator's in-process s3vectors client: validation, the
cached index matrix, exact search, the response), against a bare numpy matrix-vector product with
argpartition on the same unit-normalized float32 vectors. Both run warm, in alternation.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from embedrock.vector_store import limits
from embedrock_local.runtime.emulator import EmulatorOptions, InProcessEmulator
from embedrock_local.runtime.emulator.inprocess import S3VectorsClient
from embedrock_local.tools.perf.bare_numpy import bare_top_k, unit_vectors
from embedrock_local.tools.perf.common import DIMENSIONS, Result, Sizes, Timing, median_pair

TOP_K = 10
REPEAT = 15
GOAL = 1.5  # at most this many times bare numpy's time
BUCKET, INDEX = "perf-bucket", "perf-index"
WHERE = {"vectorBucketName": BUCKET, "indexName": INDEX}


def describe(sizes: Sizes) -> str:
    return (
        f"QueryVectors top-{TOP_K} over {sizes.collection_vectors:,} x {DIMENSIONS:,} vectors in the emulator"
    )


def key(row: int) -> str:
    return f"v{row:07d}"  # sorted keys keep row order, so the two answers compare row for row


def fill(client: S3VectorsClient, documents: np.ndarray) -> float:
    """Create the index and PutVectors every document in batches of the maximum; the seconds."""
    started = time.perf_counter()
    client.create_vector_bucket(vectorBucketName=BUCKET)
    client.create_index(**WHERE, dataType="float32", dimension=DIMENSIONS, distanceMetric="cosine")
    for start in range(0, len(documents), limits.PUT_MAX):
        batch = documents[start : start + limits.PUT_MAX].tolist()
        client.put_vectors(
            **WHERE,
            vectors=[{"key": key(start + i), "data": {"float32": data}} for i, data in enumerate(batch)],
        )
    return time.perf_counter() - started


def measure(sizes: Sizes) -> Result:
    documents, query = unit_vectors(sizes.collection_vectors, seed=3), unit_vectors(1, seed=4)[0]
    request = {**WHERE, "topK": TOP_K, "queryVector": {"float32": query.tolist()}}
    with tempfile.TemporaryDirectory(prefix="embedrock-perf-") as directory:
        emulator = InProcessEmulator(EmulatorOptions(data_dir=Path(directory)))
        try:
            client = emulator.s3vectors_client()
            fill_seconds = fill(client, documents)
            started = time.perf_counter()
            answer = client.query_vectors(**request)  # the first query loads the index once
            first_query = time.perf_counter() - started
            emulated, bare = median_pair(
                lambda: client.query_vectors(**request),
                lambda: bare_top_k(query, documents, TOP_K),
                repeat=REPEAT,
            )
        finally:
            emulator.close()
    # Same answer: the two do equal work.
    assert [v["key"] for v in answer["vectors"]] == [key(row) for row in bare_top_k(query, documents, TOP_K)]
    ratio = emulated / bare
    return Result(
        name="collection_query",
        baseline=Timing("numpy matrix-vector + argpartition", bare),
        product=Timing("emulator QueryVectors (in-process client)", emulated),
        ratio=ratio,
        ratio_means="times bare numpy's time",
        goal=f"<= {GOAL}x bare numpy",
        met=ratio <= GOAL,
        verdict=f"{ratio:.2f}x bare numpy ({emulated * 1e3:.1f} ms vs {bare * 1e3:.1f} ms)",
        details={
            "vectors": len(documents),
            "dimensions": DIMENSIONS,
            "top_k": TOP_K,
            "repetitions": REPEAT,
            "emulator_seconds": emulated,
            "numpy_seconds": bare,
            "first_query_seconds": first_query,
            "fill_seconds": fill_seconds,
        },
    )
