"""Data set loaders on small fixtures: formats, limits, and errors that name file and line."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from embedrock_local.tools.bench import datasets, sources
from embedrock_local.tools.bench.datasets import DatasetError, RetrievalDataset, StsDataset

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bench"
HEADER = "score\tsentence1\tsentence2\n"


def test_sts_fixture_loads_pairs_scores_and_distinct_texts():
    dataset = datasets.load("sts", FIXTURES / "sts.tsv")
    assert isinstance(dataset, StsDataset)
    assert len(dataset.pairs) == 6
    assert dataset.gold[:3] == pytest.approx([5.0, 3.8, 3.8])
    assert dataset.pairs[0] == ("A man is playing a guitar.", "A man plays the guitar.")
    # "A man is playing a guitar." appears twice but is embedded once.
    assert len(dataset.texts()) == 11


def test_sts_limit_keeps_the_first_pairs():
    assert len(datasets.load_sts("sts", FIXTURES / "sts.tsv", limit=2).pairs) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (HEADER + "4.0\tonly two fields\n", r"sts\.tsv:2: expected 3 tab-separated fields"),
        (HEADER + "1.0\ta\tb\nhigh\ta\tb\n", r"sts\.tsv:3: score must be a number, got 'high'"),
        (HEADER + "1.0\ta\tb\nnan\ta\tb\n", r"sts\.tsv:3: score must be a number"),
        (HEADER + "1.0\ta\tb\n2.0\t \tb\n", r"sts\.tsv:3: sentence1 and sentence2 must not be empty"),
        ("sentence1,sentence2,score\n", r"sts\.tsv:1: expected the header"),
        (HEADER + "1.0\ta\tb\n", r"sts\.tsv: needs at least 2 scored pairs"),
    ],
)
def test_malformed_sts_lines_are_named(tmp_path, content, message):
    path = tmp_path / "sts.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        datasets.load_sts("sts", path)


def test_sts_blank_lines_and_crlf_are_accepted(tmp_path):
    path = tmp_path / "sts.tsv"
    path.write_text(HEADER.replace("\n", "\r\n") + "1.0\ta\tb\r\n\n2.0\tc\td\r\n", encoding="utf-8")
    assert datasets.load_sts("sts", path).pairs == [("a", "b"), ("c", "d")]


def test_non_utf8_file_is_named(tmp_path):
    path = tmp_path / "sts.tsv"
    path.write_bytes(HEADER.encode() + b"1.0\t\xff\tb\n")
    with pytest.raises(DatasetError, match=r"sts\.tsv: not UTF-8"):
        datasets.load_sts("sts", path)


def test_retrieval_fixture_keeps_judged_queries_with_a_relevant_document():
    dataset = datasets.load("retrieval", FIXTURES / "retrieval")
    assert isinstance(dataset, RetrievalDataset)
    # q0 has no judgements and q4 only a non-relevant one: neither is evaluated.
    assert list(dataset.queries) == ["q1", "q2", "q3"]
    assert dataset.qrels["q1"] == {"d1": 2, "d4": 1}
    # Title and text joined with a space, as BEIR embeds documents; a missing title is no error.
    assert (
        dataset.corpus["d1"]
        == "Vitamin D and bones Vitamin D supplements improve bone density in older adults."
    )
    assert dataset.corpus["d4"].startswith("Calcium")
    assert dataset.corpus["d7"].startswith("Antibiotics")


def test_retrieval_limit_keeps_relevant_documents_plus_distractors():
    dataset = datasets.load_retrieval("retrieval", FIXTURES / "retrieval", limit=1)
    assert list(dataset.queries) == ["q1"]
    assert {"d1", "d4"} <= set(dataset.corpus)
    assert len(dataset.corpus) == min(8, 2 + datasets.DISTRACTORS_PER_QUERY)


def copy_retrieval(tmp_path: Path) -> Path:
    target = tmp_path / "set"
    target.mkdir()
    for name in ("corpus.jsonl", "queries.jsonl", "qrels-test.tsv"):
        (target / name).write_bytes((FIXTURES / "retrieval" / name).read_bytes())
    return target


@pytest.mark.parametrize(
    ("file", "line", "message"),
    [
        ("corpus.jsonl", '{"_id": "d9", "text": "unterminated', r"corpus\.jsonl:9: not valid JSON"),
        ("corpus.jsonl", '{"text": "no id"}', r'corpus\.jsonl:9: expected an object with an "_id"'),
        ("corpus.jsonl", '{"_id": "d9", "text": ""}', r'corpus\.jsonl:9: "text" must be a non-empty string'),
        ("corpus.jsonl", '{"_id": "d1", "text": "again"}', r"corpus\.jsonl:9: duplicate _id 'd1'"),
        ("queries.jsonl", "[1, 2]", r'queries\.jsonl:6: expected an object with an "_id"'),
        ("qrels-test.tsv", "q1\td99\t1", r"qrels-test\.tsv:7: corpus-id 'd99' is not in corpus\.jsonl"),
        ("qrels-test.tsv", "q99\td1\t1", r"qrels-test\.tsv:7: query-id 'q99' is not in queries\.jsonl"),
        ("qrels-test.tsv", "q1\td2\t0.5", r"qrels-test\.tsv:7: score must be an integer"),
        ("qrels-test.tsv", "q1\td2", r"qrels-test\.tsv:7: expected 3 tab-separated fields"),
    ],
)
def test_malformed_retrieval_lines_are_named(tmp_path, file, line, message):
    directory = copy_retrieval(tmp_path)
    with (directory / file).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    with pytest.raises(DatasetError, match=message):
        datasets.load_retrieval("set", directory)


def test_beir_layout_qrels_folder_is_read_and_missing_qrels_is_named(tmp_path):
    directory = copy_retrieval(tmp_path)
    (directory / "qrels").mkdir()
    (directory / "qrels-test.tsv").rename(directory / "qrels" / "test.tsv")
    assert list(datasets.load_retrieval("set", directory).queries) == ["q1", "q2", "q3"]
    (directory / "qrels" / "test.tsv").unlink()
    with pytest.raises(DatasetError, match=r"no qrels-test\.tsv"):
        datasets.load_retrieval("set", directory)


def test_resolve_names_paths_and_unknowns(tmp_path):
    assert datasets.resolve("stsb", tmp_path) == ("stsb", tmp_path / "stsb-test.tsv")
    assert datasets.resolve("scifact", tmp_path) == ("scifact", tmp_path / "scifact")
    assert datasets.resolve(str(FIXTURES / "sts.tsv"), tmp_path) == ("sts", FIXTURES / "sts.tsv")
    with pytest.raises(DatasetError, match="no such file or directory; name one of stsb, stsb-dev, scifact"):
        datasets.resolve(str(tmp_path / "missing.tsv"), tmp_path)


def test_fetch_converts_the_upstream_stsb_csv_and_checks_its_digest(tmp_path, monkeypatch):
    upstream = b'A girl is styling her hair.,A girl is brushing her hair.,2.5\n"Quoted, with comma",Plain,5\n'
    source = sources.SOURCES["stsb"]
    monkeypatch.setitem(
        sources.SOURCES,
        "stsb",
        sources.Source(source.url, hashlib.sha256(upstream).hexdigest(), source.install),
    )
    path = sources.fetch("stsb", tmp_path, opener=lambda url: upstream)
    assert path == tmp_path / "stsb-test.tsv"
    assert path.read_text(encoding="utf-8") == (
        HEADER
        + "2.5\tA girl is styling her hair.\tA girl is brushing her hair.\n5.0\tQuoted, with comma\tPlain\n"
    )
    assert datasets.load_sts("stsb", path).gold == pytest.approx([2.5, 5.0])


def test_fetch_refuses_a_download_with_the_wrong_digest(tmp_path):
    with pytest.raises(DatasetError, match="does not match the expected 11523b62"):
        sources.fetch("stsb", tmp_path, opener=lambda url: b"tampered")
    assert not (tmp_path / "stsb-test.tsv").exists()


def test_fetch_unpacks_the_beir_zip_into_our_layout(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("corpus.jsonl", "queries.jsonl"):
            archive.writestr(f"scifact/{name}", (FIXTURES / "retrieval" / name).read_bytes())
        qrels = (FIXTURES / "retrieval" / "qrels-test.tsv").read_bytes().replace(b"\n", b"\r\n")
        archive.writestr("scifact/qrels/test.tsv", qrels)
        archive.writestr("scifact/qrels/train.tsv", b"query-id\tcorpus-id\tscore\r\n")
    path = sources.fetch("scifact", tmp_path, opener=lambda url: buffer.getvalue())
    assert b"\r" not in (path / "qrels-test.tsv").read_bytes()
    assert list(datasets.load_retrieval("scifact", path).queries) == ["q1", "q2", "q3"]


def test_fetch_failure_says_where_to_put_the_files(tmp_path):
    def offline(url: str) -> bytes:
        raise OSError("network unreachable")

    with pytest.raises(
        DatasetError, match=r"could not be downloaded from https://.*network unreachable.*EMBEDROCK_DATA"
    ):
        sources.fetch("scifact", tmp_path, opener=offline)


def test_shared_data_matches_the_readme_counts(shared_data: Path):
    """The real sets (EMBEDROCK_DATA, set by tests/conftest.py) load with their documented sizes."""
    data_dir = shared_data
    stsb = datasets.load("stsb", data_dir / "stsb-test.tsv")
    assert isinstance(stsb, StsDataset) and len(stsb.pairs) == 1379
    scifact = datasets.load("scifact", data_dir / "scifact")
    assert isinstance(scifact, RetrievalDataset)
    assert (len(scifact.queries), len(scifact.corpus), sum(map(len, scifact.qrels.values()))) == (
        300,
        5183,
        339,
    )
    assert json.dumps(list(scifact.queries)[:3]) == '["1", "3", "5"]'
