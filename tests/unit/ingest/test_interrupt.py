"""Ctrl-C in the middle of a chunk: what was paid for is kept, and the re-run pays for the rest only."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import embedrock.observability  # noqa: F401 - at collection: its X-Ray emitter opens a (UDP) socket
from embedrock import wiring
from embedrock.bedrock.embedder import Embedder, EmbedResult
from embedrock.embed_spec import EmbedSpec
from embedrock.ingest.chunk import ChunkInterrupted
from embedrock.ingest.pipeline import Pipeline
from embedrock_local.tools.ingest.store import DirStore
from tests.fakes import FakeBedrockRuntime

TITAN_V2 = "amazon.titan-embed-text-v2:0"
LINES = 50
KEY = "input/x.txt"


@dataclass
class SigintAfter:
    """Sends the main thread SIGINT, as a terminal's Ctrl-C does, once `after` calls returned."""

    embedder: Embedder
    after: int
    returned: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def embed(self, spec: EmbedSpec, texts: Sequence[str], *, partial: bool = False) -> EmbedResult:
        result = self.embedder.embed(spec, texts, partial=partial)
        with self._lock:
            self.returned += 1
            if self.returned == self.after:
                main = threading.main_thread().ident
                assert main is not None
                signal.pthread_kill(main, signal.SIGINT)
        return result


@pytest.fixture(autouse=True)
def ctrl_c_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt here even when the suite was started with SIGINT ignored
    (a shell's background job), as it does at a terminal."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def pipeline(out: Path, source: Path, embedder: Embedder) -> Pipeline:
    return Pipeline(
        store=DirStore(out, {KEY: (source, {})}),
        embedder=embedder,
        default_model_id=TITAN_V2,
        max_concurrency=4,
        chunk_lines=20,
    )


def test_an_interrupt_keeps_the_finished_calls_of_the_chunk_in_progress(
    tmp_path: Path, bedrock: FakeBedrockRuntime
) -> None:
    # Given a 50-line file in chunks of 20, and Ctrl-C after the 25th call (in the second chunk)
    source = tmp_path / "x.txt"
    source.write_text("".join(f"text {i}\n" for i in range(1, LINES + 1)))
    # 20 ms per call: the 15 calls left in the chunk take ~75 ms, time for the main thread to take
    # the signal even on a loaded machine
    bedrock.latency_seconds = 0.02
    # When it is ingested, Then the interrupt stops it
    with pytest.raises(ChunkInterrupted, match=r"chunk 1 .* then interrupted"):
        pipeline(tmp_path / "out", source, SigintAfter(wiring.embedder(), after=25)).ingest(KEY)
    first = len(bedrock.calls)
    assert 25 <= first < LINES
    # When it is ingested again
    outcome = pipeline(tmp_path / "out", source, wiring.embedder()).ingest(KEY)
    # Then it completes having sent each text once in all, and the manifest counts both runs' calls
    assert outcome.status == "complete" and outcome.manifest is not None
    assert sorted(body["inputText"] for _, body in bedrock.calls) == sorted(f"text {i}" for i in range(1, 51))
    assert outcome.manifest.counts.bedrock_calls == LINES
    assert outcome.manifest.counts.embedded == LINES
