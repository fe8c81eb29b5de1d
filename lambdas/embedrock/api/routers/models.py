"""GET /models and GET /models/{model_id}: Bedrock's embedding models joined with the catalog."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from embedrock import wiring
from embedrock.api.model_schemas import ModelInfo, ModelList
from embedrock.api.services import model_info
from embedrock.http.responses import responses
from embedrock.http.routers import new_router

router = new_router()


@router.get(
    "/models",
    summary="List embedding models",
    description="Embedding models Bedrock offers in this region, with what each can do. "
    "`supported` says whether this service can call it.",
    tags=["Models"],
    responses=responses("The models, by id.", 400, 403, 429, 503, 504),
)
def list_models(
    provider: Annotated[str | None, Query(description="Only this provider, e.g. Amazon or Cohere.")] = None,
) -> ModelList:
    return ModelList(models=model_info.list_models(wiring.control_client(), provider))


@router.get(
    "/models/<model_id>",
    summary="Describe one embedding model",
    tags=["Models"],
    responses=responses("The model.", 400, 403, 404, 429, 503, 504),
)
def get_model(
    model_id: Annotated[str, Path(description="A model id such as amazon.titan-embed-text-v2:0.")],
) -> ModelInfo:
    # A client may send the ':' percent-encoded; ids never contain '%'.
    return model_info.get_model(wiring.control_client(), unquote(model_id))
