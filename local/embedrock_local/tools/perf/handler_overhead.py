"""handler_overhead: a warm POST /embeddings through the real Lambda handler, with the
emulator's in-process Bedrock (no socket, no latency), against calling that client directly.

The difference is what the handler adds to every request: event parsing, validation,
the embedder, encoding, logging and metrics. Runs in a fresh interpreter with the deployed
log level and metrics on, output discarded; tracing is off (no X-Ray daemon here).
"""

from __future__ import annotations

import contextlib
import io
import json
from importlib import import_module

from embedrock_local.tools.perf.common import DIMENSIONS, TITAN_V2, Result, Sizes, Timing, median_pair
from embedrock_local.tools.perf.isolated import run_isolated

BUDGET_MS = 2.0
SEED_TEXT = "Python is a programming language"


def describe(sizes: Sizes) -> str:
    return (
        f"{sizes.handler_requests:,} warm POST /embeddings (1 text, {DIMENSIONS} dims), "
        "in-process emulated Bedrock answering at once"
    )


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


def _measure_here(sizes: Sizes) -> Result:
    from embedrock_local.environment import environment_set, function_environment

    # The deployed function's log level, metrics on: what the handler pays in Lambda.
    with environment_set(
        function_environment(None, log_level="INFO", extra={"POWERTOOLS_METRICS_DISABLED": "0"})
    ):
        return _measure_with_environment(sizes)


def _measure_with_environment(sizes: Sizes) -> Result:
    with contextlib.redirect_stdout(_Discard()):  # before the import: the logger keeps its stream
        from embedrock import routes, wiring
        from embedrock_local.runtime import gateway
        from embedrock_local.runtime.emulator import InProcessEmulator

        handler = import_module("embedrock.handlers.embeddings").handler
        emulated = InProcessEmulator().runtime_client()
        # The composition root's hook: the point of the measure is a Bedrock that answers at once.
        wiring.override(runtime=emulated)
        found = gateway.match("POST", "/embeddings")
        assert found is not None
        route, parameters = found
        event = gateway.proxy_event(
            route=route,
            method="POST",
            raw_path="/embeddings",
            path_parameters=parameters,
            query="",
            headers=[("Content-Type", "application/json"), ("x-api-key", "perf")],
            body=json.dumps({"texts": [SEED_TEXT], "model": TITAN_V2, "dimensions": DIMENSIONS}).encode(),
            source_ip="127.0.0.1",
        )
        # What the handler sends for that request, so both sides pay the same backend work.
        bedrock_body = json.dumps({"inputText": SEED_TEXT, "dimensions": DIMENSIONS, "normalize": True})
        context = gateway.LambdaContext(routes.EMBEDDINGS, event["requestContext"]["requestId"])

        def request() -> None:
            response = handler(event, context)
            assert response["statusCode"] == 200, response["body"]

        def direct() -> None:
            emulated.invoke_model(modelId=TITAN_V2, body=bedrock_body)["body"].read()

        for _ in range(20):  # warm: the first requests build the resolver's caches
            request()
        through_handler, emulator_alone = median_pair(request, direct, sizes.handler_requests)
    added_ms = (through_handler - emulator_alone) * 1000
    return Result(
        name="handler_overhead",
        baseline=Timing("in-process emulator alone", emulator_alone),
        product=Timing("handler + the emulator", through_handler),
        ratio=through_handler / emulator_alone,
        ratio_means="handler time / the emulator alone",
        goal=f"< {BUDGET_MS:g} ms added per request",
        met=added_ms < BUDGET_MS,
        verdict=f"{added_ms:.2f} ms added per request (median)",
        details={
            "requests": sizes.handler_requests,
            "added_ms": added_ms,
            "texts": 1,
            "dimensions": DIMENSIONS,
        },
    )


def measure(sizes: Sizes) -> Result:
    return run_isolated(_measure_here, sizes)
