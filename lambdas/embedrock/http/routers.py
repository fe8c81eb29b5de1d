"""One router per capability; handlers include the routers their function serves."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter


def new_router() -> APIGatewayRouter:
    return APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated
