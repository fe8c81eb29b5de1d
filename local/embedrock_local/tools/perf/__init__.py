"""`embedrock perf`: the hot paths measured side by side, each against what it replaces.

One module per measure, each with `describe(sizes)` and `measure(sizes) -> Result`; the
command runs them in order and prints one table (see command.py).
"""
