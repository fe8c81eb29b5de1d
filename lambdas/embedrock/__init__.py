"""Embedrock: embeddings on Amazon Bedrock, as a serverless API."""

__version__ = "0.1.0"
