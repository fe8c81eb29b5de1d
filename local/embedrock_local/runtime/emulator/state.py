"""What the emulator's service backends share: the engine, the faults, the stats, the region."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .engines import Engine
from .faults import FaultSet
from .stats import Stats


class Dropped(Exception):
    """The emulator is stopping while this call waited on a fault: it ends without an answer."""


@dataclass
class EmulatorState:
    engine: Engine
    faults: FaultSet
    stats: Stats
    region: str  # in model ARNs when the caller's is unknown
    stopping: threading.Event = field(default_factory=threading.Event)
    # Model access (access.py): globs of models that need an agreement until one is created, the
    # agreements created, profile-only models, and profiles beyond the system-defined ones.
    agreement_required: tuple[str, ...] = ()
    agreements: set[str] = field(default_factory=set)
    profile_only: frozenset[str] = frozenset()
    extra_profiles: tuple[str, ...] = ()
    lock: threading.Lock = field(default_factory=threading.Lock)

    def apply_faults(self, operation: str, model_id: str | None) -> str | None:
        """Wait and raise as the faults decide; the malformed body to answer with, if any."""
        outcome = self.faults.check(operation, model_id)
        if outcome.delay > 0 and self.stopping.wait(outcome.delay):
            raise Dropped
        if outcome.error is not None:
            raise outcome.error
        return outcome.malformed
