"""The collections context: documents' vectors kept and searched in Amazon S3 Vectors, over HTTP.

Routes (router.py), request and response models (schemas.py), the rules S3 Vectors and the
collection impose (validation.py), and the work (service.py, search.py) through the core's
vector store port. It imports the core only; no other context.
"""
