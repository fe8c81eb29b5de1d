"""Fault injection: make the emulator slow, throttled, timing out or refusing, on purpose.

A Fault is a rule. It matches calls by operation and model id (glob patterns), counts the
calls it matched, and acts on every Nth one (`every`), at most `times` times; with `fraction`
below 1 it acts on that share of those, drawn from a generator seeded by `seed`, so a heavy
tail (say 1 % of calls take 2 s) is the same sequence of draws on every run. Latency adds
up over all matching rules; of the error rules, the first that fires (in the order added)
answers the call. Rules are set at start and changed at run time (Python API or admin HTTP).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from .errors import BedrockError


class FaultKind(StrEnum):
    LATENCY = "latency"  # wait latency_ms, then answer normally
    THROTTLE = "throttle"  # 429 ThrottlingException
    RATE_LIMIT = "rate_limit"  # 429 ThrottlingException above rps calls per second
    TIMEOUT = "timeout"  # hold `seconds`, then 408 ModelTimeoutException
    ACCESS_DENIED = "access_denied"  # 403 AccessDeniedException
    NOT_FOUND = "not_found"  # 404 ResourceNotFoundException
    NOT_READY = "not_ready"  # 429 ModelNotReadyException
    MODEL_ERROR = "model_error"  # 424 ModelErrorException
    QUOTA_EXCEEDED = "quota_exceeded"  # 400 ServiceQuotaExceededException
    INTERNAL = "internal"  # 500 InternalServerException
    UNAVAILABLE = "unavailable"  # 503 ServiceUnavailableException
    MALFORMED = "malformed"  # 200 with a body that is not the model's answer (`message`, or cut-off JSON)


# What a malformed answer holds unless the rule's `message` says otherwise: a response cut off.
MALFORMED_BODY = '{"embedding": [0.0123, -0.0456, 0.07'


_ERRORS: dict[FaultKind, tuple[str, str]] = {
    FaultKind.THROTTLE: ("ThrottlingException", "Too many requests, please wait before trying again."),
    FaultKind.RATE_LIMIT: ("ThrottlingException", "Too many requests, please wait before trying again."),
    FaultKind.TIMEOUT: (
        "ModelTimeoutException",
        "Model has timed out in processing the request. Try your request again.",
    ),
    FaultKind.ACCESS_DENIED: (
        "AccessDeniedException",
        "You don't have access to the model with the specified model ID.",
    ),
    FaultKind.NOT_FOUND: ("ResourceNotFoundException", "The specified resource was not found."),
    FaultKind.NOT_READY: (
        "ModelNotReadyException",
        "Model is not ready for inference. Wait and try your request again.",
    ),
    FaultKind.MODEL_ERROR: ("ModelErrorException", "The model failed to process the request."),
    FaultKind.QUOTA_EXCEEDED: (
        "ServiceQuotaExceededException",
        "Your request exceeds the service quota for your account. You can resubmit your request later.",
    ),
    FaultKind.INTERNAL: (
        "InternalServerException",
        "The system encountered an unexpected error during processing. Try your request again.",
    ),
    FaultKind.UNAVAILABLE: ("ServiceUnavailableException", "Bedrock is unable to process your request."),
}


@dataclass
class Fault:
    kind: FaultKind
    model: str | None = None  # glob on the model id (e.g. "cohere.*"); None matches every call
    operation: str = "InvokeModel"  # glob on the operation name; "*" also hits the model listing
    every: int = 1  # act on the Nth, 2Nth, ... matching call
    times: int | None = None  # stop after acting this many times; None: never stop
    latency_ms: float = 0.0  # for latency
    seconds: float = 0.0  # for timeout: how long to hold the request before answering
    rps: float = 0.0  # for rate_limit: calls per second allowed (burst of max(1, rps))
    message: str | None = None  # overrides the Bedrock-like default message
    fraction: float = 1.0  # act on this share of the calls `every` selects (drawn by `seed`)
    seed: int = 0  # seeds the draws of `fraction`: the same seed, the same sequence of draws
    # Run-time state: not part of what a fault is, so equal rules compare equal.
    matched: int = field(default=0, init=False, compare=False)
    fired: int = field(default=0, init=False, compare=False)
    _tokens: float = field(default=0.0, init=False, repr=False, compare=False)
    _refilled: float = field(default=0.0, init=False, repr=False, compare=False)
    _draws: random.Random = field(default_factory=random.Random, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            self.kind = FaultKind(self.kind)
        except ValueError:
            raise ValueError(
                f"unknown fault kind {self.kind!r}; choose one of: {', '.join(k.value for k in FaultKind)}"
            ) from None
        # Values may come from JSON or the command line: coerce, so bad ones fail here.
        self.every = int(self.every)
        self.times = None if self.times is None else int(self.times)
        self.latency_ms, self.seconds, self.rps = float(self.latency_ms), float(self.seconds), float(self.rps)
        self.fraction, self.seed = float(self.fraction), int(self.seed)
        if not 0 < self.fraction <= 1:
            raise ValueError("fraction must be more than 0 and at most 1")
        if self.kind is FaultKind.RATE_LIMIT and self.fraction != 1:
            raise ValueError("a rate_limit fault acts on every call above its rate: fraction must be 1")
        self._draws.seed(self.seed)
        if self.every < 1:
            raise ValueError("every must be 1 or more")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be 1 or more (or null for no limit)")
        if self.kind is FaultKind.LATENCY and self.latency_ms <= 0:
            raise ValueError("a latency fault needs latency_ms > 0")
        if self.kind is FaultKind.RATE_LIMIT and self.rps <= 0:
            raise ValueError("a rate_limit fault needs rps > 0")
        if self.seconds < 0:
            raise ValueError("seconds must not be negative")
        self._tokens = max(1.0, self.rps)
        self._refilled = time.monotonic()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        known = {f.name for f in fields(cls) if f.init}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}; allowed: {sorted(known)}")
        if "kind" not in data:
            raise ValueError("a fault needs a kind")
        return cls(**data)

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """Read the CLI form KIND[:key=value,...], e.g. "throttle:every=5,model=cohere.*"."""
        kind, _, options = spec.partition(":")
        data: dict[str, Any] = {"kind": kind.strip()}
        for item in filter(None, (part.strip() for part in options.split(","))):
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"expected key=value in fault option {item!r}")
            data[key.strip()] = _parse_value(key.strip(), value.strip())
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
        data["kind"] = self.kind.value
        return data

    def describe(self) -> str:
        """Short form for logs: the kind and the options that differ from the defaults."""
        defaults = Fault(FaultKind.INTERNAL)
        options = [
            f"{f.name}={getattr(self, f.name)}"
            for f in fields(self)
            if f.init and f.name != "kind" and getattr(self, f.name) != getattr(defaults, f.name)
        ]
        return f"{self.kind.value}({', '.join(options)})"

    def matches(self, operation: str, model_id: str | None) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if not fnmatchcase(operation, self.operation):
            return False
        return self.model is None or (model_id is not None and fnmatchcase(model_id, self.model))

    def error(self, model_id: str | None) -> BedrockError:
        code, message = _ERRORS[self.kind]
        extra: dict[str, Any] = {}
        if self.kind is FaultKind.MODEL_ERROR:
            extra = {"originalStatusCode": 500, "resourceName": model_id or ""}
        return BedrockError(code, self.message or message, **extra)

    def drawn(self) -> bool:
        """Whether this selected call is in the `fraction` acted on (always, at 1); under the set's lock."""
        return self.fraction >= 1 or self._draws.random() < self.fraction

    def _admit(self, now: float) -> bool:
        """Token bucket for rate_limit: refill at rps, burst of max(1, rps)."""
        self._tokens = min(max(1.0, self.rps), self._tokens + (now - self._refilled) * self.rps)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


