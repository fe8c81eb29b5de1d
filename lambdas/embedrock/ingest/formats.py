"""Reading input files line by line: every line becomes a Record or a Rejection, never nothing.

JSONL: one `{"id", "text", ...}` object per line; a line may hold an `image` (a data URI or an
s3:// reference, resolved by ingest.images) with or without a text. CSV: a header naming a `text` column (and
optionally `id` and any others), or no header and two columns `id,text`. TXT: one text per
line. Line numbers are 1-based physical lines; a CSV record spanning lines (a quoted newline)
carries the number of its first line, and a CSV header is not a data line. Without an id, a
record's id is its line number.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from pydantic import BaseModel, ConfigDict

from embedrock.ingest.layout import Format

_BOM = b"\xef\xbb\xbf"
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_DEPTH = 64  # levels of arrays and objects in a JSONL line: deeper is refused, not a crash
_READ_SIZE = 1 << 20
# Texts may be long (Titan takes 50,000 characters); the csv module's default field limit is 131,072.
csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))


class Rejection(BaseModel):
    """A line that is not embedded, and why: it goes to the manifest."""

    model_config = ConfigDict(frozen=True)

    line: int
    code: str
    reason: str


@dataclass(frozen=True)
class Record:
    line: int
    id: str | int
    text: str | None  # None: an image alone
    fields: dict[str, Any]
    image: str | None = None  # the reference as given, written back to the output as it is
    # Of an s3:// image, from planning: its ETag (the bytes read must still be these) and size.
    image_etag: str | None = None
    image_size: int = 0

    def to_json(self) -> str:
        row: list[Any] = [self.line, self.id, self.text, self.fields]
        if self.image is not None:
            row += [self.image, self.image_etag, self.image_size]
        return json.dumps(row, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Record:
        line, id_, text, fields, *image = json.loads(raw)
        return cls(line, id_, text, fields, *image)


Item = Record | Rejection


def physical_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes without the line ending); a final newline does not start a line."""
    number, rest, first = 0, b"", True
    while block := stream.read(_READ_SIZE):
        if first:
            block, first = block.removeprefix(_BOM), False
        *complete, rest = (rest + block).split(b"\n")
        for raw in complete:
            number += 1
            yield number, raw.removesuffix(b"\r")
    if rest:
        yield number + 1, rest.removesuffix(b"\r")


def read_items(fmt: Format, stream: IO[bytes]) -> Iterator[Item]:
    return _READERS[fmt](physical_lines(stream))


def _decode(line: int, raw: bytes) -> str | Rejection:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return Rejection(
            line=line,
            code="invalid_encoding",
            reason=f"the line is not valid UTF-8 (byte 0x{raw[error.start]:02x} at column "
            f"{error.start + 1}); save the file as UTF-8.",
        )


def _record(line: int, values: Mapping[str, Any], *, images: bool = False) -> Item:
    """A record of the line's fields; with `images` (JSONL), an "image" field is its image."""
    has_image = images and "image" in values
    if "text" not in values and not has_image:
        also = ' nor an "image"' if images else ""
        return Rejection(line=line, code="missing_text", reason=f'the line has no "text" field{also}.')
    text, id_, image = values.get("text"), values.get("id", line), values.get("image")
    if "text" in values and not isinstance(text, str):
        return Rejection(
            line=line, code="invalid_text", reason=f'"text" must be a string, not {_json_type(text)}.'
        )
    if has_image and not isinstance(image, str):
        return Rejection(
            line=line,
            code="invalid_image",
            reason=f'"image" must be a string, a data URI (data:image/png;base64,...) or '
            f"s3://BUCKET/input/KEY, not {_json_type(image)}.",
        )
    if isinstance(id_, bool) or not isinstance(id_, str | int):
        return Rejection(
            line=line,
            code="invalid_id",
            reason=f'"id" must be a string or an integer, not {_json_type(id_)}.',
        )
    own = ("id", "text", "image") if has_image else ("id", "text")
    fields = {key: value for key, value in values.items() if key not in own}
    return Record(line, id_, text, fields, image if has_image else None)


def _jsonl(lines: Iterable[tuple[int, bytes]]) -> Iterator[Item]:
    for line, raw in lines:
        decoded = _decode(line, raw)
        if isinstance(decoded, Rejection):
            yield decoded
        elif not decoded.strip():
            yield Rejection(
                line=line, code="blank_line", reason="the line is blank; JSONL needs one object per line."
            )
        else:
            yield _jsonl_record(line, decoded)


