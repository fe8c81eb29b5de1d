"""The local tools built on the product and the runtime: `embedrock bench`, `perf` and `ingest`."""
