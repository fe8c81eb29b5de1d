"""`embedrock collections create|list|delete`: the collections' HTTP API from a terminal."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from embedrock_local.commands import add_command
from embedrock_local.tools.collections.client import ApiClient, ApiFailure, add_connection_arguments, segment
from embedrock_local.tools.collections.table import table

FAILED = 1

COLLECTIONS_TEXTS = (
    "create, list and delete collections (vectors kept in Amazon S3 Vectors) through the HTTP API",
    (
        "Manage collections through the HTTP API: locally the one `make run` serves (its emulator keeps "
        "them), deployed the stage --url names with its --api-key. Fill one with `embedrock ingest FILE "
        "--collection NAME` or POST /collections/NAME/documents; search it with `embedrock search`."
    ),
)
CREATE_TEXTS = (
    "create a collection: its model and dimensions are fixed for its documents",
    (
        "Create collection NAME (3 to 63 lowercase letters, digits, '-' and '.'). Its documents are "
        "embedded with --model at --dimensions (default: the model's default); --metric is how "
        "vectors are compared; --text-search LANGUAGE also indexes the documents' text for text and "
        "hybrid search."
    ),
)
LIST_TEXTS = (
    "list the collections",
    "List the collections with their model, dimensions, metric and text search.",
)
DELETE_TEXTS = ("delete a collection and its documents", "Delete collection NAME and every document in it.")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(subparsers, "collections", COLLECTIONS_TEXTS)
    actions = parser.add_subparsers(dest="collections_action", metavar="{create,list,delete}", required=True)
    create = add_command(actions, "create", CREATE_TEXTS)
    create.add_argument("name", help="the collection's name")
    create.add_argument("--model", required=True, help="embedding model id (or inference profile id)")
    create.add_argument(
        "--dimensions", type=int, help="vector size, as the model allows (default: its default)"
    )
    create.add_argument("--metric", choices=("cosine", "euclidean"), default="cosine", help="distance metric")
    create.add_argument(
        "--text-search",
        metavar="LANGUAGE",
        help="index the documents' text for text and hybrid search (e.g. en)",
    )
    add_connection_arguments(create)
    listing = add_command(actions, "list", LIST_TEXTS)
    listing.add_argument("--json", action="store_true", help="print the GET /collections body")
    add_connection_arguments(listing)
    delete = add_command(actions, "delete", DELETE_TEXTS)
    delete.add_argument("name", help="the collection to delete")
    add_connection_arguments(delete)


def run(args: argparse.Namespace) -> int:
    try:
        with ApiClient(args.url, args.api_key) as api:
            print(_ACTIONS[args.collections_action](api, args))
    except ApiFailure as failure:
        print(f"embedrock collections {args.collections_action}: {failure.message}", file=sys.stderr)
        return FAILED
    return 0


def create(api: ApiClient, args: argparse.Namespace) -> str:
    body: dict[str, Any] = {"name": args.name, "model": args.model, "metric": args.metric}
    if args.dimensions is not None:
        body["dimensions"] = args.dimensions
    if args.text_search is not None:
        body["text_search"] = {"language": args.text_search}
    created = api.call("POST", "/collections", body)
    return f"Created collection {created['name']}: {describe(created)}."


def list_collections(api: ApiClient, args: argparse.Namespace) -> str:
    answer = api.call("GET", "/collections")
    if args.json:
        import json

        return json.dumps(answer, indent=2)
    collections = answer.get("collections", [])
    if not collections:
        return "No collections yet: create one with `embedrock collections create NAME --model MODEL`."
    rows = [
        [
            c["name"],
            c["model"],
            str(c["dimensions"]),
            c["metric"],
            (c.get("text_search") or {}).get("language") or "-",
            str(c.get("created_at") or "-"),
        ]
        for c in collections
    ]
    return table(("NAME", "MODEL", "DIMENSIONS", "METRIC", "TEXT SEARCH", "CREATED"), rows)


def delete(api: ApiClient, args: argparse.Namespace) -> str:
    api.call("DELETE", f"/collections/{segment(args.name)}")
    return f"Deleted collection {args.name} and its documents."


def describe(collection: dict[str, Any]) -> str:
    language = (collection.get("text_search") or {}).get("language")
    searched = f", text search in {language}" if language else ", no text search"
    return f"{collection['model']} at {collection['dimensions']} dimensions, {collection['metric']}{searched}"


_ACTIONS = {"create": create, "list": list_collections, "delete": delete}
