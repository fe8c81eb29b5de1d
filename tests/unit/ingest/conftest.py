"""What the ingestion tests share: the pipeline's AWS side in memory (moto), Bedrock faked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes import FakeBedrockRuntime
from tests.fixtures.ingest.harness import IngestAws, ingest_aws


@pytest.fixture
def aws(bedrock: FakeBedrockRuntime) -> Iterator[IngestAws]:
    """The bucket, queue and DLQ as the stack builds them, with the default settings."""
    with ingest_aws() as environment:
        yield environment
