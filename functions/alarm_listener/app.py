"""CloudWatch "Alarm State Change" → roll back every live promotion that watches the alarm."""

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from promoter.models import AlarmStateChangeEvent
from promoter.runtime import service

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=AlarmStateChangeEvent)
def handler(event: AlarmStateChangeEvent, context: LambdaContext) -> dict:
    alarm = event.detail
    if alarm.state.value != "ALARM":
        logger.info("alarm left ALARM; nothing to do", extra={"alarm": alarm.alarmName})
        return {"alarm": alarm.alarmName, "promotions": []}
    outcomes = service().alarm_fired(alarm.alarmName, alarm.state.reason, account=event.account)
    for outcome in outcomes:
        logger.info("alarm event handled", extra={"alarm": alarm.alarmName, **outcome})
    if not outcomes:
        logger.info("no live promotion watches this alarm", extra={"alarm": alarm.alarmName})
    return {"alarm": alarm.alarmName, "promotions": outcomes}
