"""The whole API's documents, served by the models function: GET /openapi.json and Swagger UI at
/docs. Above app.py, which alone can build them (it includes every router)."""

from __future__ import annotations

import json
from functools import cache

from aws_lambda_powertools.event_handler import Response, content_types

from embedrock.api.app import EmbedrockResolver, build_resolver, openapi_document
from embedrock.api.openapi import TITLE
from embedrock.api.routers import new_router

router = new_router()


@router.get("/openapi.json", summary="This API's OpenAPI document", include_in_schema=False)
def openapi_json() -> Response[str]:
    context = router.current_event.request_context
    stage = context.stage
    # Behind a stage (/prod), the API's URLs start with it; on a custom domain they do not.
    base = f"/{stage}" if stage and stage != "$default" and context.path.startswith(f"/{stage}") else ""
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(openapi_document(base)),
    )


@cache
def swagger() -> EmbedrockResolver:
    """Swagger UI at /docs, set up on its first request: Powertools' OpenAPI models take
    ~130 ms to import, which every cold start of the models function would pay otherwise.
    """
    docs = build_resolver()
    # The UI's document comes from EmbedrockResolver.get_openapi_schema: every route of the API.
    docs.enable_swagger(path="/docs", title=TITLE)
    return docs
