"""The emulator's options, one object for the HTTP runner, the CLI and in-process mode."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

from embedrock import catalog, inference_profiles

from .engines import Engine, engines, make_engine
from .faults import Fault, FaultKind, simple_faults


def default_data_dir() -> Path:
    """$EMBEDROCK_EMULATOR_DATA, else the user's state directory (XDG): the store outlives restarts."""
    explicit = os.environ.get("EMBEDROCK_EMULATOR_DATA")
    if explicit:
        return Path(explicit)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "embedrock" / "emulator"


@dataclass
class EmulatorOptions:
    """What the emulator computes with and which faults it starts with (0 or empty: off)."""

    engine: str | Engine = "hash"  # what computes the vectors (hash: deterministic)
    faults: list[Fault] = field(default_factory=list)
    latency_ms: float = 0.0  # added to every InvokeModel call
    throttle_every: int = 0  # every Nth InvokeModel call answers 429 ThrottlingException
    max_rps: float = 0.0  # InvokeModel calls above this rate answer 429
    deny_models: list[str] = field(default_factory=list)  # globs answered 403 AccessDeniedException
    region: str = "us-east-1"  # region in model ARNs when the caller's is unknown
    verbose: bool = False  # log every HTTP request
    # Model access: globs of models whose Marketplace agreement is missing until requested (403 on
    # InvokeModel, NOT_AVAILABLE in GetFoundationModelAvailability); catalog models offered through
    # inference profiles only; inference profile ids served beyond the system-defined ones.
    require_agreement: list[str] = field(default_factory=list)
    profile_only: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    # Where the S3 Vectors backend keeps its SQLite store; it persists across restarts.
    data_dir: Path = field(default_factory=default_data_dir)

    def __post_init__(self) -> None:
        for model_id in self.profile_only:
            if catalog.find(model_id) is None:
                raise ValueError(
                    f"profile-only model {model_id!r} is not in the catalog: {', '.join(catalog.model_ids())}"
                )
        for profile in self.profiles:
            model_id, geography = inference_profiles.parse(profile)
            if geography is None or catalog.find(model_id) is None:
                raise ValueError(
                    f"{profile!r} is not an inference profile id of a catalog model "
                    f"({inference_profiles.example_ids()})"
                )

    def make_engine(self) -> Engine:
        return make_engine(self.engine) if isinstance(self.engine, str) else self.engine

    def all_faults(self) -> list[Fault]:
        return [
            *self.faults,
            *simple_faults(self.latency_ms, self.throttle_every, self.max_rps, self.deny_models),
        ]

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """The command-line flags of every option (the CLI reads them back with from_args)."""
        parser.add_argument(
            "--engine",
            default="hash",
            choices=sorted(engines),
            help="what computes the vectors (hash: deterministic)",
        )
        parser.add_argument(
            "--region", default="us-east-1", help="region in model ARNs when the caller's is unknown"
        )
        parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every InvokeModel call")
        parser.add_argument(
            "--throttle-every",
            type=int,
            default=0,
            metavar="N",
            help="answer every Nth InvokeModel call with 429 ThrottlingException",
        )
        parser.add_argument(
            "--max-rps",
            type=float,
            default=0.0,
            metavar="R",
            help="throttle InvokeModel calls above R per second (429)",
        )
        parser.add_argument(
            "--deny-model",
            action="append",
            default=[],
            metavar="MODEL_ID",
            help="answer calls to this model (glob, e.g. 'cohere.*') with 403 AccessDeniedException; repeatable",
        )
        parser.add_argument(
            "--fault",
            action="append",
            default=[],
            metavar="KIND[:key=value,...]",
            type=_fault,
            help=(
                f"any fault; repeatable. KIND: {', '.join(k.value for k in FaultKind)}. keys: model (glob), "
                "operation (glob, default InvokeModel), every (Nth call), times (max), latency_ms, seconds "
                "(timeout hold), rps, message, fraction (share of calls, drawn by seed), seed. Examples: "
                "timeout:seconds=5,every=3; a heavy tail: latency:latency_ms=2000,fraction=0.01,seed=7"
            ),
        )
        parser.add_argument(
            "--require-agreement",
            action="append",
            default=[],
            metavar="MODEL_ID",
            help="this model (glob) needs its Marketplace agreement (`embedrock models request-access`) "
            "before InvokeModel works; repeatable",
        )
        parser.add_argument(
            "--profile-only",
            action="append",
            default=[],
            metavar="MODEL_ID",
            help="offer this catalog model through inference profiles only: its own id is refused; repeatable",
        )
        parser.add_argument(
            "--profile",
            action="append",
            default=[],
            metavar="PROFILE_ID",
            help="also serve this inference profile id (e.g. us.amazon.titan-embed-text-v2:0); repeatable",
        )
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help=f"where the S3 Vectors store lives (default {default_data_dir()}); delete it to wipe the data",
        )
        parser.add_argument("--verbose", action="store_true", help="log every request")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> EmulatorOptions:
        return cls(
            engine=args.engine,
            faults=list(args.fault),
            latency_ms=args.latency_ms,
            throttle_every=args.throttle_every,
            max_rps=args.max_rps,
            deny_models=list(args.deny_model),
            region=args.region,
            verbose=args.verbose,
            require_agreement=list(args.require_agreement),
            profile_only=list(args.profile_only),
            profiles=list(args.profile),
            data_dir=args.data_dir or default_data_dir(),
        )


def _fault(spec: str) -> Fault:
    try:
        return Fault.parse(spec)
    except (TypeError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None
