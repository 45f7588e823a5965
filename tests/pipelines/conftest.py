"""Two accounts on one sandbox: dev and staging are aliases of ``orders`` in the control plane's
account A; prod is its own ``orders`` function in account B, reached through the role that
templates/target-account.yaml creates there (deployed into B by CloudFormation)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from promoter.models import PipelineDefinition, PipelinePromotionRequest, Promotion
from promoter.pipelines import PipelineService
from sandbox import Sandbox
from sandbox.aws.awslambda.versions import ALIAS_WRITES
from sandbox.fixtures.accounts import AccountSession, deploy_target_account
from sandbox.fixtures.targets import MANAGED_TAGS, ROLE_POLICY, SAMPLE_HANDLER, Targets, zip_source

ACCOUNT_A = "123456789012"  # the control plane's (moto's default account)
ACCOUNT_B = "222222222222"
EXTERNAL_ID = "orders-prod-7f3a"
ROLE_B = f"arn:aws:iam::{ACCOUNT_B}:role/lambda-promoter-target"
PROD_ENV = {"TABLE": "orders-prod", "STAGE": "prod"}
PROD_MEMORY = 1024

DEV = {
    "name": "dev",
    "function": "orders",
    "alias": "dev",
    "strategy": {"type": "canary", "weight": 0.1, "bake_seconds": 2},
}
STAGING = {
    "name": "staging",
    "function": "orders",
    "alias": "staging",
    "strategy": {"type": "linear", "step": 0.25, "interval_seconds": 1},
}
PROD = {
    "name": "prod",
    "function": "orders",
    "alias": "live",
    "role_arn": ROLE_B,
    "external_id": EXTERNAL_ID,
    "strategy": {
        "type": "custom",
        "steps": [{"weight": 0.05, "bake_seconds": 1}, {"weight": 0.5, "bake_seconds": 1}, {"weight": 1}],
    },
}


def definition(allow_override: bool = True, **prod: Any) -> dict[str, Any]:
    return {"allow_override": allow_override, "environments": [DEV, STAGING, PROD | prod]}


@dataclass
class World:
    sandbox: Sandbox
    a: Targets
    b_session: AccountSession
    b: Targets
    prod_role: str
    pipelines_service: PipelineService | None = None
    started: list[Promotion] = field(default_factory=list)

    def pipelines(self, clock: Callable[[], datetime] | None = None) -> PipelineService:
        if clock is not None:
            return PipelineService(self.sandbox.service(), clock=clock)
        if self.pipelines_service is None:
            self.pipelines_service = PipelineService(self.sandbox.service())
        return self.pipelines_service

    def put(self, body: dict[str, Any] | None = None, name: str = "orders") -> None:
        self.pipelines().put(name, PipelineDefinition.model_validate(body or definition()), "alice")

    def promote(self, to: str, actor: str = "alice", **fields: Any) -> Promotion:
        request = PipelinePromotionRequest(pipeline=fields.pop("pipeline", "orders"), to=to, **fields)
        promotion = self.pipelines().promote(request, actor)
        self.started.append(promotion)
        return promotion

    def through(self, to: str, **fields: Any) -> Promotion:
        """Promote into ``to`` and wait for the end."""
        return self.sandbox.wait_until_final(self.promote(to, **fields).id)


def alias_writes(function: str, alias: str) -> list[tuple[str, dict[str, float]]]:
    return [(v, w) for fn, a, v, w in ALIAS_WRITES if (fn, a) == (function, alias)]


def prod_function(b: Targets, *, runtime: str = "python3.13", architecture: str = "arm64", name: str = "orders") -> str:
    """``orders`` in account B: its own role, environment and memory, version 1 on ``live``."""
    role = b.iam.create_role(RoleName=f"{name}-prod-exec", AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]
    b.lambdas.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_source(SAMPLE_HANDLER.format(build="prod-v1", fail=False))},
        Environment={"Variables": PROD_ENV},
        MemorySize=PROD_MEMORY,
        Tags=MANAGED_TAGS,
        Architectures=[architecture],
    )
    version = b.lambdas.publish_version(FunctionName=name)["Version"]
    b.lambdas.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    return role


@pytest.fixture
def world(sandbox: Sandbox, targets: Targets) -> World:
    targets.function("orders", builds=("v1", "v2", "v3"), alias="dev")
    targets.lambdas.create_alias(FunctionName="orders", Name="staging", FunctionVersion="1")
    b_session = AccountSession(ACCOUNT_B, region=sandbox.region)
    outputs = deploy_target_account(b_session, control_plane_account=ACCOUNT_A, external_id=EXTERNAL_ID)
    assert outputs["RoleArn"] == ROLE_B
    b = Targets(session=b_session)  # type: ignore[arg-type]
    return World(sandbox, targets, b_session, b, prod_function(b))


def wait_for(condition: Callable[[], Any], what: str, limit: float = 60.0) -> Any:
    """A safety limit only (no timing assertion)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


# --- the HTTP API, in process, with events shaped as API Gateway sends them (tests/api) -----------
@pytest.fixture
def gateway(sandbox: Sandbox):
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    from promoter.api import build_app
    from promoter.service import PromoterService
    from tests.api.conftest import ApiGateway, api_settings

    return ApiGateway(build_app(APIGatewayRestResolver(enable_validation=True), PromoterService(api_settings(sandbox))))
