"""Embed a chunk's texts in calls of the model's size, keeping every call's own outcome.

Unlike a request to the API, which fails whole, a chunk keeps what succeeded: a text Bedrock
rejects (ValidationException, e.g. too many tokens) becomes a rejected line, found by halving
the call it was in; any other failure stops the calls not yet started and is returned with the
vectors already paid for, so the retry embeds only the rest. An interrupt (Ctrl-C) does the same:
no call starts after it, and the calls in flight are waited for and kept (they are paid for).

Each call still goes through the Embedder (codecs, retries, error mapping); only the scheduling is
here, because the embedder's own fan-out answers a request (all or nothing, or `partial` waiting
for every call) and has no per-call progress, reject isolation or stop-and-keep on a failure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from embedrock.aws_errors import error_code
from embedrock.embed_input import Item
from embedrock.embed_spec import EmbedSpec
from embedrock.encoding import to_lists
from embedrock.errors import ApiError, InvalidRequest

if TYPE_CHECKING:
    from embedrock.bedrock.embedder import Embedder  # a type only: the embedder loads at first use


@dataclass(frozen=True)
class Vector:
    embedding: list[Any]
    tokens: int


@dataclass
class FanOut:
    vectors: dict[int, Vector] = field(default_factory=dict)
    rejected: dict[int, InvalidRequest] = field(default_factory=dict)
    failure: ApiError | None = None
    interrupted: bool = False  # KeyboardInterrupt: what finished is here, the rest never started
    copies: set[int] = field(default_factory=set)  # vectors copied from an identical input, unbilled
    bedrock_calls: int = 0
    bedrock_ms: float = 0.0

    def merge(self, other: FanOut) -> None:
        self.vectors |= other.vectors
        self.rejected |= other.rejected
        self.copies |= other.copies
        self.bedrock_calls += other.bedrock_calls
        self.bedrock_ms += other.bedrock_ms


def embed_each_call(
    embedder: Embedder,
    spec: EmbedSpec,
    texts: Mapping[int, Item],
    *,
    max_concurrency: int,
    on_done: Callable[[int], None] | None = None,
) -> FanOut:
    """Vectors by the keys of `texts`; `on_done(n)` after each call, from the calling thread.

    Identical inputs are embedded once: the first carries the call's tokens, its copies get the
    same vector (or rejection) at no cost and are listed in `copies`.
    """
    first_of: dict[Item, int] = {}
    copies_of: dict[int, list[int]] = {}
    for index in sorted(texts):
        first = first_of.setdefault(texts[index], index)
        if first != index:
            copies_of.setdefault(first, []).append(index)
    outcome = _embed_distinct(
        embedder,
        spec,
        {index: texts[index] for index in first_of.values()},
        copies_of,
        max_concurrency=max_concurrency,
        on_done=on_done,
    )
    for first, copies in copies_of.items():
        for copy in copies:
            if first in outcome.vectors:
                outcome.vectors[copy] = Vector(outcome.vectors[first].embedding, 0)
                outcome.copies.add(copy)
            elif first in outcome.rejected:
                outcome.rejected[copy] = outcome.rejected[first]
    return outcome


def _embed_distinct(
    embedder: Embedder,
    spec: EmbedSpec,
    texts: Mapping[int, Item],
    copies_of: Mapping[int, list[int]],
    *,
    max_concurrency: int,
    on_done: Callable[[int], None] | None,
) -> FanOut:
    indices = sorted(texts)
    size = spec.model.max_texts_per_call
    groups = [indices[start : start + size] for start in range(0, len(indices), size)]
    outcome = FanOut()
    if not groups:
        return outcome
    stop = threading.Event()
    pool = ThreadPoolExecutor(max(1, min(max_concurrency, len(groups))), thread_name_prefix="ingest")
    futures: dict[Future[FanOut], int] = {}
    # Each call's result is kept by one assignment, so an interrupt never loses (nor counts twice) one.
    results: dict[Future[FanOut], FanOut] = {}
    try:
        for group in groups:
            # Progress counts the lines a call answers: its texts and their copies.
            lines = len(group) + sum(len(copies_of.get(index, ())) for index in group)
            futures[pool.submit(_group, embedder, spec, texts, group, stop)] = lines
        for future in as_completed(futures):
            try:
                results[future] = future.result()
            except CancelledError:
                continue
            except ApiError as error:
                if outcome.failure is None:
                    outcome.failure = error
                    _stop(stop, futures)
                continue
            if on_done is not None:
                on_done(futures[future])
    except KeyboardInterrupt:
        outcome.interrupted = True
        _stop(stop, futures)
        for future in futures.keys() - results.keys():
            try:
                results[future] = future.result()  # a call in flight: wait for what it paid for
            except (CancelledError, ApiError):
                continue
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    for result in results.values():
        outcome.merge(result)
    return outcome


def _stop(stop: threading.Event, futures: Mapping[Future[FanOut], int]) -> None:
    """No call starts after this (a call already started finishes)."""
    stop.set()
    for pending in futures:
        pending.cancel()


def _group(
    embedder: Embedder,
    spec: EmbedSpec,
    texts: Mapping[int, Item],
    group: Sequence[int],
    stop: threading.Event,
) -> FanOut:
    if stop.is_set():
        raise CancelledError
    try:
        result = embedder.embed(spec, [texts[index] for index in group])
    except InvalidRequest as error:
        if not rejected_by_bedrock(error):
            raise
        if len(group) == 1:
            return FanOut(rejected={group[0]: error})
        # One text of several was rejected: halve the call until that text stands alone.
        halves = FanOut()
        for half in (group[: len(group) // 2], group[len(group) // 2 :]):
            halves.merge(_group(embedder, spec, texts, half, stop))
        return halves
    rows: list[list[Any]] = to_lists(result.vectors)
    # Bedrock counts tokens per call: the first text of a call carries the call's count.
    tokens = [result.input_tokens] + [0] * (len(group) - 1)
    return FanOut(
        vectors={index: Vector(row, count) for index, row, count in zip(group, rows, tokens, strict=True)},
        bedrock_calls=result.bedrock_calls,
        bedrock_ms=result.bedrock_ms,
    )


def rejected_by_bedrock(error: InvalidRequest) -> bool:
    """Bedrock's ValidationException: this input can never succeed (unlike a quota or throttle)."""
    return error_code(error.__cause__) == "ValidationException"
