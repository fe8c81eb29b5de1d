"""`embedrock collections ...`, `embedrock ingest --collection` and `embedrock search` as a user runs
them against `make run` (the local gateway and emulator): create, fill from a file, search by
vector, text and hybrid with a filter and rerank, list, delete; and every failure one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from embedrock_local.runtime.serve import LocalRuntime
from tests.integration.conftest import API_KEY

pytestmark = pytest.mark.integration

EMBEDROCK = [sys.executable, "-m", "embedrock_local.cli"]
TITAN_V2 = "amazon.titan-embed-text-v2:0"
DOCS = [
    {"id": "cat", "text": "the cat sleeps on the warm mat", "metadata": {"animal": "cat", "year": 2021}},
    {
        "id": "dog",
        "text": "the dog fetches the ball in the park",
        "metadata": {"animal": "dog", "year": 2019},
    },
    {"id": "fish", "text": "a fish swims in the cold river", "metadata": {"animal": "fish", "year": 2023}},
]


def embedrock(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EMBEDROCK, *arguments], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def one_clear_line(result: subprocess.CompletedProcess[str], prefix: str) -> str:
    """A failure: non-zero, nothing on stdout, one line on stderr, no traceback."""
    assert result.returncode != 0 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix) and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_create_fill_search_list_and_delete_a_collection(runtime: LocalRuntime, tmp_path: Path) -> None:
    url = ["--url", runtime.url]
    created = embedrock(
        "collections",
        "create",
        "cli-pets",
        "--model",
        TITAN_V2,
        "--dimensions",
        "256",
        "--text-search",
        "en",
        *url,
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == (
        f"Created collection cli-pets: {TITAN_V2} at 256 dimensions, cosine, text search in en."
    )
    # Fill it from a file with the local pipeline (into the emulator's store that make run serves)
    (tmp_path / "pets.jsonl").write_text("".join(json.dumps(doc) + "\n" for doc in DOCS))
    filled = embedrock(
        "ingest", "pets.jsonl", "--out", "out", "--collection", "cli-pets", "--no-progress", cwd=tmp_path
    )
    assert filled.returncode == 0, filled.stderr
    assert "collection cli-pets: 3 documents upserted (1 PutVectors call)" in filled.stdout
    # Search by vector: the shared words rank the cat first
    found = embedrock("search", "cli-pets", "cat on the mat", "--top-k", "2", *url)
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    assert lines[0] == "2 results (mode vector, score: cosine_similarity)"
    assert lines[1].split() == ["#", "ID", "SCORE", "TEXT", "METADATA"]
    assert lines[2].split()[:2] == ["1", "cat"] and "the cat sleeps on the warm mat" in lines[2]
    assert '{"animal":"cat","year":2021}' in lines[2] and len(lines) == 4
    # Text and hybrid search with a filter
    text = embedrock("search", "cli-pets", "river", "--mode", "text", *url)
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[0].endswith("(mode text, score: bm25)")
    assert text.stdout.splitlines()[2].split()[:2] == ["1", "fish"]
    hybrid = embedrock(
        "search", "cli-pets", "the ball", "--mode", "hybrid", "--filter", '{"year": {"$lt": 2022}}', *url
    )
    assert hybrid.returncode == 0, hybrid.stderr
    assert hybrid.stdout.splitlines()[0].endswith("(mode hybrid, score: rrf)")
    ids = [line.split()[1] for line in hybrid.stdout.splitlines()[2:]]
    assert ids[0] == "dog" and sorted(ids) == ["cat", "dog"]  # the fish (2023) is filtered out
    # Reranked
    reranked = embedrock(
        "search", "cli-pets", "a pet that swims", "--rerank", "cohere.rerank-v3-5:0", "--json", *url
    )
    assert reranked.returncode == 0, reranked.stderr
    body = json.loads(reranked.stdout)
    assert body["score"] == "relevance_score" and len(body["results"]) == 3
    # Listed, then deleted
    listed = embedrock("collections", "list", *url)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == [
        "NAME",
        "MODEL",
        "DIMENSIONS",
        "METRIC",
        "TEXT",
        "SEARCH",
        "CREATED",
    ]
    (row,) = [line for line in listed.stdout.splitlines() if line.startswith("cli-pets ")]
    assert row.split()[:5] == ["cli-pets", TITAN_V2, "256", "cosine", "en"]
    deleted = embedrock("collections", "delete", "cli-pets", *url)
    assert (
        deleted.returncode == 0 and deleted.stdout.strip() == "Deleted collection cli-pets and its documents."
    )
    # A search of a collection that is gone is one line, the API's message
    gone = one_clear_line(embedrock("search", "cli-pets", "cat", *url), "embedrock search: ")
    assert "cli-pets" in gone


@pytest.mark.parametrize(
    ("arguments", "prefix", "words"),
    [
        (
            ["collections", "create", "Bad_Name", "--model", TITAN_V2],
            "embedrock collections create: ",
            ["name"],
        ),
        (
            ["collections", "create", "cli-x", "--model", TITAN_V2, "--dimensions", "384"],
            "embedrock collections create: ",
            ["256, 512, 1024"],
        ),
        (["collections", "delete", "cli-never-made"], "embedrock collections delete: ", ["cli-never-made"]),
        (["search", "cli-never-made", "q"], "embedrock search: ", ["no collection named cli-never-made"]),
    ],
)
def test_api_errors_are_one_line_with_the_apis_message(
    runtime: LocalRuntime, arguments: list[str], prefix: str, words: list[str]
) -> None:
    line = one_clear_line(embedrock(*arguments, "--url", runtime.url), prefix)
    for word in words:
        assert word in line


def test_a_bad_filter_is_refused_before_any_request(runtime: LocalRuntime) -> None:
    result = embedrock("search", "cli-pets", "q", "--filter", "{year: 2020", "--url", runtime.url)
    assert result.returncode == 2
    assert one_clear_line(result, "embedrock search: --filter is not valid JSON")


def test_an_unreachable_api_says_how_to_start_it() -> None:
    line = one_clear_line(
        embedrock("collections", "list", "--url", "http://127.0.0.1:9"), "embedrock collections list: "
    )
    assert "cannot reach the API at http://127.0.0.1:9" in line and "make run" in line


def test_the_api_key_of_a_deployed_stage_is_sent(faulty_runtime: LocalRuntime) -> None:
    # Without the key the gateway refuses, as API Gateway does; with it (flag or variable) it answers
    refused = one_clear_line(
        embedrock("collections", "list", "--url", faulty_runtime.url), "embedrock collections list: "
    )
    assert "x-api-key" in refused
    listed = embedrock("collections", "list", "--url", faulty_runtime.url, "--api-key", API_KEY)
    assert listed.returncode == 0, listed.stderr
