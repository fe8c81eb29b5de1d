"""`embedrock ingest FILE --collection NAME`: the local pipeline filling a collection of the
emulator's S3 Vectors store (the one `make run` serves), read back here through boto3's shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from embedrock.vector_store.model import Collection
from embedrock.vector_store.s3vectors import S3VectorsStore
from embedrock_local.runtime.emulator import EmulatorOptions, InProcessEmulator
from embedrock_local.runtime.serve import LOCAL_VECTOR_BUCKET

pytestmark = pytest.mark.integration

TITAN_V2 = "amazon.titan-embed-text-v2:0"
INGEST = [sys.executable, "-m", "embedrock_local.cli", "ingest", "--no-progress"]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The emulator's data directory, holding the local vector bucket and a collection `docs`."""
    path = tmp_path / "emulator-data"
    with stored(path) as store:
        store.create(Collection(name="docs", model=TITAN_V2, dimensions=512, metric="cosine"))
    return path


class stored:  # noqa: N801 - used as a context manager, like open()
    """The collections' store over an in-process emulator on `path` (the bucket made if missing)."""

    def __init__(self, path: Path) -> None:
        self.emulator = InProcessEmulator(EmulatorOptions(data_dir=path))
        client = self.emulator.s3vectors_client()
        if not client.list_vector_buckets().get("vectorBuckets"):
            client.create_vector_bucket(vectorBucketName=LOCAL_VECTOR_BUCKET)
        self.store = S3VectorsStore(client, LOCAL_VECTOR_BUCKET)

    def __enter__(self) -> S3VectorsStore:
        return self.store

    def __exit__(self, *_: object) -> None:
        self.emulator.close()


def ingest(data_dir: Path, *arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "EMBEDROCK_EMULATOR_DATA": str(data_dir)}
    return subprocess.run(
        [*INGEST, *arguments],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def docs_file(tmp_path: Path) -> Iterator[Path]:
    lines = [
        {"id": "cat", "text": "the cat sat on the mat", "metadata": {"animal": "cat"}},
        {"id": "dog", "text": "the dog chased the ball", "metadata": {"animal": "dog"}},
        {"id": "bad", "text": "reserved key", "metadata": {"_secret": 1}},
    ]
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    yield path


def test_ingest_fills_the_collection_and_prints_what_it_upserted(
    tmp_path: Path, data_dir: Path, docs_file: Path
) -> None:
    result = ingest(data_dir, "docs.jsonl", "--out", "out", "--collection", "docs", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "complete: 2 of 3 lines embedded, 1 reported" in result.stdout
    assert "model amazon.titan-embed-text-v2:0 at 512 dimensions" in result.stdout
    assert "collection docs: 2 documents upserted (1 PutVectors call)" in result.stdout
    assert "line 3: the document.metadata key '_secret' is not allowed" in result.stdout
    manifest = json.loads((tmp_path / "out" / "docs.jsonl.manifest.json").read_text())
    assert (manifest["collection"], manifest["upserted"]) == ("docs", 2)
    with stored(data_dir) as store:
        found = store.get("docs", ["cat", "dog", "bad"])
        assert [(d.id, d.text, dict(d.metadata)) for d in found] == [
            ("cat", "the cat sat on the mat", {"animal": "cat"}),
            ("dog", "the dog chased the ball", {"animal": "dog"}),
        ]
    # Run again: the same file and collection are already done, and nothing is written twice
    again = ingest(data_dir, "docs.jsonl", "--out", "out", "--collection", "docs", cwd=tmp_path)
    assert again.returncode == 0 and "Already embedded" in again.stdout


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (
            ["--collection", "absent"],
            ["rejected: 0 of 3 lines embedded, 3 reported", "no collection named absent"],
        ),
        (
            ["--collection", "docs", "--dimensions", "256"],
            ["dimensions 256 does not match collection 'docs'"],
        ),
        (["--collection", "Bad_Name"], ["is not a collection name"]),
    ],
)
def test_ingest_refuses_a_collection_it_cannot_fill_in_one_clear_line(
    tmp_path: Path, data_dir: Path, docs_file: Path, arguments: list[str], words: list[str]
) -> None:
    result = ingest(data_dir, "docs.jsonl", "--out", "out", *arguments, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    for word in words:
        assert word in result.stdout
