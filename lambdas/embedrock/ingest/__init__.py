"""The event-driven pipeline: whole files from S3 in, embeddings and a manifest out.

`input/<file>` (a .jsonl, .csv or .txt) becomes `output/<file>.jsonl` and `output/<file>.manifest.json`,
keyed by the whole file name: input/docs.csv -> output/docs.csv.jsonl, never docs.jsonl's output.
Every line read is either embedded or reported with its line number and reason, never dropped.
Work in progress lives under `work/<run id>/`, where the run id hashes the file's name, content
and configuration: a re-upload of the same file finds its finished run and calls Bedrock again
for nothing, and a file whose chunks failed re-does only those chunks.
"""
