"""The embedding configuration of one file: object metadata, then a sidecar, then the defaults.

Object metadata (`aws s3 cp ... --metadata model=...,dimensions=512`) wins over the sidecar
`input/<name>.config.json`, which wins over the stack's defaults. Any invalid value rejects the
file with a message naming it and the allowed values; it is never silently replaced.

A file may name a `collection` to fill. The collection must exist; its model and dimensions are
the file's defaults, and a file that names another model or other dimensions is rejected (the
collection's vectors must all come from one model at one size, or its scores mean nothing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from embedrock import inference_profiles
from embedrock.embed_spec import EmbedSpec, resolve_spec
from embedrock.errors import InvalidRequest, NotFound, one_of
from embedrock.vector_store import limits
from embedrock.vector_store.model import Collection as VectorCollection

KEYS = ("model", "dimensions", "normalize", "input_type", "embedding_type", "truncate", "collection")
_TYPES: dict[str, type] = {
    "model": str,
    "dimensions": int,
    "normalize": bool,
    "input_type": str,
    "embedding_type": str,
    "truncate": str,
    "collection": str,
}
# A collection's vectors are float32 (S3 Vectors' only dataType, vector_store.limits.DATA_TYPES).
_COLLECTION_EMBEDDING_TYPE = "float"

# Looks a collection up by name (VectorStore.describe): NotFound when there is none.
DescribeCollection = Callable[[str], VectorCollection]
_BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True)
class FileConfig:
    spec: EmbedSpec
    # Where each setting came from: "metadata", "sidecar" or "default".
    sources: dict[str, str]
    # The collection the file fills, as described when the file was planned.
    collection: VectorCollection | None = None

    def canonical(self) -> dict[str, Any]:
        """The resolved settings, as the plan keeps them (Plan.spec) and the manifest shows them.

        `model` is the catalog model (prices, rows, cache keys); `invoke_model` the id InvokeModel
        is called with: the model's own, or the inference profile the file named.
        """
        spec = self.spec
        return {
            "model": spec.model.id,
            "invoke_model": spec.invoke_id,
            "dimensions": spec.dimensions,
            "normalize": spec.normalize,
            "input_type": spec.input_type,
            "embedding_type": spec.embedding_type,
            "truncate": spec.truncate,
            "collection": self.collection.name if self.collection is not None else None,
        }

    def identity(self) -> dict[str, Any]:
        """The settings hashed into the run id: those that change the vectors, and the route.

        The route is part of it: a file whose lines Bedrock refused through one id (a profile-only
        model called by its own id) must run again when uploaded with the other, not be
        "unchanged". Through the same route, the same file is never paid twice; across routes the
        embeddings cache (keyed by the catalog model) still makes the second run free. A setting at
        its default is left out, so the files run before it existed keep their run ids.

        The collection is in it with its creation time: a file uploaded again into a collection
        deleted and created again since fills the new one, instead of being "unchanged".
        """
        identity = self.canonical()
        if identity["invoke_model"] == identity["model"]:
            del identity["invoke_model"]
        if identity["truncate"] in (None, "NONE"):
            del identity["truncate"]
        if self.collection is None:
            del identity["collection"]
        elif self.collection.created_at is not None:
            identity["collection_created_at"] = self.collection.created_at.isoformat()
        return identity


def resolve(
    metadata: Mapping[str, str],
    sidecar: bytes | None,
    *,
    default_model_id: str,
    allowed_profiles: Collection[str] | None = None,
    describe_collection: DescribeCollection | None = None,
) -> FileConfig:
    """Raises InvalidRequest (param names the setting and where it came from) on any bad value.

    `describe_collection` looks up a `collection` the file names (None: no vector store here, so
    naming one is refused). The store's other errors (throttling, unavailability) propagate: the
    file is retried, not rejected.
    """
    chosen: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, values in (("sidecar", _from_sidecar(sidecar)), ("metadata", _from_metadata(metadata))):
        chosen |= values
        sources |= dict.fromkeys(values, source)
    target = None
    try:
        if "collection" in chosen:
            target = _collection(chosen.pop("collection"), describe_collection)
            chosen = _within_collection(chosen, target)
        spec = resolve_spec(
            model_id=chosen.get("model"),
            dimensions=chosen.get("dimensions"),
            normalize=chosen.get("normalize", True),
            input_type=chosen.get("input_type"),
            embedding_type=chosen.get("embedding_type"),
            truncate=chosen.get("truncate"),
            default_model_id=default_model_id,
            allowed_profiles=allowed_profiles,
        )
    except InvalidRequest as error:
        where = sources.get(error.param or "", "collection" if target is not None else "default")
        raise InvalidRequest(
            f"{error.message} (from the {where} configuration)", param=error.param, code=error.code
        ) from None
    unset = "collection" if target is not None else "default"
    sources = {key: sources.get(key, unset if key in ("model", "dimensions") else "default") for key in KEYS}
    return FileConfig(spec, sources, target)


def _collection(name: str, describe: DescribeCollection | None) -> VectorCollection:
    if not limits.NAME.fullmatch(name):
        raise _invalid(
            "collection",
            f"collection '{name[:100]}' is not a collection name: {limits.NAME_MIN} to {limits.NAME_MAX} "
            "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit.",
        )
    if describe is None:
        raise _invalid(
            "collection",
            f"the file names collection '{name}', but this deployment has no vector store "
            "(EMBEDROCK_VECTOR_BUCKET is not set).",
            code="collections_not_configured",
        )
    try:
        return describe(name)
    except NotFound as error:  # other errors (throttled, unavailable) propagate: the upload is retried
        raise InvalidRequest(error.message, param="collection", code=error.code) from None


def _within_collection(chosen: dict[str, Any], collection: VectorCollection) -> dict[str, Any]:
    """The file's settings with the collection's model and dimensions as defaults; a file that
    names others is refused, naming the setting and the collection's value."""
    model = chosen.get("model")
    if model is not None and _catalog_id(model) != _catalog_id(collection.model):
        raise _mismatch("model", f"model '{model[:100]}'", collection)
    dimensions = chosen.get("dimensions")
    if dimensions is not None and dimensions != collection.dimensions:
        raise _mismatch("dimensions", f"dimensions {dimensions}", collection)
    embedding_type = chosen.get("embedding_type")
    if embedding_type is not None and embedding_type != _COLLECTION_EMBEDDING_TYPE:
        raise _invalid(
            "embedding_type",
            f"embedding_type '{embedding_type[:100]}' cannot fill collection '{collection.name}': a collection "
            f"keeps float32 vectors; allowed values: {_COLLECTION_EMBEDDING_TYPE} (or leave it unset).",
            code="collection_mismatch",
        )
    return {"model": collection.model, "dimensions": collection.dimensions} | chosen


