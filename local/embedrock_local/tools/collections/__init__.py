"""`embedrock collections ...` and `embedrock search`: clients of the collections' HTTP API."""
