"""CloudWatch Logs subscription (the fast gate's filter) -> count the candidate's error lines, roll
back once they pass the request's threshold (promoter.promotions.fast_gate)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from promoter.observability import keys_of, logger, tracer, unbind
from promoter.runtime import service


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict:
    try:
        outcomes = service().logs_delivered(event)
    finally:
        unbind()  # the keys of the last promotion handled must not label the lines below
    for outcome in outcomes:
        with keys_of(outcome["promotion_id"]):
            logger.info("log delivery handled", extra=outcome)
    return {"promotions": outcomes}
