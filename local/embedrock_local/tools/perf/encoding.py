"""encoding: a response of float32 vectors as JSON numbers against base64 (the OpenAI
client's default): bytes of the body and time to build it, with the product's encoder and
response serializer.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from embedrock import encoding
from embedrock.http.resolver import to_json
from embedrock_local.tools.perf.common import DIMENSIONS, Result, Sizes, Timing, median_pair

MIN_SIZE_RATIO = 3.0


def describe(sizes: Sizes) -> str:
    return f"{sizes.encoding_vectors} x {DIMENSIONS} float32 vectors in a response body"


def body(vectors: np.ndarray, kind: Literal["float", "base64"]) -> str:
    return to_json({"embeddings": encoding.encode(vectors, "float", kind)})


def measure(sizes: Sizes) -> Result:
    vectors = np.random.default_rng(3).standard_normal((sizes.encoding_vectors, DIMENSIONS), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    as_floats, as_base64 = median_pair(
        lambda: body(vectors, "float"), lambda: body(vectors, "base64"), repeat=9
    )
    float_bytes, base64_bytes = len(body(vectors, "float")), len(body(vectors, "base64"))
    size_ratio = float_bytes / base64_bytes
    return Result(
        name="encoding",
        baseline=Timing(f"JSON floats, {float_bytes / 1e6:.2f} MB", as_floats),
        product=Timing(f"base64, {base64_bytes / 1e6:.2f} MB", as_base64),
        ratio=as_floats / as_base64,
        ratio_means="times faster to serialize than JSON floats",
        goal=f">= {MIN_SIZE_RATIO:g}x smaller",
        met=size_ratio >= MIN_SIZE_RATIO,
        verdict=f"{size_ratio:.1f}x smaller, {as_floats / as_base64:.1f}x faster",
        details={
            "vectors": sizes.encoding_vectors,
            "dimensions": DIMENSIONS,
            "float_bytes": float_bytes,
            "base64_bytes": base64_bytes,
            "size_ratio": size_ratio,
        },
    )
