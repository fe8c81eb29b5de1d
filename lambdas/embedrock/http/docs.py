"""The whole API's documents: GET /openapi.json and Swagger UI at /docs.

Every context's routes are in them, so they are built from routers that only a composition
edge may gather (the models handler, which serves them, imports the api and the collections
contexts for this alone). This module is handed a function returning those routers, called on
the first document request: importing every router costs the models function's cold start
nothing until then.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types

from embedrock.http import openapi
from embedrock.http.resolver import EmbedrockResolver, build_resolver
from embedrock.http.routers import new_router

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import Router
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI, Server


class ApiDocument:
    """The OpenAPI document of every route the `routers` function returns."""

    def __init__(self, routers: Callable[[], Iterable[Router]]) -> None:
        self._routers = routers

    @cached_property
    def _generated(self) -> dict[str, Any]:
        return openapi.generate(build_resolver(*self._routers()))

    def json(self, base_path: str = "") -> dict[str, Any]:
        """The JSON document, with the server URL of the stage it is served from."""
        return openapi.served_from(self._generated, base_path)

    def schema(self, servers: list[Server] | None = None) -> OpenAPI:
        """The document as Powertools' model (what Swagger UI is served from)."""
        return openapi.schema(self._generated, servers=servers)

    def router(self) -> Router:
        """GET /openapi.json."""
        router = new_router()

        @router.get("/openapi.json", summary="This API's OpenAPI document", include_in_schema=False)
        def openapi_json() -> Response[str]:
            context = router.current_event.request_context
            stage = context.stage
            # Behind a stage (/prod), the API's URLs start with it; on a custom domain they do not.
            base = (
                f"/{stage}" if stage and stage != "$default" and context.path.startswith(f"/{stage}") else ""
            )
            return Response(
                status_code=200, content_type=content_types.APPLICATION_JSON, body=json.dumps(self.json(base))
            )

        return router

    @cached_property
    def swagger(self) -> EmbedrockResolver:
        """Swagger UI at /docs, set up on its first request: Powertools' OpenAPI models take
        ~130 ms to import, which every cold start of the models function would pay otherwise.
        """
        docs = build_resolver()
        docs.whole_document = self.schema  # the UI shows every route of the API
        docs.enable_swagger(path="/docs", title=openapi.TITLE)
        return docs
