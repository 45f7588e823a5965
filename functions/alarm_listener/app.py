"""CloudWatch "Alarm State Change" → roll back every live promotion that watches the alarm."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from promoter.alarm_event import AlarmStateChangeEvent
from promoter.observability import keys_of, logger, tracer, unbind
from promoter.runtime import service


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=AlarmStateChangeEvent)
def handler(event: AlarmStateChangeEvent, context: LambdaContext) -> dict:
    alarm = event.detail
    named = {"alarm": alarm.alarmName}
    if alarm.state.value != "ALARM":
        logger.info("alarm left ALARM; nothing to do", extra=named)
        return {"alarm": alarm.alarmName, "promotions": []}
    # RollbackLatency runs from the state change (AWS's timestamp; the event's time is to the second)
    changed_at = alarm.state.timestamp or event.time
    try:
        outcomes = service().alarm_fired(
            alarm.alarmName, alarm.state.reason, account=event.account, changed_at=changed_at
        )
    finally:
        unbind()  # the keys of the last promotion handled must not label the lines below
    for outcome in outcomes:
        with keys_of(outcome["promotion_id"]):
            logger.info("alarm event handled", extra=named | outcome)
    if not outcomes:
        logger.info("no live promotion watches this alarm", extra=named)
    return {"alarm": alarm.alarmName, "promotions": outcomes}
