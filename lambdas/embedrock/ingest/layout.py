"""Where everything lives in the bucket: input, output, and the work area of each run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

INPUT_PREFIX = "input/"
OUTPUT_PREFIX = "output/"
WORK_PREFIX = "work/"
SIDECAR_SUFFIX = ".config.json"
JSON = "application/json"
JSONL = "application/x-ndjson"


class Format(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    TXT = "txt"


FORMATS = {f".{fmt.value}": fmt for fmt in Format}


@dataclass(frozen=True)
class InputFile:
    """A data file under input/: its name (path below input/, extension included) and format.

    Outputs are keyed by the whole name, so docs.jsonl and docs.csv never share an output:
    input/docs.jsonl -> output/docs.jsonl.jsonl and output/docs.jsonl.manifest.json. The sidecar
    is shared by the name without its extension (input/docs.config.json).
    """

    key: str
    name: str
    format: Format | None  # None: an extension the pipeline does not read

    @property
    def output_key(self) -> str:
        return f"{OUTPUT_PREFIX}{self.name}.jsonl"

    @property
    def manifest_key(self) -> str:
        return f"{OUTPUT_PREFIX}{self.name}.manifest.json"

    @property
    def sidecar_key(self) -> str:
        stem = PurePosixPath(self.name)
        return f"{INPUT_PREFIX}{stem.with_suffix('') if stem.suffix else stem}{SIDECAR_SUFFIX}"


def input_file(key: str) -> InputFile | None:
    """The data file at `key`, or None for what is not one: sidecars, folders, keys outside input/."""
    if not key.startswith(INPUT_PREFIX) or key.endswith("/") or key.endswith(SIDECAR_SUFFIX):
        return None
    name = key[len(INPUT_PREFIX) :]
    return InputFile(key=key, name=name, format=FORMATS.get(PurePosixPath(name).suffix.lower()))


@dataclass(frozen=True)
class RunKeys:
    """The work area of one run: its plan, and per chunk its input, partial and final results."""

    run_id: str

    @property
    def prefix(self) -> str:
        return f"{WORK_PREFIX}{self.run_id}/"

    @property
    def plan(self) -> str:
        return f"{self.prefix}plan.json"

    @property
    def results_prefix(self) -> str:
        return f"{self.prefix}results/"

    @property
    def pruned(self) -> str:
        # Written when the run is published and its chunks' data deleted: only plan and results remain.
        return f"{self.prefix}pruned.json"

    def kept_after_publishing(self, key: str) -> bool:
        """The plan, results and marker: small, and all a late message or a re-run needs."""
        return key in (self.plan, self.pruned) or key.startswith(self.results_prefix)

    def chunk_input(self, n: int) -> str:
        return f"{self.prefix}chunks/{n:06d}.jsonl"

    def chunk_partial(self, n: int) -> str:
        return f"{self.prefix}partial/{n:06d}.jsonl"

    def chunk_output(self, n: int) -> str:
        return f"{self.prefix}output/{n:06d}.jsonl"

    def chunk_result(self, n: int) -> str:
        # Written last for a chunk: its presence means the chunk's output is complete.
        return f"{self.results_prefix}{n:06d}.json"

    def batch_input(self, j: int) -> str:
        return f"{self.prefix}batch/{j:04d}/records.jsonl"

    def batch_job(self, j: int) -> str:
        return f"{self.prefix}batch/{j:04d}/job.json"

    def batch_output_prefix(self, j: int) -> str:
        return f"{self.prefix}batch/{j:04d}/output/"


_BATCH_OUTPUT = re.compile(rf"^{WORK_PREFIX}(?P<run>[0-9a-f]{{64}})/batch/(?P<j>[0-9]{{4}})/output/?$")


def batch_job_of(output_key: str) -> tuple[str, int] | None:
    """(run id, job number) of a batch job's output prefix, or None if it is not one of ours."""
    found = _BATCH_OUTPUT.match(output_key)
    return (found["run"], int(found["j"])) if found else None
