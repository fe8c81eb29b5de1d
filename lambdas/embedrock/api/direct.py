"""Direct invocation of the embeddings function (no API Gateway): the event is the body.

`{"texts": [...], "model": ..., ...}` in, the POST /embeddings body out as a dict; a
failure comes back as `{"error": {...}, "status": n}` rather than raising, so callers such
as Step Functions or another Lambda can branch on it.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from embedrock.api.schemas import EmbeddingsRequest
from embedrock.errors import ApiError, InvalidRequest
from embedrock.http.validation import to_invalid_request
from embedrock.observability import logger


def invoke(event: object, context: object = None) -> dict[str, Any]:
    from embedrock.api.services import embed
    from embedrock.http.resolver import invocation_deadline

    try:
        if not isinstance(event, dict):
            raise InvalidRequest(
                "the event must be a JSON object like the POST /embeddings body.", code="invalid_body"
            )
        try:
            request = EmbeddingsRequest.model_validate(event)
        except ValidationError as error:
            raise to_invalid_request(error.errors(), model=EmbeddingsRequest) from None
        with invocation_deadline(context):
            response: dict[str, Any] = embed.create_embeddings(request).model_dump(mode="json")
        return response
    except ApiError as error:
        logger.info("direct invocation failed", extra={"status": error.status, "code": error.code})
        return {**error.body(), "status": error.status}
    except Exception:
        logger.exception("unhandled error")
        return {**ApiError("internal error; see the function's logs.").body(), "status": 500}
