"""Reading input files: every format, line numbers, and a reason for every line not read."""

from __future__ import annotations

import io

import pytest

from embedrock.ingest.formats import MAX_DEPTH, Record, Rejection, physical_lines, read_items
from embedrock.ingest.layout import Format, input_file
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "ingest"


def items(fmt: Format, data: bytes) -> list[Record | Rejection]:
    return list(read_items(fmt, io.BytesIO(data)))


def codes(found: list[Record | Rejection]) -> list[tuple[int, str]]:
    return [(item.line, "ok" if isinstance(item, Record) else item.code) for item in found]


def test_jsonl_keeps_ids_texts_and_other_fields_with_line_numbers() -> None:
    # Given the JSONL fixture
    data = (FIXTURES / "docs.jsonl").read_bytes()
    # When it is read
    found = items(Format.JSONL, data)
    # Then each line is a record with its id, text, other fields and line number
    assert found[0] == Record(1, "a1", "Python is a programming language", {"lang": "en"})
    assert found[2] == Record(3, "a3", "Its a sunny day", {"lang": "en", "tags": ["weather"]})
    assert len(found) == 3


def test_jsonl_bad_lines_are_each_reported_with_their_number_and_reason() -> None:
    # Given a JSONL file with invalid JSON, a blank line, a missing text, an array and Latin-1 bytes
    data = (FIXTURES / "bad.jsonl").read_bytes()
    # When it is read
    found = items(Format.JSONL, data)
    # Then every physical line yields exactly one item, in order, bad ones with a reason
    assert codes(found) == [
        (1, "ok"),
        (2, "invalid_json"),
        (3, "blank_line"),
        (4, "missing_text"),
        (5, "ok"),  # blank text: rejected later, against the model
        (6, "ok"),  # duplicate id: rejected later, across the file
        (7, "not_an_object"),
        (8, "invalid_encoding"),
        (9, "ok"),
    ]
    reasons = {item.line: item.reason for item in found if isinstance(item, Rejection)}
    assert "not valid JSON" in reasons[2]
    assert "byte 0xe9" in reasons[8] and "UTF-8" in reasons[8]


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b'{"id": 1, "text": 5}', "invalid_text"),
        (b'{"id": true, "text": "x"}', "invalid_id"),
        (b'{"id": [1], "text": "x"}', "invalid_id"),
        (b'"just a string"', "not_an_object"),
    ],
)
def test_jsonl_wrong_types_are_rejected(line: bytes, code: str) -> None:
    # Given a line whose id or text has the wrong type
    # When it is read, Then it is rejected with the code naming the problem
    assert codes(items(Format.JSONL, line)) == [(1, code)]


def nested(depth: int) -> bytes:
    return b'{"id": 1, "text": "x", "deep": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b'{"id": 1, "text": "x", "score": NaN}', "invalid_json"),
        (b'{"id": 1, "text": "x", "score": -Infinity}', "invalid_json"),
        (b'{"id": 1, "text": "x", "score": 1e999}', "invalid_json"),  # Python would read inf
        (b'{"id": 1, "text": "x", "score": 1.5e300}', "ok"),
        (b'{"id": 1' + b"0" * 5000 + b', "text": "x"}', "invalid_json"),  # over int's digit limit
        (nested(MAX_DEPTH), "ok"),  # the innermost array MAX_DEPTH levels below the line's object
        (nested(MAX_DEPTH + 1), "invalid_json"),
        (nested(2000), "invalid_json"),  # deeper than the parser's recursion limit
        (nested(100_000), "invalid_json"),
    ],
)
def test_jsonl_lines_no_output_could_hold_are_rejected_not_crashed(line: bytes, code: str) -> None:
    # Given a line Python's parser reads but JSON output cannot carry (NaN), or nested without end
    # When it is read, Then it is one rejected line, not an exception
    found = items(Format.JSONL, line)
    assert codes(found) == [(1, code)]


def test_jsonl_without_id_uses_the_line_number() -> None:
    # Given lines without an id
    found = items(Format.JSONL, b'{"text": "a"}\n{"text": "b"}\n')
    # Then each record's id is its line number
    assert [item.id for item in found if isinstance(item, Record)] == [1, 2]


def test_csv_with_header_maps_columns_and_quoted_commas_and_crlf() -> None:
    # Given the CSV fixture: a header, CRLF line ends, a quoted text with a comma
    data = (FIXTURES / "docs.csv").read_bytes()
    # When it is read
    found = items(Format.CSV, data)
    # Then the header is not a data line and extra columns become fields
    assert found == [
        Record(2, "c1", "Python is a programming language", {"source": "wiki"}),
        Record(3, "c2", "Today it may not be raining, or it may", {"source": "forecast"}),
    ]


def test_csv_without_header_is_id_text_and_other_shapes_are_rejected() -> None:
    # Given a headerless CSV with a good row, a row with too many fields, a blank line and bad quoting
    data = b'1,hello\n2,hello, world\n\n3,"bad"quote\n4,"multi\nline"\n5,"never closed\n6,swallowed\n'
    # When it is read
    found = items(Format.CSV, data)
    # Then a multi-line record carries its first line, and each problem is named
    assert codes(found) == [
        (1, "ok"),
        (2, "wrong_field_count"),
        (3, "blank_line"),
        (4, "invalid_csv"),
        (5, "ok"),
        (7, "invalid_csv"),
    ]
    assert found[4] == Record(5, "4", "multi\nline", {})
    assert "read through line 8" in found[5].reason  # type: ignore[union-attr]