def _jsonl_record(line: int, decoded: str) -> Item:
    try:
        value = json.loads(decoded, parse_constant=_not_json, parse_float=_finite)
    except json.JSONDecodeError as error:
        return Rejection(
            line=line,
            code="invalid_json",
            reason=f"the line is not valid JSON: {error.msg} at column {error.colno}.",
        )
    except ValueError as error:  # NaN, Infinity (or 1e999), too many digits: Python reads them, JSON has not
        return Rejection(line=line, code="invalid_json", reason=f"the line is not valid JSON: {error}.")
    except RecursionError:
        return Rejection(
            line=line, code="invalid_json", reason="the line nests arrays or objects too deeply to read."
        )
    if not isinstance(value, dict):
        return Rejection(
            line=line,
            code="not_an_object",
            reason=f'the line holds a JSON {_json_type(value)}, not an object like {{"id": "1", "text": "..."}}.',
        )
    unwritable = _unwritable(line, value)
    if unwritable is not None:
        return unwritable
    return _record(line, value, images=True)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value (use null or a string)")


def _finite(number: str) -> float:
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(f"{number} is too large for a 64-bit float")
    return value


def _unwritable(line: int, value: Any) -> Rejection | None:
    """Why a parsed line cannot be carried to the output: a lone surrogate, or nesting too deep.

    Iterative, as a line may nest as deep as the parser allows."""
    pending: list[tuple[Any, str, int]] = [(value, "the line", 0)]
    while pending:
        item, where, depth = pending.pop()
        if depth > MAX_DEPTH:
            return Rejection(
                line=line,
                code="invalid_json",
                reason=f"the line nests arrays or objects more than {MAX_DEPTH} levels deep.",
            )
        if isinstance(item, str) and (match := _SURROGATE.search(item)):
            # JSON may escape half a UTF-16 pair ("\ud800"); no UTF-8 output can hold it.
            return Rejection(
                line=line,
                code="invalid_unicode",
                reason=f"{where} holds the escape \\u{ord(match[0]):04x}, half of a UTF-16 surrogate "
                "pair and not a character; UTF-8 cannot encode it. Remove it or give the whole pair.",
            )
        if isinstance(item, dict):
            pending += [(child, f'"{key}"', depth + 1) for key, child in reversed(item.items())]
            pending += [(key, "a field name", depth + 1) for key in reversed(item)]
        elif isinstance(item, list):
            pending += [(child, where, depth + 1) for child in reversed(item)]
    return None


def _txt(lines: Iterable[tuple[int, bytes]]) -> Iterator[Item]:
    for line, raw in lines:
        decoded = _decode(line, raw)
        yield decoded if isinstance(decoded, Rejection) else Record(line, line, decoded, {})


def _csv(lines: Iterable[tuple[int, bytes]]) -> Iterator[Item]:
    skipped: list[Rejection] = []  # lines that could not be decoded, reported before the next record
    pending: list[int] = []  # physical lines fed to the reader for the record being read

    def decoded_lines() -> Iterator[str]:
        for line, raw in lines:
            decoded = _decode(line, raw)
            if isinstance(decoded, Rejection):
                skipped.append(decoded)
            else:
                pending.append(line)
                yield decoded + "\n"

    reader = csv.reader(decoded_lines(), strict=True)
    to_item: Callable[[int, list[str]], Item] | None = None
    while True:
        try:
            row = next(reader)
            error = None
        except StopIteration:
            break
        except csv.Error as caught:
            row, error = [], caught
        yield from skipped
        skipped.clear()
        line, last = (pending[0], pending[-1]) if pending else (0, 0)
        pending.clear()
        if error is not None:
            through = f" (read through line {last})" if last > line else ""
            yield Rejection(
                line=line, code="invalid_csv", reason=f"the record is not valid CSV{through}: {error}."
            )
        elif not row:
            yield Rejection(line=line, code="blank_line", reason="the line is blank.")
        elif to_item is None and any(cell.strip().lower() == "text" for cell in row):
            to_item = _with_header([cell.strip() for cell in row])
        else:
            to_item = to_item or _without_header
            yield to_item(line, row)
    yield from skipped


def _with_header(header: list[str]) -> Callable[[int, list[str]], Item]:
    names = [name.lower() if name.lower() in ("id", "text") else name for name in header]

    def to_item(line: int, row: list[str]) -> Item:
        if len(row) != len(header):
            return Rejection(
                line=line,
                code="wrong_field_count",
                reason=f"the line has {len(row)} fields; the header has {len(header)} ({', '.join(header)}). "
                "Quote fields that contain commas.",
            )
        return _record(line, dict(zip(names, row, strict=True)))

    return to_item


def _without_header(line: int, row: list[str]) -> Item:
    if len(row) != 2:
        return Rejection(
            line=line,
            code="wrong_field_count",
            reason=f"the line has {len(row)} fields; a CSV without a header holds two, id,text "
            "(quote texts that contain commas, or add a header row naming a text column).",
        )
    return _record(line, {"id": row[0], "text": row[1]})


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


_READERS: dict[Format, Callable[[Iterable[tuple[int, bytes]]], Iterator[Item]]] = {
    Format.JSONL: _jsonl,
    Format.CSV: _csv,
    Format.TXT: _txt,
}
