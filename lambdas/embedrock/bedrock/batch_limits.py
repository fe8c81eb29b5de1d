"""Facts of Bedrock batch inference jobs that the stack needs too: plain data, no numpy or botocore."""

from __future__ import annotations

# Bedrock asks for at least this many records a job.
MIN_RECORDS = 100
# A job Bedrock has finished with; the others (Submitted, Validating, Scheduled, InProgress,
# Stopping) are still under way.
TERMINAL = frozenset({"Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"})
