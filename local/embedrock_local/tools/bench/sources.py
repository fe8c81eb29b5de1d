"""Fetch a named data set that is missing locally from its public home, into the data layout.

STS-B comes from PhilipMay/stsb-multi-mt at a fixed commit (checked by sha256), converted from
its headerless CSV to our TSV; SciFact from BEIR's release zip (corpus, queries, test qrels).
See shared/data/README.md for provenance and licences: internal evaluation only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .datasets import NAMED, DatasetError

_STSB = (
    "https://raw.githubusercontent.com/PhilipMay/stsb-multi-mt/30de0dec4ee199b7f42351d3f1a0b19592955385/data/"
)
_BEIR = "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/"
_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Source:
    url: str
    sha256: str | None
    install: Callable[[bytes, Path], None]  # writes the downloaded bytes into the target path


def _stsb_csv_to_tsv(raw: bytes, target: Path) -> None:
    """Upstream rows are `sentence1,sentence2,score` (CSV quoting); ours are score<TAB>s1<TAB>s2."""
    out = io.StringIO(newline="")
    out.write("\t".join(("score", "sentence1", "sentence2")) + "\n")
    for line_no, row in enumerate(csv.reader(io.StringIO(raw.decode("utf-8"))), start=1):
        if len(row) != 3:
            raise DatasetError(f"downloaded STS-B CSV line {line_no}: expected 3 fields, found {len(row)}.")
        first, second, score = (field.strip() for field in row)
        out.write(f"{float(score)!r}\t{first}\t{second}\n")
    _write(target, out.getvalue().encode("utf-8"))


def _beir_zip(raw: bytes, target: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        names = {Path(name).relative_to(Path(name).parts[0]).as_posix(): name for name in archive.namelist()}
        wanted = {
            "corpus.jsonl": "corpus.jsonl",
            "queries.jsonl": "queries.jsonl",
            "qrels/test.tsv": "qrels-test.tsv",
        }
        missing = [name for name in wanted if name not in names]
        if missing:
            raise DatasetError(f"the downloaded BEIR zip lacks {', '.join(missing)}.")
        for inner, outer in wanted.items():
            _write(target / outer, archive.read(names[inner]).replace(b"\r\n", b"\n"))


SOURCES: dict[str, Source] = {
    "stsb": Source(
        _STSB + "stsb-en-test.csv",
        "11523b625219e94e9ca05d2816b5f02cac1614c5894fe657376fa0806378d053",
        _stsb_csv_to_tsv,
    ),
    "stsb-dev": Source(
        _STSB + "stsb-en-dev.csv",
        "d29586e96558c4eb52cf5ea5d14e9c24d3bf0e44f111b017caba43a5adc33226",
        _stsb_csv_to_tsv,
    ),
    "scifact": Source(_BEIR + "scifact.zip", None, _beir_zip),
}
assert set(SOURCES) == set(NAMED)


def fetch(name: str, data_dir: Path, opener: Callable[[str], bytes] | None = None) -> Path:
    """Download `name` into data_dir (atomically per file) and return its path there."""
    source = SOURCES[name]
    target = data_dir / NAMED[name]
    try:
        raw = (opener or _download)(source.url)
    except OSError as error:
        raise DatasetError(
            f"data set {name!r} is not in {data_dir} and could not be downloaded from {source.url} "
            f"({error}). Put the files there (see the data README) or set EMBEDROCK_DATA."
        ) from None
    digest = hashlib.sha256(raw).hexdigest()
    if source.sha256 is not None and digest != source.sha256:
        raise DatasetError(f"{source.url}: sha256 {digest} does not match the expected {source.sha256}.")
    source.install(raw, target)
    return target


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response:
        data: bytes = response.read()
        return data


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)