@dataclass(frozen=True)
class Outcome:
    """What the faults decided for one call: wait this long, then fail with error (if any),
    or answer 200 with the malformed body (if any) instead of the model's response."""

    delay: float = 0.0
    error: BedrockError | None = None
    malformed: str | None = None


class FaultSet:
    """The active faults, safe to change from any thread while calls are served."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = list(faults)

    def add(self, fault: Fault | str | FaultKind, **options: Any) -> Fault:
        """Add a rule: add(Fault(...)) or add("throttle", every=3, model="cohere.*")."""
        if not isinstance(fault, Fault):
            fault = Fault.from_dict({"kind": fault, **options})
        elif options:
            raise TypeError("pass options only with a fault kind, not with a Fault")
        with self._lock:
            self._faults.append(fault)
        return fault

    def extend(self, faults: Iterable[Fault]) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_dict() for fault in self._faults]

    def __iter__(self) -> Iterator[Fault]:
        with self._lock:
            return iter(list(self._faults))

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def check(self, operation: str, model_id: str | None) -> Outcome:
        now = time.monotonic()
        delay = 0.0
        error: BedrockError | None = None
        malformed: str | None = None
        with self._lock:
            for fault in self._faults:
                if not fault.matches(operation, model_id):
                    continue
                fault.matched += 1
                if fault.kind is FaultKind.RATE_LIMIT:
                    if error is None and not fault._admit(now):
                        fault.fired += 1
                        error = fault.error(model_id)
                    continue
                if fault.matched % fault.every or not fault.drawn():
                    continue
                if fault.kind is FaultKind.LATENCY:
                    fault.fired += 1
                    delay += fault.latency_ms / 1000
                elif fault.kind is FaultKind.MALFORMED:
                    if error is None and malformed is None:
                        fault.fired += 1
                        malformed = MALFORMED_BODY if fault.message is None else fault.message
                elif error is None and malformed is None:
                    fault.fired += 1
                    error = fault.error(model_id)
                    if fault.kind is FaultKind.TIMEOUT:
                        delay += fault.seconds
        return Outcome(delay, error, malformed)


def simple_faults(
    latency_ms: float = 0.0,
    throttle_every: int = 0,
    max_rps: float = 0.0,
    deny_models: Iterable[str] = (),
) -> list[Fault]:
    """The common faults from plain options (0 or empty: off), as the CLI flags give them."""
    faults = [Fault(FaultKind.ACCESS_DENIED, model=model) for model in deny_models]
    if latency_ms > 0:
        faults.append(Fault(FaultKind.LATENCY, latency_ms=latency_ms))
    if throttle_every > 0:
        faults.append(Fault(FaultKind.THROTTLE, every=throttle_every))
    if max_rps > 0:
        faults.append(Fault(FaultKind.RATE_LIMIT, rps=max_rps))
    return faults


def _parse_value(key: str, value: str) -> Any:
    if key in ("every", "times", "seed"):
        return int(value)
    if key in ("latency_ms", "seconds", "rps", "fraction"):
        return float(value)
    return value
