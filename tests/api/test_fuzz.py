"""schemathesis against the OpenAPI document the local server serves, backed by the sandbox.

Every operation gets generated requests, valid and invalid: no answer may be a 5xx, and every
answer must match the document (status code, content type, headers, body schema). The number
of examples is bounded so that the suite stays quick.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

# Well-formed requests can still name things that do not exist in AWS (a function, a version,
# an alarm): those are 422 by design, and a drawn promotion id is a 404.
CONFIG = {
    "checks": {
        "positive_data_acceptance": {"expected-statuses": ["2xx", "404", "409", "422"]},
    },
}
# Per operation and mode (valid, invalid); FUZZ_EXAMPLES=200 for a longer hunt.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))


@pytest.fixture
def api_schema(sandbox, targets, local_api):
    # Something real to find: a managed function with an alias and an alarm.
    targets.function("orders")
    targets.alarm("orders-errors", "orders")
    return schemathesis.openapi.from_url(f"{local_api}/openapi.json", config=SchemathesisConfig.from_dict(CONFIG))


def test_every_answer_conforms_and_none_is_a_server_error(api_schema, local_api):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 19  # every route of the document (5 of them /pipelines)
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case) -> None:
                case.call_and_validate(base_url=local_api, timeout=30)

            try:
                fuzz()
            except Unsatisfiable:
                # An operation without inputs (GET /schedules) has no invalid request to draw.
                assert mode is GenerationMode.NEGATIVE and not operation.body and not operation.path_parameters
                assert not operation.query
