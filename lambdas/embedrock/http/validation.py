"""Pydantic validation errors turned into the API's one error: field path, plain sentence.

Error inputs are never echoed: they may hold the caller's texts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from embedrock.errors import InvalidRequest, shown

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

# What a value should have been, per pydantic error type; errors of several union members
# at the same place are joined with "or".
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def field_path(loc: Sequence[str | int]) -> str:
    """`("texts", 0)` -> `texts[0]`, the notation of every `param` this API returns."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def _clean(loc: Sequence[Any], sources: tuple[str, ...]) -> tuple[str | int, ...]:
    # Drop where the resolver found the value ("body", "query", ...) and the union member
    # tags pydantic inserts, such as "str" or "list[float]"; field names never look like those.
    parts = tuple(loc)[1:] if loc and loc[0] in sources else tuple(loc)
    return tuple(part for part in parts if isinstance(part, int) or not _is_type_tag(part))


def _is_type_tag(part: str) -> bool:
    return "[" in part or part in {"str", "int", "float", "bool", "list", "dict", "none"}


def to_invalid_request(
    errors: Sequence[Mapping[str, Any]],
    *,
    model: type[BaseModel] | None = None,
    sources: tuple[str, ...] = (),
) -> InvalidRequest:
    """The first problem as an InvalidRequest (a client fixes one thing at a time).

    `sources`: leading location names to drop, such as the resolver's "body" and "query".
    """
    first = errors[0]
    kind = first.get("type", "")
    ctx = first.get("ctx") or {}
    if kind == "json_invalid":
        return InvalidRequest(
            f"body is not valid JSON: {ctx.get('error', 'parse error')}.", code="invalid_json"
        )
    if kind == "invalid_request":
        return InvalidRequest(str(ctx.get("message")), param=ctx.get("param"), code=ctx.get("code"))
    loc = _clean(first.get("loc", ()), sources)
    path = shown(field_path(loc))  # an unknown field's name is the caller's, of any length
    if not path:
        return InvalidRequest(_body_message(model), code="invalid_body")
    if kind == "missing":
        return InvalidRequest(f"{path} is required.", param=path, code="missing_field")
    if kind == "extra_forbidden":
        allowed = f"; allowed fields: {', '.join(model.model_fields)}" if model and len(loc) == 1 else ""
        return InvalidRequest(f"{path} is not a known field{allowed}.", param=path, code="unknown_field")
    if kind in ("literal_error", "enum"):
        return InvalidRequest(
            f"{path} must be one of {ctx.get('expected', '')}.", param=path, code="invalid_value"
        )
    if kind in ("too_short", "too_long"):
        bound = "at least" if kind == "too_short" else "at most"
        limit = ctx.get("min_length" if kind == "too_short" else "max_length")
        return InvalidRequest(
            f"{path} must hold {bound} {limit} items, not {ctx.get('actual_length')}.", param=path
        )
    if kind in ("value_error", "assertion_error"):
        return InvalidRequest(str(ctx.get("error", first.get("msg"))), param=path)
    expected = [
        _EXPECTED[error["type"]]
        for error in errors
        if _clean(error.get("loc", ()), sources) == loc and error.get("type") in _EXPECTED
    ]
    if expected:
        return InvalidRequest(
            f"{path} must be {' or '.join(dict.fromkeys(expected))}.", param=path, code="invalid_type"
        )
    return InvalidRequest(f"{path}: {_sentence(first.get('msg', 'is not valid'))}", param=path)


def _body_message(model: type[BaseModel] | None) -> str:
    fields = f" with the fields: {', '.join(model.model_fields)}" if model else ""
    return f"the request body must be a JSON object{fields}."


def _sentence(message: str) -> str:
    message = message[:1].lower() + message[1:]
    return message if message.endswith(".") else f"{message}."


# Public routes that probes and browsers call, sometimes with cache-busting query strings.
_ANY_QUERY_PATHS = frozenset({"/health", "/openapi.json", "/docs"})


def reject_unknown_query(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Middleware: a query parameter the route does not take is a 400, not silently ignored
    (`POST /embeddings?model=...` would otherwise embed with the default model)."""
    route = app.context.get("_route")
    given = app.current_event.query_string_parameters or {}
    if route is not None and given and route.path not in _ANY_QUERY_PATHS:
        allowed = [param.alias for param in route.dependant.query_params]
        for name in given:
            if name not in allowed:
                takes = f"it takes: {', '.join(allowed)}" if allowed else "it takes none"
                # Only a route with a body takes fields elsewhere (a GET has none).
                body = " Request fields go in the JSON body." if route.dependant.body_params else ""
                raise InvalidRequest(
                    f"query parameter '{shown(name)}' is not known to {route.method} "
                    f"{route.openapi_path}; {takes}.{body}",
                    param=name,
                    code="unknown_parameter",
                )
    return next_middleware(app)
