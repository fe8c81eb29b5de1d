"""`embedrock emulator` (also `python -m embedrock_local.runtime.emulator`): run the emulator alone."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .options import EmulatorOptions

DESCRIPTION = (
    "Run a Bedrock-compatible emulator (NOT Amazon Bedrock): InvokeModel (model or inference profile "
    "ids), ListFoundationModels, GetFoundationModel, ListInferenceProfiles, GetFoundationModelAvailability, "
    "ListFoundationModelAgreementOffers and CreateFoundationModelAgreement for the catalog's embedding "
    "models, with Bedrock's validation and errors. "
    "Point boto3 at it with AWS_ENDPOINT_URL_BEDROCK_RUNTIME and AWS_ENDPOINT_URL_BEDROCK (any "
    "credentials work). Faults can also be changed while it runs: POST/PUT/DELETE /_emulator/faults; "
    "call counts: GET /_emulator/stats."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 exposes it)")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on (0 picks a free one)")
    EmulatorOptions.add_arguments(parser)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help="run the Bedrock-compatible emulator alone (see `embedrock emulator --help`)",
        description=DESCRIPTION,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="embedrock emulator",
        description=DESCRIPTION,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from .runner import serve  # the server's imports wait until it runs: `embedrock --help` stays quick

    try:
        serve(EmulatorOptions.from_args(args), host=args.host, port=args.port)
    except OSError as error:  # e.g. the port is taken
        print(f"embedrock emulator: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))
