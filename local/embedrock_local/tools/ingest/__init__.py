"""`embedrock ingest`: the ingestion pipeline on one machine, against the Bedrock emulator."""
