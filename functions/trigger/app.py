"""EventBridge Scheduler → start the scheduled promotion (or record why it was skipped)."""

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from promoter.models import ScheduleFired
from promoter.runtime import schedules

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
@event_parser(model=ScheduleFired)
def handler(event: ScheduleFired, context: LambdaContext) -> dict:
    if event.schedule_id:
        run = schedules().fire(event.schedule_id)
    else:
        run = schedules().run(event.promotion, None, actor="schedule:template")
    logger.info("schedule fired", extra={"schedule_id": event.schedule_id, **run.model_dump(mode="json")})
    return run.model_dump(mode="json")
