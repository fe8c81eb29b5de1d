"""Request and response models of POST /rerank (Cohere's shape)."""

from __future__ import annotations

from pydantic import ConfigDict, Field, field_validator

from embedrock import catalog
from embedrock.http.schemas import Schema, invalid

RERANK_MODEL_IDS = ", ".join(catalog.rerank_model_ids())


class RerankDocument(Schema):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(description="The document's text.")


class RerankRequest(Schema):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "model": catalog.DEFAULT_RERANK_MODEL_ID,
                    "query": "What is the capital of the United States?",
                    "documents": [
                        "Carson City is the capital city of the American state of Nevada.",
                        "Washington, D.C. is the capital of the United States.",
                    ],
                    "top_n": 1,
                }
            ]
        },
    )

    model: str = Field(
        default=catalog.DEFAULT_RERANK_MODEL_ID,
        description=f"The rerank model. Allowed: {RERANK_MODEL_IDS} (each only in its regions: README).",
    )
    query: str = Field(description="What the documents are ranked against.")
    documents: list[str | RerankDocument] = Field(description="Texts, or objects with `text`, to rank.")
    top_n: int | None = Field(
        default=None, description="Results to return, best first; default: all documents."
    )
    return_documents: bool = Field(default=False, description="Include each result's document text.")

    @field_validator("model")
    @classmethod
    def _known(cls, value: str) -> str:
        if catalog.find_rerank(value) is None:
            raise invalid(
                f"unknown rerank model {value!r}; allowed values: {RERANK_MODEL_IDS}.",
                "model",
                code="model_not_found",
            )
        return value

    def texts(self) -> list[str]:
        return [item if isinstance(item, str) else item.text for item in self.documents]


class RerankResult(Schema):
    index: int = Field(description="Position of the document in the request.")
    relevance_score: float = Field(
        description="The model's relevance of the document to the query; higher is better."
    )
    document: RerankDocument | None = Field(default=None, description="With return_documents only.")


class RerankUsage(Schema):
    documents: int = Field(description="Documents ranked.")
    requests: int = Field(description="InvokeModel calls made.")
    cost_usd: float | None = Field(
        description="What Bedrock bills for this request in USD, from the catalog's price per 1,000 "
        "queries; null while that price is not confirmed (README, Rerank)."
    )


class RerankResponse(Schema):
    model: str = Field(examples=[catalog.DEFAULT_RERANK_MODEL_ID])
    results: list[RerankResult] = Field(description="Best first: highest relevance_score.")
    usage: RerankUsage
