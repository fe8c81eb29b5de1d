"""The embedding configuration of one file: object metadata, then a sidecar, then the defaults.

Object metadata (`aws s3 cp ... --metadata model=...,dimensions=512`) wins over the sidecar
`input/<name>.config.json`, which wins over the stack's defaults. Any invalid value rejects the
file with a message naming it and the allowed values; it is never silently replaced.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from embedrock.embed_spec import EmbedSpec, resolve_spec
from embedrock.errors import InvalidRequest, one_of

KEYS = ("model", "dimensions", "normalize", "input_type", "embedding_type", "truncate")
_TYPES: dict[str, type] = {
    "model": str,
    "dimensions": int,
    "normalize": bool,
    "input_type": str,
    "embedding_type": str,
    "truncate": str,
}
_BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True)
class FileConfig:
    spec: EmbedSpec
    # Where each setting came from: "metadata", "sidecar" or "default".
    sources: dict[str, str]

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
        }

    def identity(self) -> dict[str, Any]:
        """The settings hashed into the run id: those that change the vectors, and the route.

        The route is part of it: a file whose lines Bedrock refused through one id (a profile-only
        model called by its own id) must run again when uploaded with the other, not be
        "unchanged". Through the same route, the same file is never paid twice; across routes the
        embeddings cache (keyed by the catalog model) still makes the second run free. A setting at
        its default is left out, so the files run before it existed keep their run ids.
        """
        identity = self.canonical()
        if identity["invoke_model"] == identity["model"]:
            del identity["invoke_model"]
        if identity["truncate"] in (None, "NONE"):
            del identity["truncate"]
        return identity


def resolve(
    metadata: Mapping[str, str],
    sidecar: bytes | None,
    *,
    default_model_id: str,
    allowed_profiles: Collection[str] | None = None,
) -> FileConfig:
    """Raises InvalidRequest (param names the setting and where it came from) on any bad value."""
    chosen: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, values in (("sidecar", _from_sidecar(sidecar)), ("metadata", _from_metadata(metadata))):
        chosen |= values
        sources |= dict.fromkeys(values, source)
    try:
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
        where = sources.get(error.param or "", "default")
        raise InvalidRequest(
            f"{error.message} (from the {where} configuration)", param=error.param, code=error.code
        ) from None
    return FileConfig(spec, {key: sources.get(key, "default") for key in KEYS})


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
