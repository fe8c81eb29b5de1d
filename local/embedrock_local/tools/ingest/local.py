"""The pipeline wired for one machine: a directory store, and the emulator (or real Bedrock)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from embedrock import pricing, wiring
from embedrock.ingest.layout import INPUT_PREFIX, input_file
from embedrock.ingest.pipeline import Outcome, Pipeline, Progress
from embedrock_local.environment import emulator_environment, environment_set
from embedrock_local.runtime.serve import LOCAL_VECTOR_BUCKET
from embedrock_local.tools.ingest.store import LOCAL_BUCKET, DirStore

if TYPE_CHECKING:
    from embedrock.bedrock.embedder import Embedder, EmbedResult
    from embedrock.embed_input import Item
    from embedrock.embed_spec import EmbedSpec
    from embedrock.vector_store.port import VectorStore

BedrockMode = Literal["emulator", "aws"]


@dataclass
class Usage:
    """The Bedrock calls this process made, and their tokens and estimated cost (for an interrupt's report)."""

    calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, spec: EmbedSpec, result: EmbedResult) -> None:
        with self._lock:
            self.calls += result.bedrock_calls
            self.tokens += result.input_tokens
            self.cost_usd = pricing.round_usd(
                self.cost_usd + pricing.cost_usd(spec.model, result.input_tokens, images=result.images)
            )


@dataclass(frozen=True)
class _Counted:
    embedder: Embedder
    usage: Usage

    def embed(self, spec: EmbedSpec, texts: Sequence[Item], *, partial: bool = False) -> EmbedResult:
        result = self.embedder.embed(spec, texts, partial=partial)
        self.usage.add(spec, result)
        return result


class LocalIngest:
    """Starts the emulator in this process (unless `aws`) and wires a Bedrock client to it.

    The pieces come from the composition root with settings of this run's own; the process's
    environment and the root's shared slots are left as they were.

    A file that names a collection fills it in the emulator's S3 Vectors store: the one `make run`
    serves (the same data directory, and its vector bucket), so `embedrock collections create`
    and `embedrock search` see the same collections. With `aws`, EMBEDROCK_VECTOR_BUCKET names
    the bucket (unset: such a file is rejected).
    """

    def __init__(
        self,
        *,
        out: Path,
        bedrock: BedrockMode = "emulator",
        engine: str = "hash",
        concurrency: int = 8,
        usage: Usage | None = None,
        bucket: str = LOCAL_BUCKET,
    ) -> None:
        from embedrock import settings
        from embedrock.observability import record_throttle
        from embedrock_local.runtime.emulator import Emulator, EmulatorOptions

        self.out = out
        self.bucket = bucket
        self.usage = usage if usage is not None else Usage()
        self.emulator = Emulator(EmulatorOptions(engine=engine)) if bedrock == "emulator" else None
        local = {"EMBEDROCK_VECTOR_BUCKET": LOCAL_VECTOR_BUCKET} if self.emulator else {}
        self.settings = settings.load({**os.environ, **local, "EMBEDROCK_MAX_CONCURRENCY": str(concurrency)})
        with self._pointed():
            runtime = wiring.build_runtime_client(self.settings)
        self.embedder = wiring.build_embedder(runtime, self.settings, on_throttle=record_throttle)
        self._vector_store: VectorStore | None = None

    def _pointed(self) -> AbstractContextManager[None]:
        """boto3 reads endpoint and credentials when a client is made: the emulator's for that moment."""
        return environment_set(emulator_environment(self.emulator.url)) if self.emulator else nullcontext()

    def vector_store(self) -> VectorStore:
        """The collections' store, built the first time a file names a collection."""
        bucket = self.settings.vector_bucket
        assert bucket is not None  # the pipeline asks only when there is one
        if self._vector_store is None:
            with self._pointed():
                self._vector_store = wiring.build_vector_store(self.settings, bucket)
        return self._vector_store

    def ingest(
        self, file: Path, *, metadata: dict[str, str], chunk_lines: int, progress: Progress | None = None
    ) -> Outcome:
        key = f"{INPUT_PREFIX}{file.name}"
        files = {key: (file, metadata)}
        data_file = input_file(key)
        if data_file is not None:  # the sidecar sits next to the file, as it does in S3
            files[data_file.sidecar_key] = (file.with_name(PurePosixPath(data_file.sidecar_key).name), {})
        # FILE's directory stands for input/: s3://<bucket>/input/<path> images are files under it.
        store = DirStore(self.out, files, inputs=file.parent, bucket=self.bucket)
        store.remove_stale_temporaries()  # of a run killed mid-write; its work area itself is resumed
        pipeline = Pipeline(
            store=store,
            embedder=_Counted(self.embedder, self.usage),
            default_model_id=self.settings.default_model_id,
            max_concurrency=self.settings.max_concurrency,
            chunk_lines=chunk_lines,
            progress=progress,
            allowed_profiles=self.settings.inference_profiles,
            vector_store=self.vector_store if self.settings.vector_bucket is not None else None,
        )
        return pipeline.ingest(key)

    def close(self) -> None:
        if self.emulator is not None:
            self.emulator.close()

    def __enter__(self) -> LocalIngest:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
