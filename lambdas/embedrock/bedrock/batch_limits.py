"""Bedrock batch inference's rules that the stack (infra) also checks or routes on, in a module of
their own, free of numpy, which `cdk synth` would otherwise import with batch.py."""

MIN_RECORDS = 100  # Bedrock asks for at least this many records a job
# A job Bedrock has finished with; the others (Submitted, Validating, Scheduled, InProgress,
# Stopping) are still under way.
TERMINAL = frozenset({"Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"})
