"""Evaluation sets: STS pairs (score, sentence1, sentence2) and BEIR-style retrieval sets.

Named sets (stsb, stsb-dev, scifact) are read from the data directory ($EMBEDROCK_DATA); a
path names the user's own files in the same formats. Every format error names file and line.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STS_HEADER = ["score", "sentence1", "sentence2"]
QRELS_HEADER = ["query-id", "corpus-id", "score"]
# A retrieval subset under --limit keeps this many other documents per query as distractors.
DISTRACTORS_PER_QUERY = 10


class DatasetError(ValueError):
    """A data set that is missing or malformed; the message names the file (and line)."""


@dataclass(frozen=True)
class StsDataset:
    name: str
    pairs: list[tuple[str, str]]
    gold: list[float]

    kind = "sts"

    def texts(self) -> list[str]:
        """Every distinct sentence once, in first-seen order."""
        return list(dict.fromkeys(text for pair in self.pairs for text in pair))


@dataclass(frozen=True)
class RetrievalDataset:
    name: str
    corpus: dict[str, str]  # id -> text to embed (title and text joined, as BEIR does)
    queries: dict[str, str]  # only queries with judgements, as BEIR evaluates
    qrels: dict[str, dict[str, int]]  # query id -> {document id: graded relevance}

    kind = "retrieval"


Dataset = StsDataset | RetrievalDataset
NAMED = {"stsb": "stsb-test.tsv", "stsb-dev": "stsb-dev.tsv", "scifact": "scifact"}


def resolve(name_or_path: str, data_dir: Path) -> tuple[str, Path]:
    """The display name and the file or directory of a named set or a path."""
    if name_or_path in NAMED:
        return name_or_path, data_dir / NAMED[name_or_path]
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise DatasetError(
            f"{name_or_path}: no such file or directory; name one of {', '.join(NAMED)} "
            "or a path to an STS .tsv file or a BEIR-style directory."
        )
    return path.stem if path.is_file() else path.name, path


def load(name: str, path: Path, limit: int | None = None) -> Dataset:
    if path.is_dir():
        return load_retrieval(name, path, limit)
    return load_sts(name, path, limit)


def load_sts(name: str, path: Path, limit: int | None = None) -> StsDataset:
    pairs: list[tuple[str, str]] = []
    gold: list[float] = []
    for line_no, fields in _tsv(path, STS_HEADER):
        score = _number(fields[0], path, line_no, "score")
        if not fields[1].strip() or not fields[2].strip():
            raise DatasetError(f"{path}:{line_no}: sentence1 and sentence2 must not be empty.")
        pairs.append((fields[1], fields[2]))
        gold.append(score)
        if limit is not None and len(pairs) >= limit:
            break
    if len(pairs) < 2:
        raise DatasetError(f"{path}: needs at least 2 scored pairs to correlate, found {len(pairs)}.")
    return StsDataset(name, pairs, gold)


def load_retrieval(name: str, directory: Path, limit: int | None = None) -> RetrievalDataset:
    corpus = {
        doc_id: (str(row.get("title") or "") + " " + row["text"]).strip()
        for doc_id, row in _jsonl(directory / "corpus.jsonl", ("text",)).items()
    }
    queries = {
        query_id: row["text"] for query_id, row in _jsonl(directory / "queries.jsonl", ("text",)).items()
    }
    qrels_path = next(
        (p for p in (directory / "qrels-test.tsv", directory / "qrels" / "test.tsv") if p.is_file()), None
    )
    if qrels_path is None:
        raise DatasetError(f"{directory}: no qrels-test.tsv (or qrels/test.tsv) with relevance judgements.")
    qrels: dict[str, dict[str, int]] = {}
    for line_no, (query_id, doc_id, score) in _tsv(qrels_path, QRELS_HEADER):
        if query_id not in queries:
            raise DatasetError(f"{qrels_path}:{line_no}: query-id {query_id!r} is not in queries.jsonl.")
        if doc_id not in corpus:
            raise DatasetError(f"{qrels_path}:{line_no}: corpus-id {doc_id!r} is not in corpus.jsonl.")
        relevance = _number(score, qrels_path, line_no, "score")
        if relevance != int(relevance):
            raise DatasetError(f"{qrels_path}:{line_no}: score must be an integer, got {score!r}.")
        qrels.setdefault(query_id, {})[doc_id] = int(relevance)
    # Evaluate the judged queries with at least one relevant document, in queries.jsonl order.
    judged = [q for q in queries if any(r > 0 for r in qrels.get(q, {}).values())]
    if not judged:
        raise DatasetError(f"{qrels_path}: no query has a relevant (score > 0) document.")
    if limit is not None:
        judged = judged[:limit]
        keep = {doc for q in judged for doc in qrels[q]}
        keep.update([doc for doc in corpus if doc not in keep][: DISTRACTORS_PER_QUERY * len(judged)])
        corpus = {doc: text for doc, text in corpus.items() if doc in keep}
    return RetrievalDataset(name, corpus, {q: queries[q] for q in judged}, {q: qrels[q] for q in judged})


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found.") from None
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}).") from None


def _tsv(path: Path, header: list[str]) -> list[tuple[int, list[str]]]:
    """(line number, fields) of each data line; blank lines are skipped, anything else checked."""
    lines = _lines(path)
    if [field.strip() for field in lines[0].rstrip("\r").split("\t")] != header:
        raise DatasetError(f"{path}:1: expected the header {'<TAB>'.join(header)!r}, got {lines[0][:80]!r}.")
    rows: list[tuple[int, list[str]]] = []
    for line_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.rstrip("\r").split("\t")
        if len(fields) != len(header):
            raise DatasetError(
                f"{path}:{line_no}: expected {len(header)} tab-separated fields "
                f"({', '.join(header)}), found {len(fields)}."
            )
        rows.append((line_no, fields))
    return rows


def _jsonl(path: Path, required: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for line_no, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(f"{path}:{line_no}: not valid JSON ({error.msg}).") from None
        if not isinstance(row, dict) or not isinstance(row.get("_id"), str | int):
            raise DatasetError(f'{path}:{line_no}: expected an object with an "_id" string.')
        for key in required:
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise DatasetError(f'{path}:{line_no}: "{key}" must be a non-empty string.')
        doc_id = str(row["_id"])
        if doc_id in rows:
            raise DatasetError(f"{path}:{line_no}: duplicate _id {doc_id!r}.")
        rows[doc_id] = row
    return rows


def _number(value: str, path: Path, line_no: int, field: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise DatasetError(f"{path}:{line_no}: {field} must be a number, got {value!r}.")
    return number
