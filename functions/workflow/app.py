"""Workflow tasks of PromotionStateMachine: one handler per Task state, each a call into the layer.

Every line a task logs carries the promotion's id and target (promoter.observability); the
metrics are emitted where they happen in the protocol."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from promoter.models import CheckInput, FinalizeInput, HookInput, RollbackInput, StepInput, TaskInput, WaitInput
from promoter.observability import handler, keys_of, logger, tracer
from promoter.runtime import service


@logger.inject_lambda_context(clear_state=True)
@handler("carry")
@tracer.capture_lambda_handler
@event_parser(model=TaskInput)
def carry(event: TaskInput, context: LambdaContext) -> dict:
    return service().tasks.carry(event.promotion_id)


@logger.inject_lambda_context(clear_state=True)
@handler("prepare")
@tracer.capture_lambda_handler
@event_parser(model=TaskInput)
def prepare(event: TaskInput, context: LambdaContext) -> dict:
    return service().tasks.prepare(event.promotion_id)


@logger.inject_lambda_context(clear_state=True)
@handler("wait")
@event_parser(model=WaitInput)
def wait(event: WaitInput, context: LambdaContext) -> None:
    service().tasks.wait(event.promotion_id, event.token, event.kind)


@logger.inject_lambda_context(clear_state=True)
@handler("run_hook")
@tracer.capture_lambda_handler
@event_parser(model=HookInput)
def run_hook(event: HookInput, context: LambdaContext) -> dict:
    return service().tasks.run_hook(event.promotion_id, event.phase)


@logger.inject_lambda_context(clear_state=True)
@handler("shift")
@tracer.capture_lambda_handler
@event_parser(model=StepInput)
def shift(event: StepInput, context: LambdaContext) -> dict:
    return service().tasks.shift(event.promotion_id, event.step)


@logger.inject_lambda_context(clear_state=True)
@handler("check")
@tracer.capture_lambda_handler
@event_parser(model=CheckInput)
def check(event: CheckInput, context: LambdaContext) -> dict:
    return service().tasks.check(event.promotion_id, event.step, event.woke)


@logger.inject_lambda_context(clear_state=True)
@handler("rollback")
@tracer.capture_lambda_handler
@event_parser(model=RollbackInput)
def rollback(event: RollbackInput, context: LambdaContext) -> dict:
    return service().tasks.rollback(event.promotion_id, event.error)


@logger.inject_lambda_context(clear_state=True)
@handler("finalize")
@event_parser(model=FinalizeInput)
def finalize(event: FinalizeInput, context: LambdaContext) -> dict:
    # PromotionsFinished is emitted by whoever makes the record final (promoter.observability.written)
    return service().tasks.finalize(event.promotion_id, event.status, event.reason)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def reconcile(event: dict, context: LambdaContext) -> dict:
    """Scheduled: repair promotions whose execution ended outside the workflow's own paths."""
    outcomes = service().reconcile()
    repaired = [o for o in outcomes if o["action"] == "repaired"]
    for outcome in repaired:
        with keys_of(outcome["promotion_id"]):
            logger.info("repaired", extra=outcome)
    logger.info("reconciled", extra={"checked": len(outcomes), "repaired": len(repaired)})
    return {"checked": len(outcomes), "repaired": repaired}
