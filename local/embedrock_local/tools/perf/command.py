"""`embedrock perf`: the hot paths measured side by side, with a table of the results.

Module-level imports stay light: `embedrock --help` imports this module to build its parser.
"""

from __future__ import annotations

import argparse
import time
from importlib import import_module
from pathlib import Path

from embedrock_local.commands import add_command

MEASURES = (
    "fanout",
    "cohere_batching",
    "handler_overhead",
    "cold_import",
    "encoding",
    "gateway_load",
    "collection_query",
    "collection_upsert",
    "dedup",
    "tail",
    "caller_cpu",
    "rerank",
    "image",
)


PERF_TEXTS = (
    "measure the hot paths side by side against what they replace, and print a table",
    (
        "Measure each hot path against what it replaces, side by side on this machine, with "
        "the Bedrock emulator (injected latency) where Bedrock would be: fanout (Titan texts, "
        "concurrent vs one by one, at caps 16 and 64), cohere_batching (96 texts per call vs one), "
        "handler_overhead (the Lambda handler vs Bedrock alone), cold_import (the shipped bundle's "
        "handlers vs a minimal boto3 caller), encoding (base64 vs JSON floats), gateway_load (the "
        "local runtime under concurrent load), collection_query (a query through the emulated S3 "
        "Vectors vs bare numpy), collection_upsert (vectors upserted through the S3 Vectors adapter "
        "vs the emulator's bare put), dedup (Bedrock calls and cost of repeated inputs embedded once "
        "vs each as sent), tail (fan-out under a heavy latency tail, with and without hedged "
        "attempts), caller_cpu (CPU per InvokeModel in the fan-out vs a bare boto3 loop), rerank and "
        "image (what POST /rerank and an image on POST /embeddings add over a bare boto3 "
        "invoke_model). "
        "Prints a Markdown table with each goal and whether it was met. Timings are medians "
        "where repeated; on a shared machine they are noisy, ratios less so."
    ),
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(subparsers, "perf", PERF_TEXTS, argparse.HelpFormatter)
    parser.add_argument(
        "--json",
        metavar="FILE",
        type=Path,
        help="also write the results to FILE: one key per measure, each with the baseline and "
        "product timings in seconds, their ratio, the goal, whether it was met and the details",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes (32 texts, 5 ms latency, 100 handler requests, 200 requests, a 2,000-vector "
        "index, 1,000 vectors upserted): "
        "checks that every "
        "measure runs in seconds; the goals only mean something at full size",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=MEASURES,
        metavar="MEASURE",
        help=f"run only this measure; repeatable. One of: {', '.join(MEASURES)} (default: all)",
    )


def run(args: argparse.Namespace) -> int:
    from embedrock_local.tools.perf import common, report

    sizes = common.QUICK if args.quick else common.FULL
    names = [name for name in MEASURES if name in (args.only or MEASURES)]
    print(f"embedrock perf, {'quick' if args.quick else 'full'} sizes, on {report.machine()}", flush=True)
    results = []
    for position, name in enumerate(names, start=1):
        module = import_module(f"embedrock_local.tools.perf.{name}")
        print(f"[{position}/{len(names)}] {name}: {module.describe(sizes)}...", flush=True)
        started = time.perf_counter()
        result: common.Result = module.measure(sizes)
        print(f"      {result.verdict} ({time.perf_counter() - started:.0f} s)", flush=True)
        results.append(result)
    print(f"\nDone on {report.machine()}; command: embedrock perf{' --quick' if args.quick else ''}\n")
    print(report.table(results))
    if args.json is not None:
        report.write_json(results, args.json)
        print(f"\nJSON: {args.json}")
    met = sum(result.met for result in results)
    print(f"\nGoals met: {met} of {len(results)}.")
    return 0
