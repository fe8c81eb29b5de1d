"""The resolver every HTTP function uses: validation on, one error shape for every failure.

API errors keep their status, body and headers; pydantic failures become 400s naming the
field; an unknown route is a 404; anything unexpected is a 500 without a stack trace (the
trace goes to the log). Request bodies are JSON whatever Content-Type says (curl -d sends
form-urlencoded by default).

It knows no context's routers: a handler hands it the routers its function serves, and the
whole API's OpenAPI document (every context's routes) comes from the composition edge that can
see them all (http/docs.py, used by the models handler).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import orjson
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel

from embedrock import deadline, routes, wiring
from embedrock.aws_errors import error_code
from embedrock.errors import ApiError, NotFound, shown
from embedrock.http import body as request_body
from embedrock.http.validation import reject_unknown_query, to_invalid_request
from embedrock.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import Router
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI, Server
    from aws_lambda_powertools.utilities.typing import LambdaContext

    # The whole API's document as Powertools' model, for the servers given.
    DocumentSchema = Callable[[list[Server] | None], OpenAPI]


class EmbedrockResolver(APIGatewayRestResolver):
    # Set on the resolver that serves Swagger UI, so that /docs shows every route of the API,
    # not only the ones this resolver includes.
    whole_document: DocumentSchema | None = None

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        with invocation_deadline(context, event):
            return super().resolve(_as_json_body(request_body.decode(event)), context)

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        if self.whole_document is not None:
            return self.whole_document(kwargs.get("servers"))
        return super().get_openapi_schema(**kwargs)


def invocation_deadline(context: object, event: object = None) -> AbstractContextManager[float]:
    """The deadline of this invocation's Bedrock calls (see deadline.py); `event` is the proxy
    event, whose requestTimeEpoch starts the clock when API Gateway received the request."""
    config = wiring.settings()
    return deadline.running(
        deadline.budget_seconds(
            context,
            request_timeout=config.request_timeout_seconds,
            margin=config.deadline_margin_seconds,
            event=event,
        )
    )


def build_resolver(*routers: Router) -> EmbedrockResolver:
    # debug=False even if POWERTOOLS_DEV is set: debug mode prints events (texts) and traces.
    app = EmbedrockResolver(
        enable_validation=True,
        debug=False,
        serializer=to_json,
        json_body_deserializer=request_body.parse,
        cors=cors_config(wiring.settings().cors_origins),
    )

    def api_error(error: ApiError) -> Response[dict[str, Any]]:
        cause = error.__cause__
        log = logger.warning if error.status >= 500 else logger.info
        log(
            "request failed",
            extra={
                "status": error.status,
                "code": error.code,
                "param": error.param,
                "cause": type(cause).__name__ if cause else None,
                "bedrock_code": error_code(cause),
            },
        )
        return error_response(error)

    def invalid_request(error: RequestValidationError) -> Response[dict[str, Any]]:
        if any(tuple(problem.get("loc", ()))[:1] == ("response",) for problem in error.errors()):
            # Powertools reports a response that fails its own model this way: our bug, not a 400.
            return unexpected(error)
        problem = to_invalid_request(
            error.errors(), model=_body_model(app), sources=("body", "query", "path", "header")
        )
        logger.info("invalid request", extra={"status": 400, "code": problem.code, "param": problem.param})
        return error_response(problem)

    def not_found(_: NotFoundError) -> Response[dict[str, Any]]:
        event = app.current_event
        return error_response(
            NotFound(
                f"no route for {shown(event.http_method)} {shown(event.path)}; routes: {routes.route_list()}.",
                code="route_not_found",
            )
        )

    def unexpected(error: Exception) -> Response[dict[str, Any]]:
        logger.exception("unhandled error")
        request_id = app.current_event.request_context.request_id
        return error_response(ApiError(f"internal error; quote request id {request_id} when reporting it."))

    # Registered by call, not as decorators: Powertools leaves these decorators unannotated.
    app.exception_handler(ApiError)(api_error)
    app.exception_handler(RequestValidationError)(invalid_request)
    app.exception_handler(NotFoundError)(not_found)
    app.exception_handler(Exception)(unexpected)
    app.use([reject_unknown_query])
    for router in routers:
        app.include_router(router)
    return app


def cors_config(origins: tuple[str, ...]) -> CORSConfig | None:
    """CORS headers on every answer (errors too) to a request from an allowed Origin.

    With a Lambda proxy integration API Gateway passes the function's headers through, so the
    function must add them itself; API Gateway answers the preflight (infra/api.py).
    """
    if not origins:
        return None
    return CORSConfig(allow_origin=origins[0], extra_origins=list(origins[1:]), max_age=600)


def to_json(body: Any) -> str:
    """Response bodies as JSON: orjson writes float vectors ~20x faster than json.dumps."""
    return orjson.dumps(body).decode()


def error_response(error: ApiError) -> Response[dict[str, Any]]:
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body=error.body(),
        headers=error.headers,
    )


def _body_model(app: APIGatewayRestResolver) -> type[BaseModel] | None:
    """The pydantic model of the matched route's body, to list its fields in messages."""
    route = app.context.get("_route")
    body_params = route.dependant.body_params if route is not None else []
    model = body_params[0].type_ if body_params else None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _as_json_body(event: Mapping[str, Any]) -> Mapping[str, Any]:
    headers = event.get("headers") or {}
    if not event.get("body"):
        return event
    kept = {name: value for name, value in headers.items() if name.lower() != "content-type"}
    return {**event, "headers": {**kept, "Content-Type": "application/json"}}
