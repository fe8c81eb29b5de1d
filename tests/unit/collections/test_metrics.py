"""The collections' CloudWatch metrics (EMF on stdout), by function only: never by collection."""

from __future__ import annotations

import pytest

from embedrock import observability
from tests.unit.collections.conftest import Call
from tests.unit.core.test_observability_metrics import dimension_sets, emf_records, metric_names

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def _published(output: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for record in emf_records(output):
        for name in metric_names(record) & {
            "DocumentsUpserted",
            "VectorWriteCalls",
            "CollectionQueries",
            "CollectionQueryLatency",
            "VectorStoreThrottles",
        }:
            assert dimension_sets(record) == [["service"]], record
            value = record[name]
            values[name] = values.get(name, 0) + (sum(value) if isinstance(value, list) else value)
    return values


def test_upserts_deletes_and_searches_are_counted_per_function(
    call: Call, docs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    documents = [{"id": str(n), "text": f"text number {n}"} for n in range(3)]

    call("POST", f"/collections/{docs}/documents", {"documents": documents})
    call("POST", f"/collections/{docs}/documents:delete", {"ids": ["0"]})
    call("POST", f"/collections/{docs}/search", {"query": "text"})

    values = _published(capsys.readouterr().out)
    assert values["DocumentsUpserted"] == 3
    assert values["VectorWriteCalls"] == 2  # one PutVectors, one DeleteVectors
    assert values["CollectionQueries"] == 1 and values["CollectionQueryLatency"] >= 0


def test_a_store_throttle_is_counted(capsys: pytest.CaptureFixture[str]) -> None:
    observability.record_vector_store_throttle()

    assert _published(capsys.readouterr().out) == {"VectorStoreThrottles": 1}
