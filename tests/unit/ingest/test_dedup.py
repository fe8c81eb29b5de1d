"""The pipeline embeds identical lines of a chunk once: each line still gets its row, billed once."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedrock import catalog
from embedrock_local.runtime.emulator import tokens as token_estimate
from tests.fakes import FakeBedrockRuntime, client_error
from tests.fixtures.ingest.harness import IngestAws

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN_V2 = "amazon.titan-embed-text-v2:0"


def jsonl(*texts: str) -> bytes:
    lines = (json.dumps({"id": f"t{i}", "text": text}) for i, text in enumerate(texts, 1))
    return "".join(line + "\n" for line in lines).encode()


def test_identical_lines_are_one_call_each_row_in_order_and_tokens_billed_once(
    aws: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    texts = ["the same line"] * 5 + ["another line of text"] + ["the same line"] * 2
    aws.upload("input/copies.jsonl", jsonl(*texts))
    aws.deliver()

    rows = aws.output("copies.jsonl")
    assert [row["id"] for row in rows] == [f"t{i}" for i in range(1, 9)]
    assert len(bedrock.calls) == 2
    for row in rows[1:5] + rows[6:]:
        np.testing.assert_allclose(row["embedding"], rows[0]["embedding"], rtol=1e-6)
    assert not np.allclose(rows[5]["embedding"], rows[0]["embedding"])

    manifest = aws.manifest("copies.jsonl")
    assert manifest["counts"]["embedded"] == 8 and manifest["counts"]["bedrock_calls"] == 2
    model = catalog.find(TITAN_V2)
    assert model is not None
    tokens = manifest["input_tokens"]
    assert tokens == token_estimate.count("the same line") + token_estimate.count("another line of text")
    assert manifest["cost_usd"] == pytest.approx(tokens * model.price_per_million_tokens / 1e6, abs=1e-12)


def test_a_line_bedrock_rejects_is_rejected_with_every_copy(
    aws: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    bedrock.fail_on_text["refused"] = client_error("ValidationException", 400, "Too many tokens")
    aws.upload("input/refused.jsonl", jsonl("refused", "kept", "refused"))
    aws.deliver()

    assert [row["id"] for row in aws.output("refused.jsonl")] == ["t2"]
    manifest = aws.manifest("refused.jsonl")
    assert [item["line"] for item in manifest["rejected"]] == [1, 3]
    assert len(bedrock.calls) == 2
