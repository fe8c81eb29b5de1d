"""Token-id input on POST /v1/embeddings: OpenAI cl100k_base token ids, decoded back to text.

OpenAI's embeddings API takes token arrays as `input`, and clients send them: langchain-openai's
OpenAIEmbeddings tokenizes with cl100k_base whenever `check_embedding_ctx_length` is on (its
default). Bedrock's models take text only, so the ids are decoded to the text they stand for and
that text is embedded: a token array gets the vector of its text.

The encoding ships beside this module (`encodings/cl100k_base.tiktoken`, tiktoken's file format: one
"base64(token bytes) rank" line per token, MIT licence in `encodings/LICENSE`) and is read on the
first token-id request only, so text requests pay nothing for it at cold start. It is never
downloaded. Its sha256 is the one tiktoken checks for it (`tiktoken_ext/openai_public.py`,
`expected_hash` of cl100k_base).

Ids that decode to bytes that are not UTF-8 (a character cut between two arrays, as a tokenizer
that splits long texts into windows of ids does) are decoded with U+FFFD in place of the broken
bytes, as tiktoken's own `Encoding.decode` does (`errors="replace"`): refusing them would fail every
long non-ASCII text such clients split, and the replacement changes only the cut characters.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path

ENCODING = "cl100k_base"
# cl100k_base's ordinary tokens are ranks 0..100255. Its special tokens (<|endoftext|> = 100257,
# the fill-in-the-middle markers, <|endofprompt|> = 100276) stand for no text, so they are refused.
TOKEN_COUNT = 100_256
MAX_TOKEN_ID = TOKEN_COUNT - 1
ALLOWED = f"integers from 0 to {MAX_TOKEN_ID:,} ({ENCODING} token ids)"

_FILE = Path(__file__).with_name("encodings") / f"{ENCODING}.tiktoken"
_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"


def is_token_id(value: object) -> bool:
    """An integer, not a bool (JSON true is no token)."""
    return isinstance(value, int) and not isinstance(value, bool)


def in_range(token: int) -> bool:
    return 0 <= token <= MAX_TOKEN_ID


@functools.cache
def _token_bytes() -> tuple[bytes, ...]:
    """The bytes of every token, indexed by id (read once per process, ~50 ms)."""
    raw = _FILE.read_bytes()
    if hashlib.sha256(raw).hexdigest() != _SHA256:
        raise RuntimeError(f"{_FILE.name} is not the {ENCODING} file tiktoken publishes (sha256 differs)")
    table: list[bytes] = []
    for line in raw.splitlines():
        token, rank = line.split()
        if int(rank) != len(table):  # ranks are dense, so an id is an index
            raise RuntimeError(f"{_FILE.name}: rank {int(rank)} out of order")
        table.append(base64.b64decode(token))
    if len(table) != TOKEN_COUNT:
        raise RuntimeError(f"{_FILE.name} holds {len(table)} tokens, not {TOKEN_COUNT}")
    return tuple(table)


def decode(tokens: Sequence[int]) -> str:
    """The text of checked token ids (each in range), broken UTF-8 replaced by U+FFFD."""
    table = _token_bytes()
    return b"".join(table[token] for token in tokens).decode("utf-8", errors="replace")
