"""QueryVectors paging: a query whose topK exceeds a page is ranked once, and its results are
kept for the pages that follow, as the user guide describes ("Querying vectors",
s3-vectors-query.html): the next requests repeat the query's parameters with the response's
nextToken; "Pagination tokens remain valid for several minutes after the query is executed. If a
pagination token expires, re-issue the original query to start a new session." How many minutes
is not published: the emulator keeps a session 5 minutes. A session is a snapshot, so writes
between pages do not move results from one page to another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .errors import invalid

SESSION_SECONDS = 300.0
SESSIONS_MAX = 1000  # the oldest sessions go first past this many


@dataclass
class _Session:
    fingerprint: str
    results: list[dict[str, Any]]
    expires: float


def clock() -> float:
    return time.monotonic()


def fingerprint(request: dict[str, Any]) -> str:
    """What a page request must repeat: every member of the query but its nextToken."""
    rest = {name: value for name, value in request.items() if name != "nextToken"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, default=str).encode()).hexdigest()


class QuerySessions:
    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, request: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
        """The first page of a query's results, with a nextToken when more follow."""
        if len(results) <= self.page_size:
            return {"vectors": results}
        session = secrets.token_urlsafe(16)
        with self._lock:
            self._expire(clock())
            self._sessions[session] = _Session(fingerprint(request), results, clock() + SESSION_SECONDS)
            while len(self._sessions) > SESSIONS_MAX:
                self._sessions.popitem(last=False)
        return self._page(session, results, 0)

    def next(self, request: dict[str, Any]) -> dict[str, Any]:
        """The page a nextToken points at, for a request repeating the query's parameters."""
        session, offset = _decode(request["nextToken"])
        with self._lock:
            self._expire(clock())
            found = self._sessions.get(session)
        if found is None:
            raise invalid(
                "nextToken has expired or is not a token QueryVectors returned; re-issue the query."
            )
        if found.fingerprint != fingerprint(request):
            raise invalid(
                "A QueryVectors page request must repeat the query's parameters (queryVector, queryTexts, topK, "
                "filter, queryMode, return flags) with the nextToken."
            )
        return self._page(session, found.results, offset)

    def _page(self, session: str, results: list[dict[str, Any]], offset: int) -> dict[str, Any]:
        end = offset + self.page_size
        page: dict[str, Any] = {"vectors": results[offset:end]}
        if end < len(results):
            page["nextToken"] = _encode(session, end)
        return page

    def _expire(self, at: float) -> None:
        for session in [s for s, found in self._sessions.items() if found.expires <= at]:
            del self._sessions[session]


def _encode(session: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{session}:{offset}".encode()).decode()


def _decode(token: Any) -> tuple[str, int]:
    try:
        session, offset = base64.urlsafe_b64decode(str(token).encode()).decode().rsplit(":", 1)
        return session, int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid("nextToken is not a token QueryVectors returned.") from None
