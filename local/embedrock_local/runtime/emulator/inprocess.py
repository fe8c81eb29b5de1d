"""In-process mode: boto3-shaped bedrock-runtime and bedrock clients calling the backends directly.

Like moto's `mock_aws` next to `moto_server`: the same backends answer, with no socket, so unit
tests (sockets blocked) and `embedrock perf` get Bedrock's bodies, validation and error codes
without anyone hand-writing them. Inject the clients where a boto3 client is expected.
"""

from __future__ import annotations

import functools
import io
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import botocore.session
from botocore.client import ClientMeta
from botocore.config import Config
from botocore.errorfactory import ClientExceptionsFactory
from botocore.exceptions import ClientError, ConnectionClosedError
from botocore.hooks import HierarchicalEmitter
from botocore.model import ServiceModel
from botocore.response import StreamingBody

from .backends import Backends
from .errors import BedrockError
from .state import Dropped

ENDPOINT = "inprocess://embedrock-emulator"


class InProcessEmulator(Backends):
    """The emulator without a server. Same options, faults and stats as `Emulator`.

    emulator = InProcessEmulator(EmulatorOptions(throttle_every=3))
    wiring.override(runtime=emulator.runtime_client())
    """

    def runtime_client(self, region: str | None = None) -> RuntimeClient:
        return RuntimeClient(self, region)

    def control_client(self, region: str | None = None) -> ControlClient:
        return ControlClient(self, region)

    def s3vectors_client(self, region: str | None = None) -> S3VectorsClient:
        return S3VectorsClient(self, region)

    def close(self) -> None:
        self.stop()


