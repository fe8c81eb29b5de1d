"""`embedrock models`: the embedding models, their inference profiles and this account's access."""
