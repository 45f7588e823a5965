"""``Sandbox``: start moto in this process, patch it, deploy the control plane, and drive it.

``start_local_aws`` and ``stop_local_aws`` are the one start-up path, shared with the server of
``make sandbox`` (sandbox/server): patches and threads (sandbox/install.py), moto, template.yaml.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from promoter.models import Promotion
from promoter.service import PromoterService
from promoter.settings import Settings

from . import workers
from .aws.awslambda import throttling, versions
from .clock import CLOCK
from .deploy import ROOT, deploy
from .install import install

TEMPLATE = ROOT / "template.yaml"

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
FUNCTION_ENV = {  # what every sandboxed function sees besides its own variables
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    "POWERTOOLS_METRICS_DISABLED": "true",  # EMF would only print to the logs
}


def start_local_aws(
    moto: Any, *, time_scale: float, function_env: dict[str, str], stack_name: str, region: str, template: Path
) -> dict[str, str]:
    """Patch moto and start its threads, start ``moto`` (``mock_aws`` or a ``ThreadedMotoServer``)
    and deploy the template into it; returns the stack's outputs."""
    install(time_scale, function_env)
    versions.ALIAS_WRITES.clear()  # what this sandbox's Lambda saw, not a previous one's
    throttling.reset()  # full rate buckets and zero counts
    moto.start()
    return deploy(stack_name, region, template_path=template)


def stop_local_aws(moto: Any) -> None:
    workers.stop()  # no schedule, alarm or delivery thread may fire into a stopped mock
    if moto is not None:
        moto.stop()


class Sandbox:
    """A local AWS account with lambda-promoter deployed from template.yaml.

    ``time_scale`` speeds up Wait states, Retry intervals and task timeouts (bakes), e.g. 10
    makes a 30 s bake last 3 s.
    """

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        region: str = "us-east-1",
        stack_name: str = "lambda-promoter",
        template_path: Path = TEMPLATE,
    ):
        self.template_path = template_path
        self.time_scale = time_scale
        self.region = region
        self.stack_name = stack_name
        self.outputs: dict[str, str] = {}
        self._mock: Any = None
        self._saved_env: dict[str, str] = {}
        self._waiter: tuple[PromoterService, Any] | None = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        self._saved_env = dict(os.environ)
        os.environ.update(FAKE_CREDENTIALS | {"AWS_DEFAULT_REGION": self.region})
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self.outputs = start_local_aws(
            self._mock,
            time_scale=self.time_scale,
            function_env=FUNCTION_ENV,
            stack_name=self.stack_name,
            region=self.region,
            template=self.template_path,
        )

    def stop(self) -> None:
        stop_local_aws(self._mock)
        self._mock = None
        self._waiter = None
        os.environ.clear()
        os.environ.update(self._saved_env)

    # --- the sandbox clock (schedules, alarm periods, metric timestamps: sandbox/clock.py) ----------
    @property
    def clock(self) -> Any:
        return CLOCK

    def advance(self, seconds: float) -> float:
        """Move the sandbox clock forward: due schedules fire, alarm periods roll over."""
        return workers.advance(seconds)

    def settle(self, timeout: float = 30.0) -> bool:
        """Fire due schedules, evaluate alarms, wait for the deliveries they caused."""
        return workers.settle(timeout)

    # --- driving it -----------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return Settings(
            table_name=self.outputs["PromotionsTableName"],
            state_machine_arn=self.outputs["StateMachineArn"],
            event_bus_name=self.outputs.get("EventBusName", ""),
            idempotency_table=self.outputs.get("IdempotencyTableName", ""),
            scheduler_group=self.outputs.get("ScheduleGroupName", ""),
            scheduler_role_arn=self.outputs.get("SchedulerRoleArn", ""),
            trigger_function_arn=self.outputs.get("TriggerFunctionArn", ""),
            artifacts_bucket=self.outputs.get("ArtifactsBucketName", ""),
            fast_gate_function_arn=self.outputs.get("FastGateFunctionArn", ""),
            region=self.region,
        )

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)  # type: ignore[call-overload]  # any service by name; boto3-stubs' overloads want a literal

    def physical_id(self, logical_id: str) -> str:
        """The deployed name of a template resource, e.g. ``AlarmListenerFunction``."""
        pages = self.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=self.stack_name)
        for page in pages:
            for resource in page["StackResourceSummaries"]:
                if resource["LogicalResourceId"] == logical_id:
                    return resource["PhysicalResourceId"]
        raise KeyError(f"no resource {logical_id} in stack {self.stack_name}")

    def service(self) -> PromoterService:
        return PromoterService(self.settings)

    def _waiting_clients(self) -> tuple[PromoterService, Any]:
        """One service and Step Functions client for every wait: making clients per wait costs the
        sandbox the time that the promotions waited for need."""
        if self._waiter is None:
            self._waiter = (self.service(), self.client("stepfunctions"))
        return self._waiter

    def wait_until_final(self, promotion_id: str, timeout: float = 60.0) -> Promotion:
        """Poll the record until it is final and the execution has ended."""
        service, sfn = self._waiting_clients()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # the record alone while waiting: a waiter reading whole histories slows what it waits for
            record, _ = service.ctx.store.get_with_rev(promotion_id)
            if record.status.is_final:
                try:
                    status = sfn.describe_execution(executionArn=record.execution_arn)["status"]
                except sfn.exceptions.ExecutionDoesNotExist:
                    return service.get(promotion_id)  # the workflow never started
                if status != "RUNNING":
                    return service.get(promotion_id)
            time.sleep(0.05)
        raise TimeoutError(f"promotion {promotion_id} is still {service.get(promotion_id).status} after {timeout}s")

    def wait_for_status(self, promotion_id: str, *statuses: str, timeout: float = 30.0) -> Promotion:
        service, _ = self._waiting_clients()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            promotion = service.get(promotion_id)
            if promotion.status in statuses:
                return promotion
            time.sleep(0.02)
        raise TimeoutError(f"promotion {promotion_id} never reached {statuses}")
