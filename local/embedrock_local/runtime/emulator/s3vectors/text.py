"""Full-text search for the emulator: one BM25 model per searchable metadata key of an index.

The S3 Vectors user guide ("Configuring full-text search", s3-vectors-configuring-full-text-search)
says each searchable key is indexed for BM25 with a text analyzer: the standard analyzer when no
`language` is given, else that language's analyzer. It does not publish the analyzers' rules nor
BM25's parameters, so the emulator uses bm25s with Lucene's BM25 (k1 = 1.2, b = 0.75, Lucene's
defaults) and, per language, the Snowball stemmer (PyStemmer) and the stopword list bm25s ships.
The standard analyzer lowercases and splits on word characters, with no stemming nor stopwords
(as Lucene's StandardAnalyzer does by default). Chinese and Japanese have no spaces between words:
their ideographs and kana are indexed one character a term (a unigram analyzer, not a dictionary
segmenter as the service may use); Korean is split on spaces.

bm25s is wrapped by hand (not its `retrieve`) because a query needs every row's score: filters
mask rows first, and hybrid search ranks each key's matches on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import bm25s
import numpy as np
import Stemmer

K1, B = 1.2, 0.75  # Lucene's BM25 defaults (the service does not publish its parameters)
WORDS = r"(?u)\b\w+\b"  # single-character terms count too ("C", "5"), unlike bm25s' default \w\w+
CJK_CHARACTERS = r"(?u)[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\b\w+\b"


@dataclass(frozen=True)
class Analyzer:
    pattern: str
    stemmer: str | None  # a PyStemmer algorithm
    stopwords: str | None  # a bm25s stopword list


STANDARD = Analyzer(WORDS, None, None)
# S3 Vectors' LanguageCode enum (botocore's s3vectors model): en fr es pt it de nl zh ja ko.
ANALYZERS: dict[str, Analyzer] = {
    "en": Analyzer(WORDS, "english", "en"),
    "fr": Analyzer(WORDS, "french", "fr"),
    "es": Analyzer(WORDS, "spanish", "es"),
    "pt": Analyzer(WORDS, "portuguese", "pt"),
    "it": Analyzer(WORDS, "italian", "it"),
    "de": Analyzer(WORDS, "german", "de"),
    "nl": Analyzer(WORDS, "dutch", "nl"),
    "zh": Analyzer(CJK_CHARACTERS, None, "zh"),
    "ja": Analyzer(CJK_CHARACTERS, None, None),  # bm25s has no Japanese stopwords
    "ko": Analyzer(WORDS, None, "ko"),
}


def analyzer(language: str | None) -> Analyzer:
    return STANDARD if language is None else ANALYZERS[language]


def terms(texts: Sequence[str], language: str | None) -> list[list[str]]:
    """Each text's terms: lowercased, split, stopwords removed, stemmed, as the language says."""
    chosen = analyzer(language)
    stem: Callable[[list[str]], list[str]] | None = (
        Stemmer.Stemmer(chosen.stemmer).stemWords if chosen.stemmer else None
    )
    tokens = bm25s.tokenize(
        list(texts),
        lower=True,
        token_pattern=chosen.pattern,
        stopwords=chosen.stopwords,
        stemmer=stem,
        return_ids=False,
        show_progress=False,
    )
    return [list(doc) for doc in tokens]


def text_of(value: Any) -> str:
    """The searchable text of a metadata value: a string, or the strings of a list joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(item for item in value if isinstance(item, str))
    return ""


class TextModel:
    """BM25 over one metadata key of an index's rows (row order = the index matrix's order)."""

    def __init__(self, texts: Sequence[str], language: str | None) -> None:
        self.language = language
        self.rows = len(texts)
        corpus = terms(texts, language)
        self._bm25: bm25s.BM25 | None = None
        self._vocabulary: dict[str, int] = {}
        if any(corpus):
            self._bm25 = bm25s.BM25(method="lucene", k1=K1, b=B)
            self._bm25.index(corpus, show_progress=False)
            self._vocabulary = dict(self._bm25.vocab_dict)

    def scores(self, query: str) -> np.ndarray:
        """Every row's BM25 score for `query` (0 for rows that share no term with it)."""
        ids = [self._vocabulary[t] for t in terms([query], self.language)[0] if t in self._vocabulary]
        if self._bm25 is None or not ids:
            return np.zeros(self.rows, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(ids), dtype=np.float32)


class TextModels:
    """An index's BM25 models, one per (metadata key, language), built on first use: the index's
    rows change only through writes, which replace the whole cache entry (store.Store.matrix)."""

    def __init__(self, metadata: Sequence[dict[str, Any]]) -> None:
        self._metadata = metadata
        self._models: dict[tuple[str, str | None], TextModel] = {}
        self._lock = threading.Lock()

    def model(self, key: str, language: str | None) -> TextModel:
        with self._lock:
            found = self._models.get((key, language))
            if found is None:
                found = TextModel([text_of(item.get(key)) for item in self._metadata], language)
                self._models[(key, language)] = found
            return found

    def built(self) -> int:
        with self._lock:
            return len(self._models)
