"""Command line: python -m embedrock_local.emulator --port 8081 --latency-ms 50 --throttle-every 5."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .engines import engines
from .faults import Fault, FaultKind
from .runner import serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m embedrock_local.emulator",
        description=(
            "Run a Bedrock-compatible emulator (NOT Amazon Bedrock): InvokeModel, ListFoundationModels and "
            "GetFoundationModel for the catalog's embedding models, with Bedrock's validation and errors. "
            "Point boto3 at it with AWS_ENDPOINT_URL_BEDROCK_RUNTIME and AWS_ENDPOINT_URL_BEDROCK (any "
            "credentials work). Faults can also be changed while it runs: POST/PUT/DELETE /_emulator/faults; "
            "call counts: GET /_emulator/stats."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 exposes it)")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on (0 picks a free one)")
    parser.add_argument(
        "--engine",
        default="hash",
        choices=sorted(engines),
        help="what computes the vectors (hash: deterministic)",
    )
    parser.add_argument(
        "--region", default="us-east-1", help="region in model ARNs when the caller's is unknown"
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every InvokeModel call")
    parser.add_argument(
        "--throttle-every",
        type=int,
        default=0,
        metavar="N",
        help="answer every Nth InvokeModel call with 429 ThrottlingException",
    )
    parser.add_argument(
        "--max-rps",
        type=float,
        default=0.0,
        metavar="R",
        help="throttle InvokeModel calls above R per second (429)",
    )
    parser.add_argument(
        "--deny-model",
        action="append",
        default=[],
        metavar="MODEL_ID",
        help="answer calls to this model (glob, e.g. 'cohere.*') with 403 AccessDeniedException; repeatable",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND[:key=value,...]",
        type=_fault,
        help=(
            f"any fault; repeatable. KIND: {', '.join(k.value for k in FaultKind)}. keys: model (glob), operation "
            "(glob, default InvokeModel), every (Nth call), times (max), latency_ms, seconds (timeout hold), rps, "
            "message. Example: timeout:seconds=5,every=3"
        ),
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def _fault(spec: str) -> Fault:
    try:
        return Fault.parse(spec)
    except (TypeError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        serve(
            args.host,
            args.port,
            args.engine,
            faults=args.fault,
            latency_ms=args.latency_ms,
            throttle_every=args.throttle_every,
            max_rps=args.max_rps,
            deny_models=args.deny_model,
            region=args.region,
            verbose=args.verbose,
        )
    except OSError as error:  # e.g. the port is taken
        print(f"embedrock emulator: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
