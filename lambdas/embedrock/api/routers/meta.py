"""GET /health (the whole API's /openapi.json and /docs are in http/docs.py, composed by the models handler)."""

from __future__ import annotations

import embedrock
from embedrock import wiring
from embedrock.api.model_schemas import Health
from embedrock.http.responses import responses
from embedrock.http.routers import new_router

router = new_router()


@router.get("/health", summary="Liveness", tags=["Meta"], responses=responses("Up."))
def health() -> Health:
    return Health(version=embedrock.__version__, default_model=wiring.settings().default_model_id)