class _Client:
    """What both clients share: boto3's `meta` (so code that hooks botocore events on an
    injected client works) and the call path, which emits before-call and after-call."""

    service: ClassVar[str]

    def __init__(self, backends: Backends, region: str | None = None) -> None:
        self._backends = backends
        self._region = region
        self.meta = ClientMeta(
            events=HierarchicalEmitter(),
            client_config=Config(region_name=region or backends.state.region),
            endpoint_url=ENDPOINT,
            service_model=_service_model(self.service),
            method_to_api_mapping={},
            partition="aws",
        )
        self.exceptions = _exceptions(self.service)

    def _call(
        self, operation: str, params: dict[str, Any], answer: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """The response, or the backend's error raised as botocore raises what the server sends."""
        model = self.meta.service_model.operation_model(operation)
        event = f"{self.meta.service_model.service_id.hyphenize()}.{operation}"
        context: dict[str, Any] = {}
        self.meta.events.emit(
            f"before-call.{event}", model=model, params=params, request_signer=None, context=context
        )
        try:
            response = answer()
        except BedrockError as error:
            failure = self._error(error, operation)
        except Dropped:
            closed = ConnectionClosedError(endpoint_url=ENDPOINT)
            self.meta.events.emit(f"after-call-error.{event}", exception=closed, context=context)
            raise closed from None
        except Exception as unexpected:  # the HTTP server answers these with a 500 too
            traceback.print_exc()
            internal = BedrockError("InternalServerException", "The embedrock emulator failed; see its log.")
            failure = self._error(internal, operation)
            failure.__cause__ = unexpected
        else:
            self.meta.events.emit(
                f"after-call.{event}", http_response=None, parsed=response, model=model, context=context
            )
            return response
        self.meta.events.emit(
            f"after-call.{event}", http_response=None, parsed=failure.response, model=model, context=context
        )
        raise failure

    def _error(self, error: BedrockError, operation: str) -> ClientError:
        # The modeled class (ThrottlingException, ...), as boto3 raises it; all are ClientErrors.
        error_class: type[ClientError] = self.exceptions.from_code(error.code)
        return client_error(error, operation, error_class)


class RuntimeClient(_Client):
    """bedrock-runtime's invoke_model, as boto3 returns it (or raises it)."""

    service = "bedrock-runtime"

    def invoke_model(
        self,
        *,
        modelId: str,  # noqa: N803 - boto3's parameter names
        body: bytes | str,
        contentType: str = "application/json",  # noqa: N803
        accept: str = "application/json",
    ) -> dict[str, Any]:
        raw = body.encode() if isinstance(body, str) else body
        params = {"modelId": modelId, "body": raw, "contentType": contentType, "accept": accept}

        def answer() -> dict[str, Any]:
            output = self._backends.runtime.invoke_model(modelId, raw)
            headers = {name.lower(): value for name, value in output.headers().items()}
            return {
                "ResponseMetadata": _metadata(200, {"content-type": "application/json", **headers}),
                "contentType": "application/json",
                "body": StreamingBody(io.BytesIO(output.body), len(output.body)),
            }

        return self._call("InvokeModel", params, answer)


class ControlClient(_Client):
    """bedrock's control-plane operations the emulator serves, as boto3 returns them."""

    service = "bedrock"

    def list_foundation_models(self, **filters: str) -> dict[str, Any]:
        control = self._backends.control
        return self._call(
            "ListFoundationModels",
            dict(filters),
            lambda: {
                "ResponseMetadata": _metadata(200),
                **control.list_foundation_models(filters, self._region),
            },
        )

    def get_foundation_model(self, *, modelIdentifier: str) -> dict[str, Any]:  # noqa: N803
        control = self._backends.control
        return self._call(
            "GetFoundationModel",
            {"modelIdentifier": modelIdentifier},
            lambda: {
                "ResponseMetadata": _metadata(200),
                **control.get_foundation_model(modelIdentifier, self._region),
            },
        )

    def list_inference_profiles(self, **query: Any) -> dict[str, Any]:
        control = self._backends.control
        wire = {_PROFILE_QUERY.get(name, name): str(value) for name, value in query.items()}
        return self._call(
            "ListInferenceProfiles",
            dict(query),
            lambda: {
                "ResponseMetadata": _metadata(200),
                **control.list_inference_profiles(wire, self._region),
            },
        )

    def get_foundation_model_availability(self, *, modelId: str) -> dict[str, Any]:  # noqa: N803
        control = self._backends.control
        return self._call(
            "GetFoundationModelAvailability",
            {"modelId": modelId},
            lambda: {
                "ResponseMetadata": _metadata(200),
                **control.get_foundation_model_availability(modelId),
            },
        )

    def list_foundation_model_agreement_offers(
        self,
        *,
        modelId: str,  # noqa: N803
        offerType: str | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        control = self._backends.control
        return self._call(
            "ListFoundationModelAgreementOffers",
            {"modelId": modelId, **({"offerType": offerType} if offerType else {})},
            lambda: {
                "ResponseMetadata": _metadata(200),
                **control.list_foundation_model_agreement_offers(modelId, offerType),
            },
        )

    def create_foundation_model_agreement(self, *, offerToken: str, modelId: str) -> dict[str, Any]:  # noqa: N803
        control = self._backends.control
        return self._call(
            "CreateFoundationModelAgreement",
            {"offerToken": offerToken, "modelId": modelId},
            lambda: {
                "ResponseMetadata": _metadata(202),
                **control.create_foundation_model_agreement(modelId, offerToken),
            },
        )


class S3VectorsClient(_Client):
    """s3vectors' operations as boto3 methods (create_vector_bucket, query_vectors, ...): keyword
    arguments in, boto3's response dict out, timestamps as datetimes as boto3 parses them."""

    service = "s3vectors"

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        operation = "".join(part.capitalize() for part in name.split("_"))
        backend = self._backends.s3vectors
        if name.startswith("_") or not backend.handles(operation):
            raise AttributeError(name)

        def method(**params: Any) -> dict[str, Any]:
            return self._call(
                operation,
                params,
                lambda: {
                    "ResponseMetadata": _metadata(200),
                    **_datetimes(backend.call(operation, dict(params))),
                },
            )

        return method


def _datetimes(value: Any) -> Any:
    """creationTime members as boto3 returns them: datetimes, parsed from the wire's epoch seconds."""
    if isinstance(value, dict):
        return {
            name: datetime.fromtimestamp(item, tz=UTC) if name == "creationTime" else _datetimes(item)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [_datetimes(item) for item in value]
    return value


# boto3's parameter names of ListInferenceProfiles -> the query names on the wire (botocore's model).
_PROFILE_QUERY = {"typeEquals": "type"}


@functools.cache
def _exceptions(service: str) -> Any:
    return ClientExceptionsFactory().create_client_exceptions(_service_model(service))


@functools.cache
def _service_model(service: str) -> ServiceModel:
    # botocore's own model files, read from disk once: what boto3 clients carry in meta.
    return botocore.session.get_session().get_service_model(service)


def client_error(
    error: BedrockError, operation: str, error_class: type[ClientError] = ClientError
) -> ClientError:
    headers = {name.lower(): value for name, value in error.headers().items()}
    response: Any = {
        "Error": {"Code": error.code, "Message": error.message},
        "ResponseMetadata": _metadata(error.status, {"content-type": "application/json", **headers}),
        **error.body(),  # botocore puts an error's modeled members next to Error
    }
    return error_class(response, operation)


def _metadata(status: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    return {
        "RequestId": request_id,
        "HTTPStatusCode": status,
        "HTTPHeaders": {"x-amzn-requestid": request_id, **(headers or {})},
        "RetryAttempts": 0,
    }
