"""The directory store behind `embedrock ingest`: atomic writes, and what a killed writer leaves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from embedrock.ingest.layout import JSON
from embedrock.ingest.object_store import Changed
from embedrock_local.tools.ingest.store import WORK_DIR, DirStore


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temporaries_of_a_killed_writer_are_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    # Given what a writer killed mid-write leaves, next to the output and in the work area,
    # and a file another live writer (this process) is writing
    results = tmp_path / WORK_DIR / "run" / "results"
    results.mkdir(parents=True)
    stale = [
        tmp_path / f".docs.jsonl.jsonl.k3j2.tmp-{dead_pid()}",
        results / f".000000.json.x1.tmp-{dead_pid()}",
    ]
    live = tmp_path / f".docs.csv.jsonl.a8b1.tmp-{os.getpid()}"
    user = tmp_path / ".notes.tmp-backup"  # not a name the store writes
    for path in (*stale, live, user):
        path.write_bytes(b"half a file")
    store = DirStore(tmp_path)
    # Then a listing never shows a temporary as an object
    assert store.list("work/run/results/") == []
    # When the store removes stale temporaries
    removed = store.remove_stale_temporaries()
    # Then only the dead writer's files are gone
    assert sorted(removed) == sorted(stale)
    assert not any(path.exists() for path in stale)
    assert live.exists() and user.exists()


def test_writes_leave_no_temporary_and_deletes_leave_no_empty_folder(tmp_path: Path) -> None:
    store = DirStore(tmp_path)
    store.put("work/run/chunks/000000.jsonl", b"[]", content_type=JSON)
    store.put("work/run/plan.json", b"{}", content_type=JSON)
    assert sorted(p.name for p in (tmp_path / WORK_DIR / "run").rglob("*")) == [
        "000000.jsonl",
        "chunks",
        "plan.json",
    ]
    # When the chunk is deleted (and a key that is not there)
    store.delete(["work/run/chunks/000000.jsonl", "work/run/absent.json"])
    # Then its folder goes with it, and the rest stays
    assert store.list("work/run/") == ["work/run/plan.json"]
    assert not (tmp_path / WORK_DIR / "run" / "chunks").exists()
    store.delete(["work/run/plan.json"])
    assert tmp_path.is_dir() and not (tmp_path / WORK_DIR).exists()


@pytest.mark.parametrize("key", ["output/docs.jsonl.jsonl", "work/run/plan.json"])
def test_a_failed_write_removes_its_temporary(tmp_path: Path, key: str) -> None:
    store = DirStore(tmp_path)

    class Boom(Exception):
        pass

    def fail(_: object) -> None:
        raise Boom

    with pytest.raises(Boom):
        store._replace(store.path(key), fail)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_input_keys_are_files_under_the_inputs_directory_and_never_above_it(tmp_path: Path) -> None:
    # Given a directory standing for input/, with an image and a file outside it
    inputs = tmp_path / "data"
    (inputs / "pics").mkdir(parents=True)
    (inputs / "pics" / "a.png").write_bytes(b"\x89PNG image bytes")
    (tmp_path / "secret.png").write_bytes(b"not yours")
    store = DirStore(tmp_path / "out", inputs=inputs)
    # Then an input/ key reads its file, bounded (one byte over the limit tells it is larger)
    assert store.read_bounded("input/pics/a.png", max_bytes=4) == b"\x89PNG "
    head = store.head("input/pics/a.png")
    assert head is not None and head.etag and head.size == 16
    # And ".." in a key is no way out of the directory
    assert store.head("input/../secret.png") is None
    with pytest.raises(KeyError):
        store.read_bounded("input/../secret.png", max_bytes=100)


def test_a_rewritten_file_has_another_etag_and_the_old_one_no_longer_reads(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"one")
    store = DirStore(tmp_path / "out", inputs=tmp_path)
    before = store.head("input/a.png")
    assert before is not None
    (tmp_path / "a.png").write_bytes(b"other bytes")
    after = store.head("input/a.png")
    assert after is not None and after.etag != before.etag
    with pytest.raises(Changed):
        store.read_bounded("input/a.png", max_bytes=100, etag=before.etag)
