"""Pydantic building blocks shared by every context's request and response models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError


class Schema(BaseModel):
    """Base of every model here. A function uses only some of them, and pydantic builds a
    model's validator on its first use rather than at import: the rest cost no cold start.
    """

    model_config = ConfigDict(defer_build=True)


def invalid(message: str, param: str | None, *, code: str | None = None) -> PydanticCustomError:
    """A validation error whose message is shown as is, blaming `param` (error code: `code`, else
    invalid_request)."""
    return PydanticCustomError(
        "invalid_request", "{message}", {"message": message, "param": param, "code": code}
    )


def expected(values: tuple[str, ...]) -> str:
    """The allowed values as a Literal's error gives them: `'a', 'b' or 'c'`."""
    quoted = [repr(value) for value in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def catalog_choice(values: tuple[str, ...]) -> PlainValidator:
    """Validation of a string field whose allowed values are a catalog tuple.

    A `Literal` cannot be built from a tuple for the type checker (`Literal[*values]` is not valid
    syntax, `Literal[values]` not a valid type), and spelling the values out again would make two
    places for one fact. So the field is a `str` checked here, raising the same `literal_error` a
    Literal raises (one message, naming the allowed values), with the enum in the OpenAPI document.
    """

    def check(value: object) -> str:
        if not isinstance(value, str) or value not in values:
            raise PydanticCustomError(
                "literal_error", "Input should be {expected}", {"expected": expected(values)}
            )
        return value

    return PlainValidator(check, json_schema_input_type=str)


def enum_schema(values: tuple[str, ...]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(values)})


class ErrorDetail(Schema):
    type: str = Field(examples=["invalid_request_error"])
    message: str = Field(examples=["dimensions 384 is not allowed for amazon.titan-embed-text-v2:0; ..."])
    param: str | None = Field(examples=["dimensions"])
    code: str = Field(examples=["invalid_dimensions"])


class ErrorResponse(Schema):
    error: ErrorDetail
