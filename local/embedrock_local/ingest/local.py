"""The pipeline wired for one machine: a directory store, and the emulator (or real Bedrock)."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Literal

from embedrock.api import dependencies
from embedrock.ingest.layout import INPUT_PREFIX, input_file
from embedrock.ingest.pipeline import Outcome, Pipeline, Progress
from embedrock_local.ingest.store import DirStore

BedrockMode = Literal["emulator", "aws"]


class LocalIngest:
    """Starts the emulator in this process (unless `aws`) and points the Bedrock client at it."""

    def __init__(
        self, *, out: Path, bedrock: BedrockMode = "emulator", engine: str = "hash", concurrency: int = 8
    ) -> None:
        from embedrock import settings
        from embedrock_local.emulator import Emulator
        from embedrock_local.runtime import function_environment

        self.out = out
        self.emulator = Emulator("127.0.0.1", 0, engine) if bedrock == "emulator" else None
        if self.emulator is not None:
            environment = function_environment(self.emulator.url)
            os.environ.update({name: value for name, value in environment.items() if name.startswith("AWS_")})
        config = settings.load({**os.environ, "EMBEDROCK_MAX_CONCURRENCY": str(concurrency)})
        dependencies.reset()
        dependencies.override(settings=config)

    def ingest(
        self, file: Path, *, metadata: dict[str, str], chunk_lines: int, progress: Progress | None = None
    ) -> Outcome:
        key = f"{INPUT_PREFIX}{file.name}"
        files = {key: (file, metadata)}
        data_file = input_file(key)
        if data_file is not None:  # the sidecar sits next to the file, as it does in S3
            files[data_file.sidecar_key] = (file.with_name(PurePosixPath(data_file.sidecar_key).name), {})
        config = dependencies.settings()
        store = DirStore(self.out, files)
        store.remove_stale_temporaries()  # of a run killed mid-write; its work area itself is resumed
        pipeline = Pipeline(
            store=store,
            embedder=dependencies.embedder(),
            default_model_id=config.default_model_id,
            max_concurrency=config.max_concurrency,
            chunk_lines=chunk_lines,
            progress=progress,
        )
        return pipeline.ingest(key)

    def close(self) -> None:
        dependencies.reset()
        if self.emulator is not None:
            self.emulator.close()

    def __enter__(self) -> LocalIngest:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
