"""What every HTTP function shares, whatever its context: the resolver and its one error shape,
body decoding, validation-error translation, the documented responses and the OpenAPI document.

Core: the api and collections contexts both build on it, and it imports neither.
"""
