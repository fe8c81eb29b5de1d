"""`embedrock ingest FILE --out DIR`: embed a whole file with the pipeline the stack deploys.

The same pipeline code as the ingest Lambda (parsing, configuration, chunks, manifest,
idempotency), with the file system instead of S3 and the chunks run here instead of queued.
Embeddings come from an in-process Bedrock emulator unless --bedrock aws is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from embedrock_local.commands import add_command

if TYPE_CHECKING:
    from embedrock.ingest.documents import Manifest
    from embedrock.ingest.pipeline import Outcome
    from embedrock_local.tools.ingest.local import Usage

# Flags that act as the object metadata of an upload (the sidecar FILE's-stem.config.json is read too).
CONFIG_FLAGS = ("model", "dimensions", "normalize", "input_type", "embedding_type", "truncate", "collection")
SHOWN_REJECTIONS = 10
INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


INGEST_TEXTS = (
    "embed a whole .jsonl, .csv or .txt file locally, as the S3 pipeline does",
    (
        "Embed every line of FILE with the ingestion pipeline the stack deploys, writing "
        "DIR/<FILE's name>.jsonl, e.g. DIR/docs.csv.jsonl (id, embedding, model, dimensions and the "
        "line's other fields) and DIR/<FILE's name>.manifest.json (counts, tokens, cost, rejected "
        "lines with their reasons). A sidecar <name without extension>.config.json next to FILE is "
        "read as in S3; the options below win over it. "
        "Running it again on the same file and configuration reuses the result once the output "
        "matches its manifest (a damaged output is rebuilt). Ctrl-C keeps what was embedded (exit "
        "130): running it again embeds only the rest. By default the "
        'vectors come from a Bedrock emulator (not Amazon Bedrock). A JSONL line may hold an "image": '
        "a data URI, or s3://BUCKET/input/PATH for the file PATH next to FILE (BUCKET is --bucket)."
    ),
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(subparsers, "ingest", INGEST_TEXTS)
    parser.add_argument(
        "file",
        type=Path,
        help="the input: .jsonl ({id, text, image, ...} per line), .csv (id,text) or .txt",
    )
    parser.add_argument("--out", type=Path, required=True, help="directory for the output and the manifest")
    parser.add_argument(
        "--model",
        help="model id, or an inference profile id such as us.cohere.embed-v4:0 "
        "(default: the stack default, Titan Text V2)",
    )
    parser.add_argument("--dimensions", help="vector size, as the model allows")
    parser.add_argument("--normalize", choices=("true", "false"), help="unit-length vectors (default true)")
    parser.add_argument("--input-type", dest="input_type", help="Cohere input type, e.g. search_document")
    parser.add_argument(
        "--embedding-type", dest="embedding_type", help="float (default) or a type the model allows"
    )
    parser.add_argument(
        "--truncate",
        help="Cohere and Nova: NONE (default: an over-long text is reported, never cut), "
        "LEFT (drop its start) or RIGHT (drop its end)",
    )
    parser.add_argument(
        "--collection",
        metavar="NAME",
        help="also upsert every embedded line into this collection (it must exist: embedrock collections "
        "create); its model and dimensions are the file's. Locally the emulator's collections, those "
        "make run serves; with --bedrock aws, those of the bucket EMBEDROCK_VECTOR_BUCKET names",
    )
    parser.add_argument(
        "--bedrock", choices=("emulator", "aws"), default="emulator", help="where embeddings come from"
    )
    parser.add_argument("--engine", default="hash", help="the emulator's engine")
    parser.add_argument("--concurrency", type=int, default=8, help="Bedrock calls in flight")
    parser.add_argument("--chunk-lines", type=int, default=1000, help="lines per chunk (the unit of retry)")
    parser.add_argument(
        "--bucket",
        help="the bucket name of s3:// images (default local): s3://local/input/a.png is a.png next to FILE",
    )
    parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")


def run(args: argparse.Namespace) -> int:
    file: Path = args.file
    if not file.is_file():
        print(f"embedrock ingest: {file} is not a file", file=sys.stderr)
        return 2
    from embedrock.ingest.chunk import ChunkFailed
    from embedrock_local.environment import environment_set
    from embedrock_local.tools.ingest.local import LocalIngest, Usage
    from embedrock_local.tools.ingest.progress import make_bar

    metadata = {flag: str(getattr(args, flag)) for flag in CONFIG_FLAGS if getattr(args, flag) is not None}
    bar = make_bar(file.name, enabled=not args.no_progress)
    usage = Usage()
    # No CloudWatch agent reads this terminal: metrics (EMF JSON on stdout) are off, as in serve.
    try:
        with (
            environment_set({"POWERTOOLS_METRICS_DISABLED": "1"}),
            LocalIngest(
                out=args.out,
                bedrock=args.bedrock,
                engine=args.engine,
                concurrency=args.concurrency,
                usage=usage,
                **({"bucket": args.bucket} if args.bucket else {}),
            ) as local,
        ):
            outcome = local.ingest(file, metadata=metadata, chunk_lines=args.chunk_lines, progress=bar)
    except ChunkFailed as failure:
        bar.close()
        print(
            f"\nembedrock ingest: {failure}\nRun the same command again: what is embedded is kept.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        bar.close()
        print(_interrupted(usage), file=sys.stderr)
        return INTERRUPTED
    finally:
        bar.close()
    return _report(outcome, args.out)


def _interrupted(usage: Usage) -> str:
    """One line: what this run paid for, and that it is kept (the chunks save it before stopping)."""
    return (
        f"embedrock ingest: interrupted after {usage.calls} Bedrock calls in this run "
        f"({usage.tokens} tokens, estimated {usd(usage.cost_usd)}); what they embedded is kept: "
        "run the same command again to embed only the rest."
    )


def usd(amount: float) -> str:
    """A cost as a person reads it, never $0 for a cost that is not zero: costs are rounded to
    1e-9 USD (embedrock.pricing), so nine decimals show every digit (4.8e-07 -> $0.00000048)."""
    shown = f"{amount:.9f}".rstrip("0").rstrip(".")
    if amount and not float(shown):  # below the rounding step: keep its magnitude
        return f"${amount:.2g}"
    return f"${shown}"


def _report(outcome: Outcome, out: Path) -> int:
    manifest = outcome.manifest
    if outcome.status == "unchanged":
        print(
            f"Already embedded with this configuration: {out} (the output matches its manifest; "
            "nothing to do, no Bedrock call)."
        )
        return 0
    if manifest is None:
        print(f"embedrock ingest: {outcome.status}: {outcome.detail}", file=sys.stderr)
        return 1
    print(_summary(manifest, out))
    if outcome.status == "complete" and outcome.detail:  # e.g. a damaged output rebuilt
        print(f"  note: {outcome.detail}")
    return 0 if manifest.status == "complete" else 1


def _summary(manifest: Manifest, out: Path) -> str:
    name = Path(manifest.output).name
    counts = manifest.counts
    lines = [
        f"{manifest.status}: {counts.embedded} of {counts.lines} lines embedded, {counts.rejected} reported"
        + (f", {counts.cache_hits} from the cache" if counts.cache_hits else "")
    ]
    if manifest.model is not None:
        route = manifest.invoke_model
        through = f" through {route}" if route is not None and route != manifest.model else ""
        lines.append(
            f"  model {manifest.model}{through} at {manifest.dimensions} dimensions, "
            f"{manifest.input_tokens} tokens, {usd(manifest.cost_usd)} on Bedrock"
        )
    if manifest.collection is not None:
        calls = manifest.vector_write_calls
        lines.append(
            f"  collection {manifest.collection}: {manifest.upserted} documents upserted "
            f"({calls} PutVectors call{'s' if calls != 1 else ''})"
        )
    lines += [
        f"  output:   {out / name}",
        f"  manifest: {out / name.removesuffix('.jsonl')}.manifest.json",
    ]
    if manifest.error is not None:
        lines.append(f"  error: {manifest.error.message}")
    for rejection in manifest.rejected[:SHOWN_REJECTIONS]:
        lines.append(f"  line {rejection.line}: {rejection.reason}")
    if len(manifest.rejected) > SHOWN_REJECTIONS:
        lines.append(f"  ... {len(manifest.rejected) - SHOWN_REJECTIONS} more in the manifest")
    return "\n".join(lines)
