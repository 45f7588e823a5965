"""``PromoterService``: one object for the API, the handlers, pipelines and schedules, built from
the protocol's parts. It holds no logic of its own; each method is one part's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .. import fast_gate
from ..arns import account_of
from ..aws.cloudwatch import AlarmsAdapter
from ..aws.dynamodb import PromotionStore
from ..aws.events import EventsAdapter
from ..aws.lambda_ import AliasState, LambdaAdapter
from ..aws.pipeline_store import PipelineStore
from ..aws.stepfunctions import WorkflowAdapter
from ..aws.sts import RoleSessions
from ..guards import TargetGuards
from ..models import Carry, FunctionInventory, Promotion, PromotionOrigin, PromotionRequest, Signal, Status
from ..settings import Settings
from .alarms import AlarmResponder
from .context import Context
from .fast_gate import FastGateResponder
from .protocol import AliasWriter, Records
from .reads import Reads
from .signals import Signals
from .start import Starter
from .tasks import WorkflowTasks


class PromoterService:
    def __init__(
        self,
        settings: Settings,
        *,
        lambdas: LambdaAdapter | None = None,
        alarms: AlarmsAdapter | None = None,
        store: PromotionStore | None = None,
        workflow: WorkflowAdapter | None = None,
        events: EventsAdapter | None = None,
        roles: RoleSessions | None = None,
        pipelines: PipelineStore | None = None,
    ) -> None:
        self.settings = settings
        self.ctx = Context(
            settings=settings,
            lambdas=lambdas or LambdaAdapter(),
            alarms=alarms or AlarmsAdapter(),
            store=store or PromotionStore(settings.table_name),
            workflow=workflow or WorkflowAdapter(),
            events=events or EventsAdapter(),
            roles=roles or RoleSessions(settings.region),
        )
        self.records = Records(self.ctx)
        writer = AliasWriter(self.ctx, self.records)
        self.starter = Starter(self.ctx, self.records)
        if pipelines is not None or store is None:  # injected adapters without a pipeline store: no guards
            pipeline_store = pipelines or PipelineStore(settings.table_name)
            self.starter.guards = TargetGuards(pipeline_store, account_of(settings.state_machine_arn))
        self.tasks = WorkflowTasks(self.ctx, self.records, writer)
        self.signals = Signals(self.ctx, self.records, writer)
        self.alarm_responder = AlarmResponder(self.ctx, self.records, writer)
        self.fast_gate = FastGateResponder(self.ctx, self.records, writer)
        self.reads = Reads(self.ctx, self.starter)

    # the adapters, for callers that read AWS through the control plane's own account
    @property
    def store(self) -> PromotionStore:
        return self.ctx.store

    @property
    def lambdas(self) -> LambdaAdapter:
        return self.ctx.lambdas

    @property
    def roles(self) -> RoleSessions:
        return self.ctx.roles

    # start and its checks
    def start(
        self,
        request: PromotionRequest,
        actor: str,
        *,
        origin: PromotionOrigin | None = None,
        approval_by_other: bool = False,
        carry: Carry | None = None,
    ) -> Promotion:
        return self.starter.start(request, actor, origin=origin, approval_by_other=approval_by_other, carry=carry)

    def preflight(self, request: PromotionRequest) -> tuple[dict[str, Any], AliasState]:
        return self.starter.preflight(request)

    def ensure_target_exists(self, request: PromotionRequest) -> None:
        self.starter.ensure_target_exists(request)

    def ensure_managed(self, function: str, tags: dict[str, str]) -> None:
        self.starter.ensure_managed(function, tags)

    # signals, alarms, repair
    def signal(self, promotion_id: str, signal: Signal, actor: str, reason: str = "") -> Promotion:
        return self.signals.signal(promotion_id, signal, actor, reason)

    def alarm_fired(
        self, alarm: str, reason: str, account: str | None = None, changed_at: datetime | None = None
    ) -> list[dict[str, Any]]:
        return self.alarm_responder.alarm_fired(alarm, reason, account, changed_at)

    def logs_delivered(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """A CloudWatch Logs subscription delivery to the fast gate (raises ValueError if it is none)."""
        return self.fast_gate.delivered(fast_gate.decode(event))

    def reconcile(self, min_age_seconds: float = 60.0) -> list[dict[str, Any]]:
        return self.signals.reconcile(min_age_seconds)

    # read models
    def get(self, promotion_id: str) -> Promotion:
        return self.reads.get(promotion_id)

    def alarm_states(self, promotion_id: str) -> tuple[Promotion, dict[str, str]]:
        return self.reads.alarm_states(promotion_id)

    def list_promotions(
        self,
        *,
        function: str | None = None,
        alias: str | None = None,
        status: Status | None = None,
        limit: int = 50,
        next_token: str | None = None,
    ) -> tuple[list[Promotion], str | None]:
        return self.reads.list_promotions(
            function=function, alias=alias, status=status, limit=limit, next_token=next_token
        )

    def inventory(self, function: str) -> FunctionInventory:
        return self.reads.inventory(function)
