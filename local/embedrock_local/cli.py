"""The `embedrock` command: serve the API locally, run the Bedrock emulator alone, and the
subcommands of the modules in SUBCOMMANDS (each has `add_parser(subparsers)` and `run(args)`).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from importlib import import_module
from types import FrameType
from typing import TYPE_CHECKING

from embedrock_local.commands import add_command
from embedrock_local.runtime.httpio import CLIENT_TIMEOUT_SECONDS, IDLE_TIMEOUT_SECONDS, MAX_CONNECTIONS

if TYPE_CHECKING:
    from embedrock_local.runtime.serve import LocalRuntime

# Modules imported only when their command runs, so `embedrock serve` stays quick to start.
SUBCOMMANDS: dict[str, str] = {
    "bench": "embedrock_local.tools.bench.command",
    "perf": "embedrock_local.tools.perf.command",
    "ingest": "embedrock_local.tools.ingest.command",
    "models": "embedrock_local.tools.models.command",
    "collections": "embedrock_local.tools.collections.command",
    "search": "embedrock_local.tools.collections.search",
    "emulator": "embedrock_local.runtime.emulator.command",
}


SERVE_TEXTS = (
    "serve the HTTP API locally, with the Bedrock emulator (or real Bedrock) behind it",
    (
        "Serve Embedrock's HTTP API on this machine: a local API Gateway calls the same handlers "
        "as the deployed stack, routed by the same route table. By default the handlers talk to "
        "a Bedrock emulator (not Amazon Bedrock); --bedrock aws uses real Bedrock with your AWS "
        "credentials (and costs money)."
    ),
)


def _serve_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(subparsers, "serve", SERVE_TEXTS)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port of the API")
    parser.add_argument(
        "--bedrock", choices=("emulator", "aws"), default="emulator", help="where embeddings come from"
    )
    parser.add_argument("--engine", default="hash", help="the emulator's engine (hash: deterministic, fast)")
    parser.add_argument("--emulator-port", type=int, default=0, help="port of the emulator (0: a free one)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("API_KEY") or None,
        help="require this x-api-key on every route but /health and the docs (default: $API_KEY; none when unset)",
    )
    parser.add_argument(
        "--containers",
        type=int,
        default=2,
        help="worker processes per function (like warm Lambda containers)",
    )
    parser.add_argument(
        "--client-timeout",
        type=float,
        default=CLIENT_TIMEOUT_SECONDS,
        help="seconds a client has to send a request (headers, then the whole body) and to take the "
        "response; a slower one gets a 408 and the connection is closed",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=IDLE_TIMEOUT_SECONDS,
        help="seconds a keep-alive connection may stay idle before the gateway closes it",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=MAX_CONNECTIONS,
        help="connections served at once (one thread each); more wait until one frees up",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="the functions' and the gateway's log level",
    )
    parser.add_argument("--access-log", action="store_true", help="print one line per request")


def serve(args: argparse.Namespace) -> int:

    if args.engine not in _engine_names():
        print(f"unknown engine {args.engine!r}; choose one of {', '.join(_engine_names())}", file=sys.stderr)
        return 2
    print("Starting Embedrock locally (first start imports the handlers in each worker)...", flush=True)
    try:
        runtime = _runtime(args)
    except RuntimeError as error:  # an engine whose packages are missing says how to install them
        print(f"cannot start the emulator: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(
            f"cannot listen on {args.host}:{args.port}: {error.strerror}; choose another port (make run PORT=9000).",
            file=sys.stderr,
        )
        return 1
    # The gateway's own lines (e.g. clients that hung up, at DEBUG) go to stderr at this level.
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("embedrock_local").setLevel(args.log_level)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        runtime.start()
        print(_banner(runtime, args), flush=True)
        stop.wait()
    finally:
        print("Stopping...", flush=True)
        runtime.close()
    return 0


def _runtime(args: argparse.Namespace) -> LocalRuntime:
    from embedrock_local.runtime.gateway import ConnectionLimits
    from embedrock_local.runtime.serve import LocalRuntime

    return LocalRuntime(
        bedrock=args.bedrock,
        engine=args.engine,
        host=args.host,
        port=args.port,
        emulator_port=args.emulator_port,
        api_key=args.api_key,
        containers=args.containers,
        log_level=args.log_level,
        limits=ConnectionLimits(
            client_timeout=args.client_timeout,
            idle_timeout=args.idle_timeout,
            max_connections=args.max_connections,
            access_log=args.access_log,
        ),
    )


def _banner(runtime: LocalRuntime, args: argparse.Namespace) -> str:
    key_header = f" -H 'x-api-key: {args.api_key}'" if args.api_key else ""
    bedrock = (
        f"Bedrock emulator at {runtime.emulator.url} (engine {args.engine}; NOT Amazon Bedrock)"
        if runtime.emulator
        else "real Amazon Bedrock with your AWS credentials (calls are billed)"
    )
    vector_bucket = runtime.environment.get("EMBEDROCK_VECTOR_BUCKET")
    collections = (
        f"S3 Vectors emulator, vector bucket {vector_bucket} (kept across restarts; NOT Amazon S3 Vectors)"
        if runtime.emulator
        else f"Amazon S3 Vectors bucket {vector_bucket}"
        if vector_bucket
        else "off (set EMBEDROCK_VECTOR_BUCKET to a vector bucket of yours)"
    )
    return "\n".join(
        [
            f"Embedrock API: {runtime.url}",
            f"Swagger UI:    {runtime.url}/docs",
            f"OpenAPI:       {runtime.url}/openapi.json",
            f"Embeddings:    {bedrock}",
            f"Collections:   {collections}",
            f"API key:       {'required (x-api-key)' if args.api_key else 'not required'}",
            "",
            "Try:",
            f"  curl -s {runtime.url}/embeddings -H 'content-type: application/json'{key_header} \\",
            '    -d \'{"texts": ["Python is a programming language"], "dimensions": 256}\'',
            "",
            "Ctrl-C stops everything.",
        ]
    )


def _engine_names() -> list[str]:
    from embedrock_local.runtime.emulator import engines

    return sorted(engines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="embedrock", description="Embedrock: embeddings on Amazon Bedrock, served locally or on AWS."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    _serve_parser(subparsers)
    for module in SUBCOMMANDS.values():
        import_module(module).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(arguments)
    if args.command == "serve":
        return serve(args)
    result: int = import_module(SUBCOMMANDS[args.command]).run(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
