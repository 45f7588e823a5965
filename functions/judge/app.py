"""Judge task of PromotionStateMachine: canary analysis after a weighted step's bake.

Its own function (its own requirements.txt, scipy and numpy) so no other handler loads scipy."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from promoter.analysis.models import JudgeInput
from promoter.analysis.task import JudgeTask
from promoter.aws.metrics import MetricsAdapter
from promoter.observability import handler, logger, tracer
from promoter.runtime import service


def task() -> JudgeTask:
    promoter = service()
    ctx = promoter.ctx
    # CloudWatch of the target's account: the same client (and role) its alarms are read with.
    return JudgeTask(promoter.records, lambda p: MetricsAdapter(client=ctx.alarms_for(p).client))


@logger.inject_lambda_context(clear_state=True)
@handler("judge")
@tracer.capture_lambda_handler
@event_parser(model=JudgeInput)
def judge(event: JudgeInput, context: LambdaContext) -> dict:
    return task().judge(event.promotion_id, event.step)
