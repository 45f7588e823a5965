"""Guards belong to the target, not to the route.

Where a pipeline environment covers a (function, alias), every start on that target gets the
environment's guards, whether it came through POST /promotions, a schedule or the pipeline:

- a freeze window refuses the start (409 Frozen);
- ``protected`` makes it wait for approval, by another principal when ``approval_by_other``;
- ordering: a later environment (not the pipeline's first) takes a version only through the
  pipeline's own promote, which checks the version ran in the environment before it and lets an
  override with a reason past, where the pipeline allows it. A plain start there is 409 PipelineOnly.

The pipeline's promote passes its own ``origin`` and is not guarded twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .arns import account_of, parse_function
from .aws.pipeline_store import PipelineStore
from .errors import Frozen, PipelineOnly
from .freeze import describe_end, frozen_until
from .models import Environment, Pipeline, PromotionOrigin, PromotionRequest, utcnow


@dataclass(frozen=True)
class GuardOutcome:
    """What the environments covering a target add to a start on it."""

    approval: bool
    approval_by_other: bool
    origin: PromotionOrigin


@dataclass(frozen=True)
class Covering:
    pipeline: Pipeline
    index: int
    environment: Environment


class TargetGuards:
    def __init__(self, pipelines: PipelineStore, home_account: str | None, clock: Callable[[], datetime] = utcnow):
        self.pipelines = pipelines
        self.home_account = home_account  # the control plane's account: where a bare function name lives
        self.clock = clock

    def __call__(self, request: PromotionRequest, function_arn: str) -> GuardOutcome | None:
        covering = self.covering(function_arn, request.alias)
        if not covering:
            return None
        for c in covering:
            ensure_not_frozen(c.pipeline, c.environment, self.clock(), field="function")
        for c in covering:
            if c.index > 0:
                before = c.pipeline.environments[c.index - 1].name
                raise PipelineOnly(
                    f"alias {request.alias} of {function_arn} is environment {c.environment.name!r} of pipeline "
                    f"{c.pipeline.name!r}, after {before!r}: a version enters it only through "
                    f"POST /pipelines/{c.pipeline.name}/promote (to: {c.environment.name}), which checks it ran "
                    f"in {before}",
                    field="function",
                    pipeline=c.pipeline.name,
                    environment=c.environment.name,
                )
        first = covering[0]
        return GuardOutcome(
            approval=any(c.environment.protected for c in covering),
            approval_by_other=any(c.environment.protected and c.environment.approval_by_other for c in covering),
            origin=PromotionOrigin(pipeline=first.pipeline.name, environment=first.environment.name),
        )

    def covering(self, function_arn: str, alias: str) -> list[Covering]:
        """Every pipeline environment whose target is ``alias`` of ``function_arn`` (an unqualified ARN)."""
        wanted = parse_function(function_arn)
        found = []
        for record in self.pipelines.list():
            for index, env in enumerate(record.pipeline.environments):
                ref = parse_function(env.function)
                account = ref.account or account_of(env.role_arn or "") or self.home_account
                if env.alias == alias and ref.name == wanted.name and account == wanted.account:
                    found.append(Covering(record.pipeline, index, env))
        return found


def ensure_not_frozen(pipeline: Pipeline, env: Environment, now: datetime, *, field: str) -> None:
    """409 Frozen while a freeze window of ``env`` is on."""
    found = frozen_until(env.freeze_windows, now)
    if found is None:
        return
    until, window = found
    why = f" ({window.reason})" if window.reason else ""
    raise Frozen(
        f"{env.name} of pipeline {pipeline.name!r} is in a freeze window{why} until {describe_end(until, window)}; "
        "no promotion into it may start before then",
        field=field,
        frozen_until=until.isoformat(),
    )
