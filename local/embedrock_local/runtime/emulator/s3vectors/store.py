"""The S3 Vectors store: buckets, indexes, keys and metadata in SQLite (WAL; one transaction
per write call, so a crash mid-PutVectors leaves the index as it was), vectors as float32 blobs.

Each index's vectors are loaded once into a matrix (search.Matrix) and kept until a write to
that index drops it; queries never re-read the database.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .search import Matrix

SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY, created REAL NOT NULL, index_mode TEXT NOT NULL,
    encryption TEXT NOT NULL, tags TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS indexes (
    bucket TEXT NOT NULL REFERENCES buckets(name), name TEXT NOT NULL, created REAL NOT NULL,
    data_type TEXT NOT NULL, dimension INTEGER NOT NULL, metric TEXT NOT NULL,
    non_filterable TEXT NOT NULL, index_mode TEXT NOT NULL, encryption TEXT NOT NULL,
    tags TEXT NOT NULL, text_search TEXT NOT NULL DEFAULT '[]', PRIMARY KEY (bucket, name));
CREATE TABLE IF NOT EXISTS vectors (
    bucket TEXT NOT NULL, idx TEXT NOT NULL, key TEXT NOT NULL, data BLOB NOT NULL,
    metadata TEXT, PRIMARY KEY (bucket, idx, key),
    FOREIGN KEY (bucket, idx) REFERENCES indexes(bucket, name));
"""


@dataclass(frozen=True)
class Bucket:
    name: str
    created: float
    index_mode: str
    encryption: dict[str, Any]


@dataclass(frozen=True)
class TextSearch:
    """A searchable metadata key: its analyzer's language (None: the standard analyzer) and when
    its backfill ends (status BUILDING before, ACTIVE from then on)."""

    metadata_key: str
    language: str | None
    ready_at: float

    def status(self, at: float) -> str:
        return "ACTIVE" if at >= self.ready_at else "BUILDING"


@dataclass(frozen=True)
class Index:
    bucket: str
    name: str
    created: float
    data_type: str
    dimension: int
    metric: str
    non_filterable: tuple[str, ...]
    index_mode: str
    encryption: dict[str, Any]
    text_search: tuple[TextSearch, ...] = ()

    def searchable(self, key: str) -> TextSearch | None:
        return next((t for t in self.text_search if t.metadata_key == key), None)


