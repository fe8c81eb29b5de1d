"""What a route's handler adds over its one Bedrock call: a warm request through the real Lambda
handler against a bare boto3 `invoke_model` of the body the handler sends, both on the same
boto3 client answered at once in this process (zero_latency.py), timed in alternation.

Runs in a fresh interpreter (run_isolated) with the deployed log level and metrics on, output
discarded; tracing is off (no X-Ray daemon here).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from embedrock_local.tools.perf.common import Result, Sizes, Timing, median_pair

BUDGET_MS = 2.0


@dataclass(frozen=True)
class HandlerCase:
    name: str  # the measure's key
    handler: str  # module of the Lambda entry point
    function: str  # routes.Function name, for the Lambda context
    path: str  # POST route
    request: dict[str, Any]  # the API request body
    model_id: str
    bedrock_body: bytes  # what the handler sends Bedrock for that request
    details: dict[str, Any]
    # What the baseline calls: a boto3 client answered in process (the default, botocore's own
    # cost on both sides), or the emulator's in-process client, the backend alone.
    through_boto3: bool = True
    baseline_label: str = "bare boto3 invoke_model"
    product_label: str | None = None  # default: "POST <path> handler"
    ratio_means: str = "handler time / the bare invoke_model"


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


def measure_case(case: HandlerCase, sizes: Sizes) -> Result:
    from embedrock_local.environment import environment_set, function_environment

    with environment_set(
        function_environment(None, log_level="INFO", extra={"POWERTOOLS_METRICS_DISABLED": "0"})
    ):
        return _measure_with_environment(case, sizes)


def _measure_with_environment(case: HandlerCase, sizes: Sizes) -> Result:
    with contextlib.redirect_stdout(_Discard()):  # before the import: the logger keeps its stream
        from embedrock import routes, wiring
        from embedrock_local.runtime import gateway
        from embedrock_local.runtime.emulator import InProcessEmulator
        from embedrock_local.tools.perf.zero_latency import boto3_runtime

        handler = import_module(case.handler).handler
        emulator = InProcessEmulator()
        client = boto3_runtime(emulator) if case.through_boto3 else emulator.runtime_client()
        wiring.override(runtime=client)
        found = gateway.match("POST", case.path)
        assert found is not None
        route, parameters = found
        event = gateway.proxy_event(
            route=route,
            method="POST",
            raw_path=case.path,
            path_parameters=parameters,
            query="",
            headers=[("Content-Type", "application/json"), ("x-api-key", "perf")],
            body=json.dumps(case.request).encode(),
            source_ip="127.0.0.1",
        )
        function = next(f for f in routes.FUNCTIONS if f.name == case.function)
        request_id = event["requestContext"]["requestId"]

        def request() -> None:
            # Each invocation is a new request: API Gateway's 29 s (the handler's deadline) count
            # from its requestTimeEpoch and the Lambda context's remaining time from its start.
            event["requestContext"]["requestTimeEpoch"] = int(time.time() * 1000)
            response = handler(event, gateway.LambdaContext(function, request_id))
            assert response["statusCode"] == 200, response["body"]

        def bare() -> None:
            client.invoke_model(
                modelId=case.model_id,
                body=case.bedrock_body,
                contentType="application/json",
                accept="application/json",
            )["body"].read()

        for _ in range(20):  # warm: the first requests build the resolver's caches
            request()
            bare()
        load_before = os.getloadavg()[0]
        through_handler, bare_call = median_pair(request, bare, sizes.handler_requests)
        load_after = os.getloadavg()[0]
    added_ms = (through_handler - bare_call) * 1000
    return Result(
        name=case.name,
        baseline=Timing(case.baseline_label, bare_call),
        product=Timing(case.product_label or f"POST {case.path} handler", through_handler),
        ratio=through_handler / bare_call,
        ratio_means=case.ratio_means,
        goal=f"< {BUDGET_MS:g} ms added per request",
        met=added_ms < BUDGET_MS,
        verdict=f"{added_ms:.2f} ms added per request (median)",
        details={
            "requests": sizes.handler_requests,
            "added_ms": added_ms,
            "load_average_1min": [round(load_before, 2), round(load_after, 2)],
            **case.details,
        },
    )
