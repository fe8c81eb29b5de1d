"""Two emulators on one data directory (`make run` and `embedrock ingest --collection`): each
sees the other's writes in its next query, not the vectors it had cached before them."""

from __future__ import annotations

from pathlib import Path

from embedrock_local.runtime.emulator import EmulatorOptions, InProcessEmulator

WHERE = {"vectorBucketName": "shared", "indexName": "docs"}


def test_a_query_sees_what_another_process_wrote_since_its_last_one(tmp_path: Path) -> None:
    serving, ingesting = (InProcessEmulator(EmulatorOptions(data_dir=tmp_path)) for _ in range(2))
    try:
        server, writer = serving.s3vectors_client(), ingesting.s3vectors_client()
        server.create_vector_bucket(vectorBucketName="shared")
        server.create_index(**WHERE, dataType="float32", dimension=2, distanceMetric="cosine")
        server.put_vectors(**WHERE, vectors=[{"key": "a", "data": {"float32": [1.0, 0.0]}}])
        query = {**WHERE, "topK": 10, "queryVector": {"float32": [0.0, 1.0]}}
        assert [v["key"] for v in server.query_vectors(**query)["vectors"]] == ["a"]  # now cached
        # When the other process writes to the same index
        writer.put_vectors(**WHERE, vectors=[{"key": "b", "data": {"float32": [0.0, 1.0]}}])
        # Then the server's next query ranks it, without a write of its own in between
        assert [v["key"] for v in server.query_vectors(**query)["vectors"]] == ["b", "a"]
        writer.delete_vectors(**WHERE, keys=["a"])
        assert [v["key"] for v in server.query_vectors(**query)["vectors"]] == ["b"]
    finally:
        serving.close()
        ingesting.close()
