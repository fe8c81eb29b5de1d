"""In-memory stand-ins for AWS clients, for offline unit tests (dependency injection)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from embedrock import catalog
from embedrock.catalog import Family


def client_error(
    code: str, status: int, message: str = "error", operation: str = "InvokeModel"
) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


def fake_vector(text: str, dimensions: int) -> list[float]:
    """A deterministic pseudo-random vector per text, so order mix-ups are visible."""
    seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
    return [float(x) for x in np.random.default_rng(seed).standard_normal(dimensions)]


def streaming(payload: dict[str, Any]) -> StreamingBody:
    raw = json.dumps(payload).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


@dataclass
class FakeBedrockRuntime:
    """Answers invoke_model like Bedrock does for the catalog's models, and records each call."""

    latency_seconds: float = 0.0
    failures: dict[str, ClientError] = field(default_factory=dict)
    fail_on_text: dict[str, ClientError] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke_model(self, *, modelId: str, body: str, contentType: str, accept: str) -> dict[str, Any]:  # noqa: N803
        request = json.loads(body)
        with self._lock:
            self.calls.append((modelId, request))
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        if modelId in self.failures:
            raise self.failures[modelId]
        texts = request["texts"] if "texts" in request else [request["inputText"]]
        for text in texts:
            if text in self.fail_on_text:
                raise self.fail_on_text[text]
        model = catalog.find(modelId)
        assert model is not None, modelId
        tokens = sum(len(text.split()) for text in texts)
        payload = self._payload(model.family, request, texts, tokens)
        return {
            "body": streaming(payload),
            "contentType": "application/json",
            "ResponseMetadata": {
                "HTTPStatusCode": 200,
                "HTTPHeaders": {"x-amzn-bedrock-input-token-count": str(tokens)},
            },
        }

    @staticmethod
    def _payload(family: Family, request: dict[str, Any], texts: list[str], tokens: int) -> dict[str, Any]:
        if family is Family.COHERE_V3:
            vectors = [fake_vector(text, 1024) for text in texts]
            types = request.get("embedding_types")
            if not types:
                return {
                    "id": "fake",
                    "response_type": "embeddings_floats",
                    "texts": texts,
                    "embeddings": vectors,
                }
            by_type = {kind: _cohere_typed(vectors, kind) for kind in types}
            return {
                "id": "fake",
                "response_type": "embeddings_by_type",
                "texts": texts,
                "embeddings": by_type,
            }
        dimensions = {
            Family.TITAN_TEXT_V2: request.get("dimensions", 1024),
            Family.TITAN_TEXT_V1: 1536,
            Family.TITAN_MULTIMODAL: request.get("embeddingConfig", {}).get("outputEmbeddingLength", 1024),
        }[family]
        vector = fake_vector(texts[0], dimensions)
        if family is Family.TITAN_TEXT_V2 and request.get("normalize", True):
            norm = float(np.linalg.norm(vector))
            vector = [v / norm for v in vector]
        payload: dict[str, Any] = {"embedding": vector, "inputTextTokenCount": tokens}
        if family is Family.TITAN_TEXT_V2:
            by_type: dict[str, Any] = {"float": vector}
            if "binary" in request.get("embeddingTypes", []):
                by_type["binary"] = [1 if v > 0 else 0 for v in vector]  # per bit, as Titan V2
            payload["embeddingsByType"] = by_type
        return payload


def _cohere_typed(vectors: list[list[float]], kind: str) -> list[list[int]]:
    """Integer types as Cohere returns them: int8/uint8 per dimension, binary types packed bits."""
    if kind in ("binary", "ubinary"):
        packed = np.packbits(np.asarray(vectors) > 0, axis=1).astype(np.int64)
        shifted: list[list[int]] = (packed - (128 if kind == "binary" else 0)).tolist()
        return shifted
    return [[int(v * 10) for v in vector] for vector in vectors]
