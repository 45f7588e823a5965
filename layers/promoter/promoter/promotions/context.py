"""What every part of the promotion protocol needs: settings and the adapters, per account."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..aws.artifacts import ArtifactsAdapter
from ..aws.cloudwatch import AlarmsAdapter
from ..aws.dynamodb import PromotionStore
from ..aws.events import EventsAdapter
from ..aws.lambda_ import LambdaAdapter
from ..aws.logs import LogsAdapter
from ..aws.staging import StagingAdapter
from ..aws.stepfunctions import WorkflowAdapter
from ..aws.sts import RoleSessions, TargetAdapters
from ..models import Promotion, PromotionRequest
from ..settings import Settings

WORKFLOW = "workflow"


@dataclass
class Context:
    settings: Settings
    lambdas: LambdaAdapter
    alarms: AlarmsAdapter
    store: PromotionStore
    workflow: WorkflowAdapter
    events: EventsAdapter
    roles: RoleSessions
    artifacts: ArtifactsAdapter = field(default_factory=ArtifactsAdapter)
    staging: StagingAdapter = field(default_factory=StagingAdapter)
    logs: LogsAdapter = field(default_factory=LogsAdapter)  # the fast gate's filters: this account only

    def adapters_for(self, role_arn: str | None, external_id: str | None = None) -> TargetAdapters:
        """Lambda, CloudWatch and artifact calls in an account: this one's, or through a role."""
        if not role_arn:
            return TargetAdapters(self.lambdas, self.alarms, self.artifacts)
        return self.roles.adapters(role_arn, external_id)

    def lambdas_for(self, target: Promotion | PromotionRequest) -> LambdaAdapter:
        """Lambda calls for a promotion (or request) go through its role when it has one."""
        if not target.role_arn:
            return self.lambdas
        return self.roles.adapters(target.role_arn, target.external_id).lambdas

    def alarms_for(self, target: Promotion | PromotionRequest) -> AlarmsAdapter:
        """Alarms live in the target's account: read them through the same role."""
        if not target.role_arn:
            return self.alarms
        return self.roles.adapters(target.role_arn, target.external_id).alarms
