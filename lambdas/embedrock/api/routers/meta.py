"""GET /health (the whole API's /openapi.json and /docs are in api/docs.py)."""

from __future__ import annotations

import embedrock
from embedrock import wiring
from embedrock.api.responses import responses
from embedrock.api.routers import new_router
from embedrock.api.schemas import Health

router = new_router()


@router.get("/health", summary="Liveness", tags=["Meta"], responses=responses("Up."))
def health() -> Health:
    return Health(version=embedrock.__version__, default_model=wiring.settings().default_model_id)
