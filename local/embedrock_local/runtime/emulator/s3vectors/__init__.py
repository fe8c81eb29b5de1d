"""The Amazon S3 Vectors backend of the emulator: vector buckets, indexes, vectors and exact
QueryVectors, kept in SQLite on disk (store.py) and searched in memory with numpy (search.py)."""
