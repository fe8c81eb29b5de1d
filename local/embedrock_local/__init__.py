"""Embedrock's local runtime: the Bedrock-compatible emulator and the local tools built on it."""
