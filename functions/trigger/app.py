"""EventBridge Scheduler → start the scheduled promotion (or record why it was skipped)."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from promoter.models import ScheduleFired
from promoter.observability import keys_of, logger, tracer, unbind
from promoter.runtime import schedules


# The event is not logged: a template-defined promotion may carry the target role's external id.
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=ScheduleFired)
def handler(event: ScheduleFired, context: LambdaContext) -> dict:
    unbind()
    if event.schedule_id:
        run = schedules().fire(event.schedule_id)
    else:
        run = schedules().run(event.promotion, None, actor="schedule:template")
    answer = {"schedule_id": event.schedule_id, **run.model_dump(mode="json")}
    if run.promotion_id:  # the start bound its target; a skipped or refused run names no promotion
        with keys_of(run.promotion_id):
            logger.info("schedule fired", extra=answer)
    else:
        unbind()
        logger.info("schedule fired", extra=answer)
    return run.model_dump(mode="json")
