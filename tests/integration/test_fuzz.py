"""Every route fuzzed from the generated OpenAPI document, against the local gateway.

Schemathesis draws requests from the document the code generates (GET /openapi.json), both
valid ones and ones that break the schema, and sends them to the local runtime (loopback
only). Whatever it sends: no 5xx, every response matches the documented status codes,
content type and schema, schema-breaking requests are rejected, and routes behind the API
key refuse requests without it.

Bounded in `make test`; `make fuzz` sets EMBEDROCK_FUZZ_EXAMPLES for a longer run.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks

from embedrock.handlers.models import DOCUMENT
from embedrock_local.runtime.serve import LocalRuntime
from tests.integration.conftest import API_KEY

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("EMBEDROCK_FUZZ_EXAMPLES", "25"))

schema = schemathesis.openapi.from_dict(DOCUMENT.json())

CHECKS = [
    not_a_server_error,
    checks.response_schema_conformance,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
]
# Not checked, on purpose:
# - positive_data_acceptance: the schema cannot say which dimensions each model takes or how
#   long its texts may be, so schema-valid requests can rightly get a 400.
# - unsupported_method: API Gateway answers an undeclared method with its unknown-route error
#   (404 in this API's shape, gateway_errors.UNKNOWN_ROUTE), not 405; test_bad_input checks that.
# - negative_data_rejection on query strings: a "wrong type" query value such as the array
#   [true] travels as ?provider=true, a valid string; test_bad_input checks bad providers.
QUERY_CHECKS = [check for check in CHECKS if check is not checks.negative_data_rejection]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 25,  # the short run is the same on every machine
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_route_survives_fuzzing(case: schemathesis.Case, faults: LocalRuntime) -> None:
    takes_query = any(parameter.location == "query" for parameter in case.operation.iter_parameters())
    case.call_and_validate(
        base_url=faults.url,
        headers={"x-api-key": API_KEY},
        checks=QUERY_CHECKS if takes_query else CHECKS,
        timeout=30,
    )
