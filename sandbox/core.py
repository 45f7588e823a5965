"""``Sandbox``: start moto in this process, patch it, deploy the control plane, and drive it."""

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

from . import engine, patches
from .deploy import ROOT, deploy

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

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        self._saved_env = dict(os.environ)
        os.environ.update(FAKE_CREDENTIALS | {"AWS_DEFAULT_REGION": self.region})
        patches.apply(self.time_scale, FUNCTION_ENV)
        patches.ALIAS_WRITES.clear()  # what this sandbox's Lambda saw, not a previous one's
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self.outputs = deploy(self.stack_name, self.region, template_path=self.template_path)

    def stop(self) -> None:
        engine.stop()  # no schedule, alarm or delivery thread may fire into a stopped mock
        if self._mock:
            self._mock.stop()
            self._mock = None
        os.environ.clear()
        os.environ.update(self._saved_env)

    # --- the sandbox clock (schedules, alarm periods, metric timestamps: sandbox/clock.py) ----------
    @property
    def clock(self) -> Any:
        return engine.CLOCK

    def advance(self, seconds: float) -> float:
        """Move the sandbox clock forward: due schedules fire, alarm periods roll over."""
        return engine.advance(seconds)

    def settle(self, timeout: float = 30.0) -> bool:
        """Fire due schedules, evaluate alarms, wait for the deliveries they caused."""
        return engine.settle(timeout)

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
            region=self.region,
        )

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

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

    def wait_until_final(self, promotion_id: str, timeout: float = 60.0) -> Promotion:
        """Poll the record until it is final and the execution has ended."""
        service = self.service()
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            promotion = service.get(promotion_id)
            if promotion.status.is_final:
                try:
                    status = sfn.describe_execution(executionArn=promotion.execution_arn)["status"]
                except sfn.exceptions.ExecutionDoesNotExist:
                    return promotion  # the workflow never started
                if status != "RUNNING":
                    return promotion
            time.sleep(0.05)
        raise TimeoutError(f"promotion {promotion_id} is still {service.get(promotion_id).status} after {timeout}s")

    def wait_for_status(self, promotion_id: str, *statuses: str, timeout: float = 30.0) -> Promotion:
        service = self.service()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            promotion = service.get(promotion_id)
            if promotion.status in statuses:
                return promotion
            time.sleep(0.02)
        raise TimeoutError(f"promotion {promotion_id} never reached {statuses}")
