"""API Gateway REST proxy events and a Lambda context for tests, built from the JSON here.

`api_event("POST", "/embeddings", body={...})` starts from the recorded event in
api_gateway_rest.json and replaces what a request changes: method, path, resource, body,
query string, path parameters and headers (single- and multi-value kept in step).
"""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from embedrock import routes

HERE = Path(__file__).resolve().parent


@cache
def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HERE / name).read_text())
    return loaded


def load(name: str) -> dict[str, Any]:
    """A fresh copy of a fixture, safe to modify, received by API Gateway just now.

    The recorded requestTimeEpoch would make every request long past its deadline (deadline.py).
    """
    event = copy.deepcopy(_load(name))
    request_context = event.get("requestContext")
    if isinstance(request_context, dict) and "requestTimeEpoch" in request_context:
        request_context["requestTimeEpoch"] = int(time.time() * 1000)
    return event


def _resource(method: str, path: str) -> str:
    """The route template API Gateway would match, e.g. /models/{model_id}."""
    for route in routes.ROUTES:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", route.path) + "$"
        if route.method == method and re.match(pattern, path):
            return route.path
    return path


def api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    stage: str = "prod",
) -> dict[str, Any]:
    event = load("api_gateway_rest.json")
    resource = _resource(method, path)
    event.update(
        resource=resource,
        path=path,
        httpMethod=method,
        body=raw_body if raw_body is not None else (None if body is None else json.dumps(body)),
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        pathParameters=_path_parameters(resource, path),
    )
    if body is None and raw_body is None:
        for name in ("headers", "multiValueHeaders"):
            event[name].pop("Content-Type", None)
    for name, value in (headers or {}).items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    context = event["requestContext"]
    context.update(
        httpMethod=method,
        path=f"/{stage}{path}",
        resourcePath=resource,
        stage=stage,
        requestId=str(uuid.uuid4()),
    )
    return event


def _path_parameters(resource: str, path: str) -> dict[str, str] | None:
    names = re.findall(r"\{([^}]+)\}", resource)
    if not names:
        return None
    pattern = "^" + re.sub(r"\{[^}]+\}", "([^/]+)", resource) + "$"
    match = re.match(pattern, path)
    return dict(zip(names, match.groups(), strict=True)) if match else None


@dataclass
class LambdaContext:
    """The attributes Powertools reads from the real context object."""

    function_name: str = "embedrock-embeddings"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:embedrock-embeddings"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/embedrock-embeddings"
    log_stream_name: str = "2025/11/25/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def response_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
