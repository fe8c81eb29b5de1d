"""In-process mode: boto3-shaped bedrock-runtime and bedrock clients calling the backends directly.

Like moto's `mock_aws` next to `moto_server`: the same backends answer, with no socket, so unit
tests (sockets blocked) and `embedrock perf` get Bedrock's bodies, validation and error codes
without anyone hand-writing them. Inject the clients where a boto3 client is expected.
"""

from __future__ import annotations

import io
import traceback
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError, ConnectionClosedError
from botocore.response import StreamingBody

from .backends import Backends
from .errors import BedrockError
from .state import Dropped

ENDPOINT = "inprocess://embedrock-emulator"
_T = TypeVar("_T")


class InProcessEmulator(Backends):
    """The emulator without a server. Same options, faults and stats as `Emulator`.

    emulator = InProcessEmulator(EmulatorOptions(throttle_every=3))
    dependencies.override(runtime=emulator.runtime_client())
    """

    def runtime_client(self, region: str | None = None) -> RuntimeClient:
        return RuntimeClient(self, region)

    def control_client(self, region: str | None = None) -> ControlClient:
        return ControlClient(self, region)

    def close(self) -> None:
        self.stop()


class RuntimeClient:
    """bedrock-runtime's invoke_model, as boto3 returns it (or raises it)."""

    def __init__(self, backends: Backends, region: str | None = None) -> None:
        self._backends = backends
        self._region = region

    def invoke_model(
        self,
        *,
        modelId: str,  # noqa: N803 - boto3's parameter names
        body: bytes | str,
        contentType: str = "application/json",  # noqa: N803
        accept: str = "application/json",
    ) -> dict[str, Any]:
        raw = body.encode() if isinstance(body, str) else body
        output = _call("InvokeModel", lambda: self._backends.runtime.invoke_model(modelId, raw))
        headers = {name.lower(): value for name, value in output.headers().items()}
        return {
            "ResponseMetadata": _metadata(200, {"content-type": "application/json", **headers}),
            "contentType": "application/json",
            "body": StreamingBody(io.BytesIO(output.body), len(output.body)),
        }


class ControlClient:
    """bedrock's list_foundation_models and get_foundation_model, as boto3 returns them."""

    def __init__(self, backends: Backends, region: str | None = None) -> None:
        self._backends = backends
        self._region = region

    def list_foundation_models(self, **filters: str) -> dict[str, Any]:
        control = self._backends.control
        payload = _call("ListFoundationModels", lambda: control.list_foundation_models(filters, self._region))
        return {"ResponseMetadata": _metadata(200), **payload}

    def get_foundation_model(self, *, modelIdentifier: str) -> dict[str, Any]:  # noqa: N803
        control = self._backends.control
        payload = _call(
            "GetFoundationModel", lambda: control.get_foundation_model(modelIdentifier, self._region)
        )
        return {"ResponseMetadata": _metadata(200), **payload}


def _call(operation: str, answer: Callable[[], _T]) -> _T:
    """The backend's answer, or its error raised as botocore raises what the HTTP server sends."""
    try:
        return answer()
    except BedrockError as error:
        raise client_error(error, operation) from None
    except Dropped:
        raise ConnectionClosedError(endpoint_url=ENDPOINT) from None
    except Exception as failure:  # the HTTP server answers these with a 500 too
        traceback.print_exc()
        internal = BedrockError("InternalServerException", "The embedrock emulator failed; see its log.")
        raise client_error(internal, operation) from failure


def client_error(error: BedrockError, operation: str) -> ClientError:
    headers = {name.lower(): value for name, value in error.headers().items()}
    response: Any = {
        "Error": {"Code": error.code, "Message": error.message},
        "ResponseMetadata": _metadata(error.status, {"content-type": "application/json", **headers}),
        **error.body(),  # botocore puts an error's modeled members next to Error
    }
    return ClientError(response, operation)


def _metadata(status: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    return {
        "RequestId": request_id,
        "HTTPStatusCode": status,
        "HTTPHeaders": {"x-amzn-requestid": request_id, **(headers or {})},
        "RetryAttempts": 0,
    }
