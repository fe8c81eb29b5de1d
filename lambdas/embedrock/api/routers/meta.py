"""GET /health and GET /openapi.json (Swagger UI at /docs is enabled on the resolver)."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import Response, content_types

from embedrock import wiring
from embedrock.api import openapi
from embedrock.api.routers import new_router
from embedrock.api.schemas import Health

router = new_router()


@router.get("/health", summary="Liveness", tags=["Meta"], responses=openapi.responses("Up."))
def health() -> Health:
    return Health(version=openapi.api_version(), default_model=wiring.settings().default_model_id)


@router.get("/openapi.json", summary="This API's OpenAPI document", include_in_schema=False)
def openapi_json() -> Response[str]:
    context = router.current_event.request_context
    stage = context.stage
    # Behind a stage (/prod), the API's URLs start with it; on a custom domain they do not.
    base = f"/{stage}" if stage and stage != "$default" and context.path.startswith(f"/{stage}") else ""
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(openapi.document(base)),
    )
