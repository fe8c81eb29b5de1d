"""The collections routes of a running Embedrock API, as a user's client calls them: JSON over HTTP.

One keep-alive connection (stdlib http.client): the bench sends its requests one after another,
so each latency is the API's alone. Error bodies are the API's error shape; any 4xx/5xx stops the
run with the API's own message, naming the route.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit


class CollectionsApiError(RuntimeError):
    """The API refused a request, or could not be reached; the message says which route and why."""


class CollectionsApi:
    def __init__(self, base_url: str, *, timeout_seconds: float = 60.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the collections API must be an http:// URL, got {base_url!r}")
        self._base = parts.path.rstrip("/")
        self._connection = http.client.HTTPConnection(
            parts.hostname, parts.port or 80, timeout=timeout_seconds
        )
        self.latencies_ms: list[float] = []  # of the last searches, in order

    def close(self) -> None:
        self._connection.close()

    def create(self, name: str, model: str, dimensions: int, *, text_language: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "model": model, "dimensions": dimensions, "metric": "cosine"}
        if text_language is not None:
            body["text_search"] = {"language": text_language}
        return self._call("POST", "/collections", body, expect=201)

    def delete(self, name: str) -> None:
        self._call("DELETE", f"/collections/{quote(name, safe='')}", None)

    def upsert(self, name: str, documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return self._call(
            "POST", f"/collections/{quote(name, safe='')}/documents", {"documents": list(documents)}
        )

    def search(self, name: str, query: str, *, mode: str, top_k: int) -> list[str]:
        """The ids of the results, best first; the request's latency is kept in `latencies_ms`."""
        started = time.perf_counter()
        answer = self._call(
            "POST",
            f"/collections/{quote(name, safe='')}/search",
            {"query": query, "mode": mode, "top_k": top_k},
        )
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        return [str(result["id"]) for result in answer["results"]]

    def _call(
        self, method: str, path: str, body: Mapping[str, Any] | None, *, expect: int = 200
    ) -> dict[str, Any]:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json"} if payload is not None else {}
        route = f"{method} {path}"
        try:
            self._connection.request(method, self._base + path, body=payload, headers=headers)
            response = self._connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            self._connection.close()  # the next request opens a fresh connection
            raise CollectionsApiError(f"{route}: no answer from the API ({error}).") from None
        try:
            answer = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            raise CollectionsApiError(f"{route}: {response.status}, not a JSON body: {raw[:200]!r}") from None
        if response.status != expect:
            problem = answer.get("error", {}) if isinstance(answer, dict) else {}
            message = problem.get("message") if isinstance(problem, dict) else None
            raise CollectionsApiError(f"{route}: {response.status} {message or raw[:200]!r}")
        if not isinstance(answer, dict):
            raise CollectionsApiError(f"{route}: expected a JSON object, got {raw[:200]!r}")
        return answer
