"""GET /health, /openapi.json and /docs, and unknown routes on every function."""

from __future__ import annotations

from typing import Any

import pytest

from embedrock import catalog, routes
from embedrock.handlers import embeddings, models, similarity
from tests.events import LambdaContext, api_event, response_json

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

DOCS_ONLY = {"/docs", "/openapi.json"}


def get(path: str, **kwargs: Any) -> dict[str, Any]:
    response: dict[str, Any] = models.handler(api_event("GET", path, **kwargs), LambdaContext())
    return response


def test_health_answers_ok_with_the_version() -> None:
    # When GET /health is called
    response = get("/health")

    # Then it is up, with version and default model
    assert response["statusCode"] == 200
    body = response_json(response)
    assert body["status"] == "ok" and body["version"] and body["default_model"] == catalog.DEFAULT_MODEL_ID


def test_openapi_documents_every_route_of_the_route_table() -> None:
    # When the OpenAPI document is fetched from the models function
    response = get("/openapi.json")

    # Then it is JSON and lists every route of every function, with its method
    assert response["statusCode"] == 200
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
    document = response_json(response)
    assert document["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    expected = {(route.method, route.path) for route in routes.ROUTES if route.path not in DOCS_ONLY}
    assert documented == expected


def test_openapi_uses_the_api_error_shape_and_api_keys() -> None:
    # Given the document
    document = response_json(get("/openapi.json"))
    operations = {(m, p): op for p, ops in document["paths"].items() for m, op in ops.items()}
    schemas = document["components"]["schemas"]

    # Then validation errors are documented as 400 with our shape, not Powertools' 422
    embeddings_post = operations[("post", "/embeddings")]
    assert "422" not in embeddings_post["responses"] and "HTTPValidationError" not in schemas
    assert embeddings_post["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }
    # And the request model's fields carry descriptions and the allowed values
    request = schemas["EmbeddingsRequest"]
    assert request["additionalProperties"] is False
    assert "description" in request["properties"]["texts"]
    assert {"float", "base64"} <= set(request["properties"]["encoding"]["enum"])
    # And API keys follow the route table: required on /embeddings, not on /health
    assert document["components"]["securitySchemes"]["apiKey"]["name"] == "x-api-key"
    assert embeddings_post["security"] == [{"apiKey": []}]
    assert "security" not in operations[("get", "/health")]


def test_openapi_documents_cost_usd_and_token_id_input() -> None:
    # Given the document
    schemas = response_json(get("/openapi.json"))["components"]["schemas"]

    # Then every usage carries cost_usd, described with its rounding
    for usage in ("Usage", "OpenAIUsage"):
        cost = schemas[usage]["properties"]["cost_usd"]
        assert cost["type"] == "number" and "1e-9" in cost["description"], usage
    # And /v1/embeddings' input takes texts and token arrays
    shapes = schemas["OpenAIEmbeddingsRequest"]["properties"]["input"]["anyOf"]
    assert {"type": "string"} in shapes
    assert {"type": "array", "items": {"type": "integer"}} in shapes
    assert {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}} in shapes
    assert "cl100k_base" in schemas["OpenAIEmbeddingsRequest"]["properties"]["input"]["description"]


def test_openapi_enums_come_from_the_catalog_on_every_request() -> None:
    schemas = response_json(get("/openapi.json"))["components"]["schemas"]
    input_types = list(dict.fromkeys(kind for model in catalog.MODELS for kind in model.input_types))
    for request in ("EmbeddingsRequest", "OpenAIEmbeddingsRequest", "SimilarityRequest"):
        properties = schemas[request]["properties"]
        assert {"type": "string", "enum": input_types} in properties["input_type"]["anyOf"], request
        assert {"type": "string", "enum": list(catalog.TRUNCATE_MODES)} in properties["truncate"]["anyOf"]
    embedding_type = schemas["EmbeddingsRequest"]["properties"]["embedding_type"]["anyOf"]
    assert {"type": "string", "enum": list(catalog.EMBEDDING_TYPES)} in embedding_type
    # And the query-only meaning of /similarity's input_type is said in the document
    assert "query's purpose only" in schemas["SimilarityRequest"]["properties"]["input_type"]["description"]
    # And GET /models documents the capabilities
    for name in ("truncate_modes", "max_tokens", "image_formats", "max_image_pixels", "price_per_image"):
        assert name in schemas["ModelInfo"]["properties"], name


def test_openapi_server_url_follows_the_stage() -> None:
    # Given a request through the "dev" stage
    document = response_json(get("/openapi.json", stage="dev"))

    # Then the document's server is that stage
    assert document["servers"] == [{"url": "/dev"}]


def test_docs_serve_swagger_ui_with_every_route() -> None:
    # When /docs is fetched
    response = get("/docs")

    # Then it is the Swagger UI page, embedding the document of the whole API
    assert response["statusCode"] == 200
    assert response["multiValueHeaders"]["Content-Type"] == ["text/html"]
    page = response["body"]
    assert "SwaggerUIBundle" in page
    for route in routes.ROUTES:
        if route.path not in DOCS_ONLY:
            assert f'"{route.path}"' in page


@pytest.mark.parametrize(
    ("handler", "method", "path"),
    [
        (models.handler, "GET", "/nowhere"),
        (models.handler, "POST", "/models"),
        (embeddings.handler, "GET", "/embeddings"),
        (similarity.handler, "POST", "/similarity/extra"),
    ],
)
def test_unknown_routes_are_404_in_the_error_shape(handler: Any, method: str, path: str) -> None:
    # Given a route no function serves
    # When it is requested
    response = handler(api_event(method, path, {} if method == "POST" else None), LambdaContext())

    # Then a 404 lists the API's routes
    assert response["statusCode"] == 404
    error = response_json(response)["error"]
    assert error["type"] == "not_found_error" and error["code"] == "route_not_found"
    assert f"{method} {path}" in error["message"] and "POST /embeddings" in error["message"]
