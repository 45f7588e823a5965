"""HTTP API of lambda-promoter behind API Gateway (REST, AWS_IAM). All logic is in promoter.api."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from promoter.api import build_app

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = build_app(APIGatewayRestResolver(enable_validation=True))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
