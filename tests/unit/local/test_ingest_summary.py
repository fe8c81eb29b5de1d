"""What `embedrock ingest` prints of a manifest: costs with their digits, and the route taken."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedrock.ingest.documents import Counts, Durations, Manifest
from embedrock_local.tools.ingest.command import _summary, usd


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (4.8e-07, "$0.00000048"),
        (1.6e-05, "$0.000016"),
        (0.000123456, "$0.000123456"),
        (2.5, "$2.5"),
        (10.0, "$10"),
        (0.0, "$0"),
        (3e-12, "$3e-12"),  # below pricing's 1e-9 rounding step: never shown as $0
    ],
)
def test_a_cost_is_shown_with_its_digits_and_never_as_zero_when_it_is_not(amount: float, shown: str) -> None:
    assert usd(amount) == shown


def manifest(model: str, invoke_model: str | None) -> Manifest:
    return Manifest(
        status="complete",
        input="input/one.jsonl",
        output="output/one.jsonl.jsonl",
        model=model,
        invoke_model=invoke_model,
        dimensions=1536,
        counts=Counts(lines=1, embedded=1, rejected=0),
        input_tokens=4,
        cost_usd=4.8e-07,
        durations_ms=Durations(total=1.0),
        started_at="2026-01-01T00:00:00.000Z",
        finished_at="2026-01-01T00:00:01.000Z",
    )


def test_the_summary_names_the_profile_a_model_was_invoked_through_and_the_cost() -> None:
    text = _summary(manifest("cohere.embed-v4:0", "us.cohere.embed-v4:0"), Path("out"))
    assert "model cohere.embed-v4:0 through us.cohere.embed-v4:0 at 1536 dimensions, 4 tokens" in text
    assert "$0.00000048 on Bedrock" in text


# None: a manifest of an earlier version, which had no invoke_model.
@pytest.mark.parametrize("invoke_model", ["cohere.embed-v4:0", None])
def test_the_summary_of_a_model_invoked_by_its_own_id_names_it_once(invoke_model: str | None) -> None:
    text = _summary(manifest("cohere.embed-v4:0", invoke_model), Path("out"))
    assert "model cohere.embed-v4:0 at 1536 dimensions" in text and "through" not in text
