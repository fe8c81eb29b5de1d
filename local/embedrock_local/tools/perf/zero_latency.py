"""A real boto3 bedrock-runtime client answered by the emulator's backend in this process.

Everything boto3 does for an InvokeModel (parameter validation, serialization, signing, response
parsing) runs; only the socket is replaced, by a `before-send` handler, so Bedrock answers at once
and with no network noise. The measures of added latency (`rerank`, `image`) time a request through
the handler and a bare `invoke_model` of the same body on this same client, side by side.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.config import Config

from embedrock_local.runtime.emulator import InProcessEmulator

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

_ENDPOINT = "https://bedrock-runtime.us-east-1.amazonaws.com"


class _RawBody(io.BytesIO):
    """What botocore reads a response body from (urllib3's response, in a real call)."""

    def stream(self, amt: int = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        while chunk := self.read(amt):
            yield chunk


def boto3_runtime(emulator: InProcessEmulator) -> BedrockRuntimeClient:
    """A bedrock-runtime client (dummy credentials, never sent anywhere) whose calls the backend answers."""
    client = boto3.session.Session().client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=_ENDPOINT,
        aws_access_key_id="perf",
        aws_secret_access_key="perf",  # signs requests that never leave the process
        config=Config(retries={"mode": "standard"}),
    )

    def answer(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        # botocore's path is /model/{modelId}/invoke, the id URL-quoted.
        model_id = unquote(urlsplit(request.url).path.split("/")[2])
        body = request.body
        assert isinstance(body, bytes), "botocore sends InvokeModel's blob body as bytes"
        output = emulator.runtime.invoke_model(model_id, body)
        headers = HTTPHeaders()
        for name, value in {"content-type": "application/json", **output.headers()}.items():
            headers[name] = value
        return AWSResponse(request.url, 200, headers, _RawBody(output.body))

    # A before-send handler that returns a response is the one botocore uses instead of sending.
    client.meta.events.register("before-send.bedrock-runtime.InvokeModel", answer)  # type: ignore[arg-type]
    return client
