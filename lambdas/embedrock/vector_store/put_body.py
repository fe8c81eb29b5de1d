"""PutVectors bodies with their floats written by orjson instead of botocore's JSON serializer.

botocore's rest-json serializer walks every list item through its shape dispatch (a wrapper dict
and a special-float check per number) before json.dumps writes it: for one PutVectors of 500 x
1,024 floats that is ~0.74 s of CPU, ~0.03 s with this (process time, a client answered without a
network, load average 5.4), so an upsert sent through it stayed under ~700 vectors/s, far from S3
Vectors' 2,500 vectors/s per index (user guide, s3-vectors-limitations.html). botocore's
event system lets a client change its parameters before they are built
(`provide-client-params`) and the request before it is sent (`before-call`, ahead of compression,
checksums and signing): the vectors' floats are taken out of the parameters, so botocore
validates and serializes everything else as usual, and put back into the body it wrote by
orjson (already a dependency; ~25 ns a float).

The body keeps what botocore writes for every other member and the same numbers (orjson writes
the shortest repr of each double, as json.dumps does, in its own spelling: 1e-5 for 1e-05).
A call whose floats are not all finite numbers in lists is left to botocore whole, so what S3
Vectors or botocore's validation say of it does not change. The PutVectors members are all in
the body (POST /PutVectors, no URI or header members, no httpChecksum: botocore's s3vectors
model 2025-07-15).
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

_FLOATS = "embedrock_put_floats"  # request-context key holding the floats taken out


def write_floats_with_orjson(client: Any) -> None:
    """Register both handlers on `client`, a boto3 s3vectors client."""
    client.meta.events.register("provide-client-params.s3vectors.PutVectors", _take_floats)
    client.meta.events.register("before-call.s3vectors.PutVectors", _put_floats_back)


def _take_floats(params: dict[str, Any], context: dict[str, Any], **_: Any) -> dict[str, Any] | None:
    vectors = params.get("vectors")
    if not isinstance(vectors, list):
        return None
    floats: list[list[float]] = []
    for vector in vectors:
        values = vector.get("data", {}).get("float32") if isinstance(vector, dict) else None
        if not isinstance(values, list) or not _finite_numbers(values):
            return None  # botocore serializes (and validates) the call as given
        floats.append(values)
    context[_FLOATS] = floats
    # New dicts: the caller's parameters stay as they were.
    light = [{**vector, "data": {**vector["data"], "float32": []}} for vector in vectors]
    return {**params, "vectors": light}


def _put_floats_back(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    floats = context.pop(_FLOATS, None)
    if floats is None:
        return
    body = json.loads(params["body"])
    for vector, values in zip(body["vectors"], floats, strict=True):
        vector["data"]["float32"] = values
    try:
        params["body"] = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
    except orjson.JSONEncodeError:
        # What orjson does not write (Decimal, integers past 64 bits): as botocore would, a float each.
        params["body"] = json.dumps(body, default=float).encode()


def _finite_numbers(values: list[Any]) -> bool:
    """Every item a finite number, checked in C: sum() refuses strings and None (TypeError) and
    carries a NaN or an infinity through (an overflow to infinity only sends the call the slow way)."""
    try:
        total = sum(values)
    except TypeError:
        return False
    return math.isfinite(total)