def _catalog_id(model: str) -> str:
    """The catalog model behind an id or an inference profile id (the same vectors either way)."""
    return inference_profiles.parse(model).model_id


def _mismatch(param: str, given: str, collection: VectorCollection) -> InvalidRequest:
    return _invalid(
        param,
        f"{given} does not match collection '{collection.name}', which keeps vectors of "
        f"{collection.model} at {collection.dimensions} dimensions; use those or leave {param} unset.",
        code="collection_mismatch",
    )


def _from_metadata(metadata: Mapping[str, str]) -> dict[str, Any]:
    # S3 lower-cases metadata keys; accept input-type as well as input_type.
    values = {key.lower().replace("-", "_"): value for key, value in metadata.items()}
    return {key: _parse_text(key, values[key]) for key in KEYS if key in values}


def _parse_text(key: str, value: str) -> Any:
    kind = _TYPES[key]
    if kind is int:
        try:
            return int(value)
        except ValueError:
            raise _invalid(key, f"object metadata {key} must be an integer, got '{value}'.") from None
    if kind is bool:
        if value.strip().lower() not in _BOOLEANS:
            raise _invalid(key, f"object metadata {key} must be true or false, got '{value}'.")
        return _BOOLEANS[value.strip().lower()]
    return value


def _from_sidecar(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _invalid(
            None, "the sidecar configuration file is not valid JSON.", code="invalid_config"
        ) from None
    if not isinstance(values, dict):
        raise _invalid(None, "the sidecar configuration must be a JSON object.", code="invalid_config")
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise _invalid(
            unknown[0],
            f"the sidecar configuration has unknown key(s) {one_of(unknown)}; allowed keys: {one_of(KEYS)}.",
            code="unknown_config_key",
        )
    for key, value in values.items():
        kind = _TYPES[key]
        # bool is an int in Python: `"dimensions": true` must not pass as 1.
        if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise _invalid(key, f"the sidecar configuration's {key} must be {_KIND_NAMES[kind]}.")
    return {key: value for key, value in values.items() if value is not None}


_KIND_NAMES = {str: "a string", int: "an integer", bool: "true or false"}


def _invalid(param: str | None, message: str, *, code: str = "invalid_config_value") -> InvalidRequest:
    return InvalidRequest(message, param=param, code=code)
