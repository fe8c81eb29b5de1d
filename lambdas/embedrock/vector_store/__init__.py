"""The vector store: where collections keep their vectors (Amazon S3 Vectors, one index each).

Core, not a context: the collections context (its HTTP routes) and the pipeline (which fills a
collection from a file) both write through it. `port.VectorStore` is what they depend on; the
S3 Vectors adapter and the in-memory fake implement it, and `embedrock.wiring` builds the one a
function uses from its settings.
"""
