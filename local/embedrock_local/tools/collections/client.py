"""The HTTP API as the terminal commands call it: the same requests locally (`make run`) and
deployed (`--url` the stage URL, `--api-key` the usage plan's key).

Any failure is one ApiFailure whose message is what a person reads: the error body's message
(the API's error shape), or why the API could not be reached.
"""

from __future__ import annotations

import argparse
import os
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_URL = "http://127.0.0.1:8080"  # where `make run` serves the API
URL_VARIABLE, KEY_VARIABLE = "EMBEDROCK_URL", "EMBEDROCK_API_KEY"
TIMEOUT_SECONDS = 35.0  # past API Gateway's 29 s, so its own 504 is what a slow request reports


class ApiFailure(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get(URL_VARIABLE) or DEFAULT_URL,
        help=f"the API's base URL: make run's, or a deployed stage's (${URL_VARIABLE} sets the default)",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get(KEY_VARIABLE) or None,
        help=f"the x-api-key a deployed API requires (${KEY_VARIABLE} sets the default)",
    )


def segment(value: str) -> str:
    """A name as one path segment: nothing in it can reach another route."""
    return quote(value, safe="")


class ApiClient:
    def __init__(
        self, url: str, api_key: str | None = None, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        headers = {"x-api-key": api_key} if api_key else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=TIMEOUT_SECONDS, transport=transport
        )

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.TimeoutException:
            raise ApiFailure(
                f"{self.url} did not answer {method} {path} within {TIMEOUT_SECONDS:g} s."
            ) from None
        except httpx.HTTPError as error:
            raise ApiFailure(
                f"cannot reach the API at {self.url} ({error}); start it with `make run`, or pass "
                f"--url (or set {URL_VARIABLE}) to a deployed stage's URL."
            ) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.is_success and not response.content:  # e.g. 204 No Content
            return {}
        if response.is_success and isinstance(answer, dict):
            return answer
        raise ApiFailure(_message(response, answer), response.status_code)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _message(response: httpx.Response, answer: object) -> str:
    """The API's error message (its error shape), else API Gateway's {"message"}, else the status."""
    if isinstance(answer, dict):
        error = answer.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(answer.get("message"), str):
            return str(answer["message"])
    if response.is_success:
        return f"the API answered {response.status_code} with a body that is not a JSON object."
    return f"the API answered {response.status_code} {response.reason_phrase}."
