"""HTTP API of lambda-promoter behind API Gateway (REST, AWS_IAM). All logic is in promoter.api.

Its metrics (PromotionsStarted, PromotionsFinished of a start that could not start its workflow)
are emitted where they happen (promoter.observability), so the handler flushes no metric set."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from promoter.api import build_app
from promoter.observability import logger, tracer, unbind

app = build_app(APIGatewayRestResolver(enable_validation=True))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    unbind()  # keys are bound per promotion as records are read; none carry over from the last request
    try:
        return app.resolve(event, context)
    finally:
        unbind()
