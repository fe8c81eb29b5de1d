"""One emulator: its shared state and a backend per service.

Hand-written because moto has no Bedrock; shaped like moto's: each service's backend holds
the operations, and both the HTTP server and the in-process clients call the same backends.
"""

from __future__ import annotations

from typing import Any

from .control_backend import ControlBackend
from .engines import Engine
from .faults import FaultSet
from .options import EmulatorOptions
from .runtime_backend import RuntimeBackend
from .s3vectors.backend import S3VectorsBackend
from .state import EmulatorState
from .stats import Stats


class Backends:
    def __init__(self, options: EmulatorOptions | None = None) -> None:
        self.options = options or EmulatorOptions()
        self.state = EmulatorState(
            self.options.make_engine(),
            FaultSet(self.options.all_faults()),
            Stats(),
            self.options.region,
            agreement_required=tuple(self.options.require_agreement),
            profile_only=frozenset(self.options.profile_only),
            extra_profiles=tuple(self.options.profiles),
        )
        self.runtime = RuntimeBackend(self.state)
        self.control = ControlBackend(self.state)
        self.s3vectors = S3VectorsBackend(self.options.data_dir, self.options.region)

    @property
    def engine(self) -> Engine:
        return self.state.engine

    @property
    def faults(self) -> FaultSet:
        return self.state.faults

    @property
    def stats(self) -> Stats:
        return self.state.stats

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "emulator": "embedrock", "engine": self.engine.name}

    def stop(self) -> None:
        """Wake calls held by latency or timeout faults; they end unanswered."""
        self.state.stopping.set()
        self.s3vectors.close()
