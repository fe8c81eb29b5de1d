"""`embedrock search NAME "query"`: a collection searched through the HTTP API, as a table."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from embedrock_local.commands import add_command
from embedrock_local.tools.collections.client import ApiClient, ApiFailure, add_connection_arguments, segment
from embedrock_local.tools.collections.table import table

FAILED, USAGE = 1, 2

SEARCH_TEXTS = (
    "search a collection by text: vector, full-text or hybrid, with a filter and rerank",
    (
        "Search collection NAME for QUERY through the HTTP API (POST /collections/NAME/search) and "
        "print the results best first: id, score, text and metadata. --mode vector embeds the query "
        "with the collection's model; text ranks by BM25 and hybrid fuses both (the collection needs "
        "text search). --filter takes S3 Vectors' filter language as JSON, e.g. "
        '\'{"year": {"$gte": 2020}}\'; --rerank re-scores the results with a rerank model.'
    ),
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(subparsers, "search", SEARCH_TEXTS)
    parser.add_argument("name", help="the collection")
    parser.add_argument("query", help="what to look for")
    parser.add_argument("--top-k", type=int, default=10, help="how many results")
    parser.add_argument("--filter", metavar="JSON", help='a metadata filter, e.g. \'{"lang": "en"}\'')
    parser.add_argument("--mode", choices=("vector", "text", "hybrid"), default="vector", help="how to rank")
    parser.add_argument("--rerank", metavar="MODEL", help="re-score the results with this rerank model")
    parser.add_argument("--json", action="store_true", help="print the response body instead of a table")
    add_connection_arguments(parser)


def run(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"query": args.query, "top_k": args.top_k, "mode": args.mode}
    if args.filter is not None:
        try:
            body["filter"] = json.loads(args.filter)
        except ValueError as error:
            print(f"embedrock search: --filter is not valid JSON ({error}).", file=sys.stderr)
            return USAGE
    if args.rerank is not None:
        body["rerank"] = {"model": args.rerank}
    try:
        with ApiClient(args.url, args.api_key) as api:
            answer = api.call("POST", f"/collections/{segment(args.name)}/search", body)
    except ApiFailure as failure:
        print(f"embedrock search: {failure.message}", file=sys.stderr)
        return FAILED
    print(json.dumps(answer, indent=2, ensure_ascii=False) if args.json else results(answer))
    return 0


def results(answer: dict[str, Any]) -> str:
    found = answer.get("results", [])
    heading = f"{len(found)} result{'s' if len(found) != 1 else ''} (mode {answer.get('mode')}, score: {answer.get('score')})"
    if not found:
        return heading
    rows = [
        [
            str(rank),
            str(result.get("id")),
            _number(result.get("score")),
            result.get("text") or "",
            json.dumps(result.get("metadata") or {}, ensure_ascii=False, separators=(",", ":")),
        ]
        for rank, result in enumerate(found, start=1)
    ]
    return heading + "\n" + table(("#", "ID", "SCORE", "TEXT", "METADATA"), rows)


def _number(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "-"
