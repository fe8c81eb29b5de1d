"""wiring.vector_store(): built once from settings, refused clearly when no bucket is set, overridable."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from embedrock import wiring
from embedrock.errors import ApiError
from embedrock.settings import Settings
from embedrock.vector_store.s3vectors import S3VectorsStore


@pytest.fixture(autouse=True)
def _fresh_wiring() -> Iterator[None]:
    wiring.reset()
    yield
    wiring.reset()


def test_without_a_bucket_collections_are_a_clear_503() -> None:
    wiring.override(settings=Settings())
    with pytest.raises(ApiError) as caught:
        wiring.vector_store()
    error = caught.value
    assert (error.status, error.code) == (503, "collections_not_configured")
    assert "EMBEDROCK_VECTOR_BUCKET" in error.message


def test_the_store_is_built_once_over_the_configured_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    wiring.override(settings=Settings(EMBEDROCK_VECTOR_BUCKET="team-vectors", EMBEDROCK_MAX_ATTEMPTS=4))
    store = wiring.vector_store()
    assert isinstance(store, S3VectorsStore) and store.bucket == "team-vectors"
    assert wiring.vector_store() is store


def test_an_override_replaces_the_store(vector_store: S3VectorsStore) -> None:
    # The unit tests' fixture installs the emulated store as wiring's
    assert wiring.vector_store() is vector_store
    wiring.reset()
    wiring.override(settings=Settings())
    with pytest.raises(ApiError):
        wiring.vector_store()


def test_importing_wiring_and_the_store_loads_no_numpy() -> None:
    # A function that never touches collections must not pay for numpy at cold start.
    code = (
        "import sys, embedrock.wiring, embedrock.vector_store.s3vectors, embedrock.vector_store.client; "
        "print('numpy' in sys.modules)"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"
