"""Bedrock batch inference (CreateModelInvocationJob): record format, output parsing, job calls.

Input: one JSON line per text or image, `{"recordId", "modelInput"}`, where modelInput is exactly the
InvokeModel body (codecs.py). Output: `<output uri>/<job id>/<input file>.out`, one line per
record, `{"recordId", "modelInput", "modelOutput"}` or `{..., "error"}`, in no guaranteed order,
plus `manifest.json.out` with the counts. Bedrock asks for at least batch_limits.MIN_RECORDS records a job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from embedrock.bedrock import codecs
from embedrock.bedrock.error_mapping import bedrock_errors
from embedrock.embed_input import Item
from embedrock.embed_spec import EmbedSpec
from embedrock.errors import ModelFailed

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient

RECORD_ID_DIGITS = 11
SUCCEEDED = frozenset({"Completed", "PartiallyCompleted"})
JOB_TIMEOUT_HOURS = 72  # Bedrock accepts 24 to 168


def record(spec: EmbedSpec, record_id: str, item: Item) -> dict[str, Any]:
    """modelInput is the InvokeModel body, an image's base64 bytes included (Amazon Bedrock User
    Guide, "Format and upload your batch inference data", batch-inference-data.html: "The format
    of the modelInput JSON object must match the body field for the model ... InvokeModel")."""
    return {"recordId": record_id, "modelInput": codecs.CODECS[spec.model.family].request(spec, [item])}


@dataclass(frozen=True)
class OutputRecord:
    record_id: str
    vector: np.ndarray | None  # None: the record failed, see error
    tokens: int = 0
    error: str | None = None


def parse_output_line(spec: EmbedSpec, raw: bytes | str) -> OutputRecord:
    """One line of a job's .out file; a malformed model output counts as that record's error."""
    line: Mapping[str, Any] = json.loads(raw)
    record_id = str(line["recordId"])
    if "modelOutput" not in line:
        error = line.get("error") or {}
        message = error.get("errorMessage") if isinstance(error, Mapping) else str(error)
        return OutputRecord(record_id, None, error=str(message or "no modelOutput and no error"))
    output = line["modelOutput"]
    try:
        vector = codecs.decode(spec, output, expected=1)[0]
    except ModelFailed as failure:
        return OutputRecord(record_id, None, error=failure.message)
    return OutputRecord(record_id, vector, tokens=codecs.input_tokens(spec, output, {}))


@dataclass(frozen=True)
class Job:
    arn: str
    status: str
    message: str
    input_uri: str
    output_uri: str

    @property
    def job_id(self) -> str:
        return self.arn.rsplit("/", 1)[1]

    def output_file_uri(self) -> str:
        """Where Bedrock writes the results of the job's (one) input file."""
        file_name = self.input_uri.rsplit("/", 1)[1]
        return f"{self.output_uri.rstrip('/')}/{self.job_id}/{file_name}.out"


class BatchJobs:
    def __init__(self, control: BedrockClient, *, role_arn: str) -> None:
        self._control = control
        self._role_arn = role_arn

    def submit(self, spec: EmbedSpec, *, name: str, token: str, input_uri: str, output_uri: str) -> str:
        """The job's ARN; the same token again returns the job already created (idempotent)."""
        # The foundation model, also for a request that named an inference profile: botocore's
        # CreateModelInvocationJob modelId pattern admits inference-profile ARNs, but the user guide
        # pages read here ("Use an inference profile in model invocation") do not confirm batch jobs
        # on system-defined profiles, and the ingest role may create jobs on the catalog's
        # foundation models only. The vectors are the model's either way (same cache key).
        with bedrock_errors(spec.model.id, invoking=False):
            response = self._control.create_model_invocation_job(
                jobName=name,
                clientRequestToken=token,
                roleArn=self._role_arn,
                modelId=spec.model.id,
                inputDataConfig={"s3InputDataConfig": {"s3Uri": input_uri, "s3InputFormat": "JSONL"}},
                outputDataConfig={"s3OutputDataConfig": {"s3Uri": output_uri}},
                timeoutDurationInHours=JOB_TIMEOUT_HOURS,
            )
        return response["jobArn"]

    def describe(self, job_arn: str) -> Job:
        with bedrock_errors(invoking=False):
            job = self._control.get_model_invocation_job(jobIdentifier=job_arn)
        return Job(
            arn=job["jobArn"],
            status=job.get("status", ""),
            message=job.get("message", ""),
            input_uri=job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"],
            output_uri=job["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"],
        )
