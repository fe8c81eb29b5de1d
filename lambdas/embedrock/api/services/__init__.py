"""The HTTP use cases: each takes a validated request schema and returns its response schema.

Routers parse and call one of these; nothing here knows about API Gateway events.
"""
