"""Vectors, token counts and request timings on disk, so no text is paid for twice.

One SQLite file: a vector per (target, model, dimensions, normalize, input type, embedding
type, text), committed after every request, so an interrupted run resumes where it stopped;
and every timed request, so a re-run reports the latencies that were really measured.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from embedrock.embed_spec import EmbedSpec

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, dtype TEXT, width INTEGER, data BLOB, tokens INTEGER);
CREATE TABLE IF NOT EXISTS requests (spec TEXT, dataset TEXT, texts INTEGER, calls INTEGER, ms REAL);
"""
_CHUNK = 500  # keys per SELECT, under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Cached:
    vector: npt.NDArray[np.generic]
    tokens: int


class VectorCache:
    def __init__(self, path: Path, target: str) -> None:
        """`target` names where vectors come from (e.g. emulator/minilm, aws/us-east-1)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.executescript(_SCHEMA)
        self.target = target

    def spec_id(self, spec: EmbedSpec) -> str:
        return json.dumps([self.target, *spec.cache_key_parts()])

    @staticmethod
    def _key(spec_id: str, text: str) -> bytes:
        return hashlib.sha256(f"{spec_id}\0{text}".encode()).digest()

    def get(self, spec: EmbedSpec, texts: Sequence[str]) -> dict[str, Cached]:
        spec_id = self.spec_id(spec)
        keys = {self._key(spec_id, text): text for text in dict.fromkeys(texts)}
        found: dict[str, Cached] = {}
        key_list = list(keys)
        for start in range(0, len(key_list), _CHUNK):
            chunk = key_list[start : start + _CHUNK]
            rows = self._db.execute(
                f"SELECT key, dtype, width, data, tokens FROM vectors WHERE key IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for key, dtype, width, data, tokens in rows:
                if width != spec.width:  # stored before binary types were packed for every model
                    continue
                vector = np.frombuffer(data, dtype=np.dtype(dtype)).reshape(width)
                found[keys[key]] = Cached(vector, tokens)
        return found

    def put(
        self, spec: EmbedSpec, texts: Sequence[str], vectors: npt.NDArray[np.generic], tokens: Sequence[int]
    ) -> None:
        # Floats as float32: Bedrock answers with float32 precision, and it halves the file.
        stored = vectors.astype(np.float32) if vectors.dtype.kind == "f" else vectors
        spec_id = self.spec_id(spec)
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?)",
            [
                (self._key(spec_id, text), stored.dtype.str, stored.shape[1], row.tobytes(), count)
                for text, row, count in zip(texts, stored, tokens, strict=True)
            ],
        )
        self._db.commit()

    def add_request(self, spec: EmbedSpec, dataset: str, texts: int, calls: int, ms: float) -> None:
        self._db.execute(
            "INSERT INTO requests VALUES (?, ?, ?, ?, ?)", (self.spec_id(spec), dataset, texts, calls, ms)
        )
        self._db.commit()

    def requests(self, spec: EmbedSpec, dataset: str) -> list[tuple[int, int, float]]:
        """(texts, Bedrock calls, milliseconds) of every request measured for this spec and data set."""
        rows = self._db.execute(
            "SELECT texts, calls, ms FROM requests WHERE spec = ? AND dataset = ? ORDER BY rowid",
            (self.spec_id(spec), dataset),
        )
        return [(int(texts), int(calls), float(ms)) for texts, calls, ms in rows]

    def close(self) -> None:
        self._db.close()
