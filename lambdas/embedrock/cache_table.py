"""The embeddings cache table's attribute names: cache.py writes them, the stack (infra) declares
the table's key and TTL with them. A module of its own, free of numpy and botocore, which
`cdk synth` would otherwise import for two strings."""

KEY, VECTOR, EXPIRES_AT = "pk", "v", "expires_at"