def test_csv_header_without_id_uses_line_numbers_and_checks_field_counts() -> None:
    # Given a CSV whose header names text and lang only
    found = items(Format.CSV, b"Text,lang\nhello,en\nhi\n")
    # Then ids are line numbers, and a short row is rejected naming the header
    assert found[0] == Record(2, 2, "hello", {"lang": "en"})
    assert isinstance(found[1], Rejection) and "the header has 2 (Text, lang)" in found[1].reason


def test_txt_is_one_text_per_line_with_bom_and_crlf_removed() -> None:
    # Given a UTF-8 text file with a BOM, CRLF endings and no final newline
    found = items(Format.TXT, b"\xef\xbb\xbffirst\r\nsecond\r\n\nthird")
    # Then every line is a record whose id is its line number (blank ones are checked later)
    assert found == [
        Record(1, 1, "first", {}),
        Record(2, 2, "second", {}),
        Record(3, 3, "", {}),
        Record(4, 4, "third", {}),
    ]


def test_txt_wrong_encoding_is_reported_and_the_rest_is_read() -> None:
    # Given a text file with one Latin-1 line
    found = items(Format.TXT, b"ok\ncaf\xe9\nfine\n")
    # Then that line is rejected and the others are read
    assert codes(found) == [(1, "ok"), (2, "invalid_encoding"), (3, "ok")]


def test_a_lone_surrogate_escape_in_jsonl_is_one_rejected_line() -> None:
    # Given JSONL lines escaping half a UTF-16 pair, in the text, another field and a field name,
    # around a line with a whole pair (an emoji)
    data = b"\n".join(
        [
            rb'{"id": 1, "text": "bad \ud800 text"}',
            rb'{"id": 2, "text": "ok \ud83d\ude00"}',
            rb'{"id": 3, "text": "fine", "meta": {"tags": ["\udc00"]}}',
            rb'{"id": 4, "text": "fine", "\udfff": 1}',
        ]
    )
    # When it is read
    found = items(Format.JSONL, data)
    # Then each bad line is one rejection naming the escape, and the whole pair is read
    assert codes(found) == [(1, "invalid_unicode"), (2, "ok"), (3, "invalid_unicode"), (4, "invalid_unicode")]
    assert isinstance(found[0], Rejection) and "\\ud800" in found[0].reason and '"text"' in found[0].reason
    assert found[1] == Record(2, 2, "ok \U0001f600", {})


@pytest.mark.parametrize("fmt", [Format.CSV, Format.TXT])
def test_a_surrogate_encoded_as_bytes_in_csv_or_txt_is_one_rejected_line(fmt: Format) -> None:
    # Given a line holding a surrogate written as UTF-8 would (ED A0 80: not valid UTF-8)
    found = items(fmt, b"1,ok\n2,bad \xed\xa0\x80\n3,fine\n")
    # Then that line alone is rejected, with the byte and its column
    assert codes(found) == [(1, "ok"), (2, "invalid_encoding"), (3, "ok")]
    assert isinstance(found[1], Rejection) and "byte 0xed at column 7" in found[1].reason


def test_physical_lines_span_read_blocks_and_ignore_the_final_newline() -> None:
    # Given lines longer than one read block
    long = b"x" * (3 << 20)
    # When the lines are split
    lines = list(physical_lines(io.BytesIO(long + b"\n" + long + b"\n")))
    # Then each is whole and the final newline starts no line
    assert [(number, len(raw)) for number, raw in lines] == [(1, len(long)), (2, len(long))]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (
            "input/docs.jsonl",
            ("docs.jsonl", Format.JSONL, "output/docs.jsonl.jsonl", "input/docs.config.json"),
        ),
        ("input/docs.csv", ("docs.csv", Format.CSV, "output/docs.csv.jsonl", "input/docs.config.json")),
        (
            "input/a/b/Docs.CSV",
            ("a/b/Docs.CSV", Format.CSV, "output/a/b/Docs.CSV.jsonl", "input/a/b/Docs.config.json"),
        ),
        ("input/docs.md", ("docs.md", None, "output/docs.md.jsonl", "input/docs.config.json")),
        ("input/README", ("README", None, "output/README.jsonl", "input/README.config.json")),
    ],
)
def test_input_keys_map_to_output_and_sidecar_keys(key: str, expected: tuple[object, ...]) -> None:
    # Given a key under input/
    file = input_file(key)
    # Then its name, format, output and sidecar follow the layout
    assert file is not None
    assert (file.name, file.format, file.output_key, file.sidecar_key) == expected
    assert file.manifest_key == f"output/{file.name}.manifest.json"


@pytest.mark.parametrize(
    "key", ["input/docs.config.json", "input/folder/", "output/docs.jsonl", "docs.jsonl"]
)
def test_sidecars_folders_and_keys_outside_input_are_not_data_files(key: str) -> None:
    assert input_file(key) is None