@dataclass(frozen=True)
class StoredVector:
    key: str
    data: np.ndarray
    metadata: dict[str, Any] | None


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection behind one lock: the HTTP server's threads take turns; SQLite would
        # serialize the writes anyway.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(indexes)")}
        if "text_search" not in columns:  # a store written before full-text search
            self._db.execute("ALTER TABLE indexes ADD COLUMN text_search TEXT NOT NULL DEFAULT '[]'")
        self.lock = threading.RLock()
        self._matrices: dict[tuple[str, str], Matrix] = {}

    def close(self) -> None:
        with self.lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # Buckets
    def bucket(self, name: str) -> Bucket | None:
        with self.lock:
            row = self._db.execute(
                "SELECT name, created, index_mode, encryption FROM buckets WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else Bucket(row[0], row[1], row[2], json.loads(row[3]))

    def bucket_names(self, prefix: str, after: str, limit: int) -> list[Bucket]:
        with self.lock:
            rows = self._db.execute(
                "SELECT name, created, index_mode, encryption FROM buckets WHERE name > ? AND substr(name, 1, ?) = ?"
                " ORDER BY name LIMIT ?",
                (after, len(prefix), prefix, limit),
            ).fetchall()
        return [Bucket(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def count_buckets(self) -> int:
        with self.lock:
            return int(self._db.execute("SELECT count(*) FROM buckets").fetchone()[0])

    def add_bucket(self, bucket: Bucket, tags: dict[str, str]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO buckets VALUES (?, ?, ?, ?, ?)",
                (
                    bucket.name,
                    bucket.created,
                    bucket.index_mode,
                    json.dumps(bucket.encryption),
                    json.dumps(tags),
                ),
            )

    def delete_bucket(self, name: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM buckets WHERE name = ?", (name,))

    # Tags: a JSON object per bucket and per index, deleted with its resource.
    def tags(self, bucket: str, index: str | None = None) -> dict[str, str]:
        with self.lock:
            row = (
                self._db.execute("SELECT tags FROM buckets WHERE name = ?", (bucket,))
                if index is None
                else self._db.execute(
                    "SELECT tags FROM indexes WHERE bucket = ? AND name = ?", (bucket, index)
                )
            ).fetchone()
        return {} if row is None else dict(json.loads(row[0]))

    def set_tags(self, tags: dict[str, str], bucket: str, index: str | None = None) -> None:
        with self.transaction() as db:
            if index is None:
                db.execute("UPDATE buckets SET tags = ? WHERE name = ?", (json.dumps(tags), bucket))
            else:
                db.execute(
                    "UPDATE indexes SET tags = ? WHERE bucket = ? AND name = ?",
                    (json.dumps(tags), bucket, index),
                )

    # Indexes
    def index(self, bucket: str, name: str) -> Index | None:
        with self.lock:
            row = self._db.execute(
                _INDEX_SELECT + " WHERE bucket = ? AND name = ?", (bucket, name)
            ).fetchone()
        return None if row is None else _index(row)

    def indexes(self, bucket: str, prefix: str, after: str, limit: int) -> list[Index]:
        with self.lock:
            rows = self._db.execute(
                _INDEX_SELECT
                + " WHERE bucket = ? AND name > ? AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?",
                (bucket, after, len(prefix), prefix, limit),
            ).fetchall()
        return [_index(row) for row in rows]

    def count_indexes(self, bucket: str) -> int:
        with self.lock:
            return int(
                self._db.execute("SELECT count(*) FROM indexes WHERE bucket = ?", (bucket,)).fetchone()[0]
            )

    def add_index(self, index: Index, tags: dict[str, str]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO indexes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    index.bucket,
                    index.name,
                    index.created,
                    index.data_type,
                    index.dimension,
                    index.metric,
                    json.dumps(list(index.non_filterable)),
                    index.index_mode,
                    json.dumps(index.encryption),
                    json.dumps(tags),
                    _dump_text_search(index.text_search),
                ),
            )

    def set_text_search(self, index: Index, text_search: tuple[TextSearch, ...]) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE indexes SET text_search = ? WHERE bucket = ? AND name = ?",
                (_dump_text_search(text_search), index.bucket, index.name),
            )

    def delete_index(self, index: Index) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM vectors WHERE bucket = ? AND idx = ?", (index.bucket, index.name))
            db.execute("DELETE FROM indexes WHERE bucket = ? AND name = ?", (index.bucket, index.name))
            self._matrices.pop((index.bucket, index.name), None)

    # Vectors
    def put_vectors(self, index: Index, rows: list[tuple[str, np.ndarray, dict[str, Any] | None]]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?)",
                [
                    (index.bucket, index.name, key, data.astype("<f4").tobytes(), _dump(metadata))
                    for key, data, metadata in rows
                ],
            )
            self._matrices.pop((index.bucket, index.name), None)

    def delete_vectors(self, index: Index, keys: list[str]) -> None:
        with self.transaction() as db:
            db.executemany(
                "DELETE FROM vectors WHERE bucket = ? AND idx = ? AND key = ?",
                [(index.bucket, index.name, key) for key in keys],
            )
            self._matrices.pop((index.bucket, index.name), None)

    def get_vectors(self, index: Index, keys: list[str]) -> dict[str, StoredVector]:
        found: dict[str, StoredVector] = {}
        with self.lock:
            for key in keys:
                row = self._db.execute(
                    "SELECT key, data, metadata FROM vectors WHERE bucket = ? AND idx = ? AND key = ?",
                    (index.bucket, index.name, key),
                ).fetchone()
                if row is not None:
                    found[key] = _vector(row)
        return found

    def list_vectors(self, index: Index, after: str, limit: int) -> list[StoredVector]:
        with self.lock:
            rows = self._db.execute(
                "SELECT key, data, metadata FROM vectors WHERE bucket = ? AND idx = ? AND key > ? ORDER BY key LIMIT ?",
                (index.bucket, index.name, after, limit),
            ).fetchall()
        return [_vector(row) for row in rows]

    def matrix(self, index: Index) -> Matrix:
        """The index's vectors ready to search, read from disk only after a write."""
        with self.lock:
            cached = self._matrices.get((index.bucket, index.name))
            if cached is not None:
                return cached
            rows = self._db.execute(
                "SELECT key, data, metadata FROM vectors WHERE bucket = ? AND idx = ? ORDER BY key",
                (index.bucket, index.name),
            ).fetchall()
            data = np.frombuffer(b"".join(row[1] for row in rows), dtype="<f4").reshape(
                len(rows), index.dimension
            )
            matrix = Matrix.build(
                [row[0] for row in rows],
                data,
                [json.loads(row[2]) if row[2] is not None else {} for row in rows],
                index.metric,
            )
            self._matrices[(index.bucket, index.name)] = matrix
            return matrix


_INDEX_SELECT = (
    "SELECT bucket, name, created, data_type, dimension, metric, non_filterable, index_mode, encryption,"
    " text_search FROM indexes"
)


def _index(row: tuple[Any, ...]) -> Index:
    text_search = tuple(
        TextSearch(t["metadataKey"], t.get("language"), t["readyAt"]) for t in json.loads(row[9])
    )
    return Index(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        tuple(json.loads(row[6])),
        row[7],
        json.loads(row[8]),
        text_search,
    )


def _dump_text_search(text_search: tuple[TextSearch, ...]) -> str:
    return json.dumps(
        [{"metadataKey": t.metadata_key, "language": t.language, "readyAt": t.ready_at} for t in text_search]
    )


def _vector(row: tuple[Any, ...]) -> StoredVector:
    metadata = json.loads(row[2]) if row[2] is not None else None
    return StoredVector(row[0], np.frombuffer(row[1], dtype="<f4"), metadata)


def _dump(metadata: dict[str, Any] | None) -> str | None:
    return None if metadata is None else json.dumps(metadata, separators=(",", ":"))


def now() -> float:
    return time.time()
