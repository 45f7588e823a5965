"""Typed settings from the environment. No other module reads os.environ."""

import os

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(description="DynamoDB table for promotions and locks")
    state_machine_arn: str = Field(default="", description="PromotionStateMachine ARN")
    region: str = "us-east-1"
    event_bus_name: str = ""
    idempotency_table: str = Field(default="", description="table of the API's Idempotency-Key records")
    scheduler_group: str = Field(default="", description="EventBridge Scheduler group of our schedules")
    scheduler_role_arn: str = Field(default="", description="role Scheduler assumes to invoke the trigger")
    trigger_function_arn: str = Field(default="", description="function a schedule invokes")
    artifacts_bucket: str = Field(default="", description="bucket that stages zips over 50 MB for the carry")
    fast_gate_function_arn: str = Field(default="", description="destination of the fast gate's subscription filters")
    managed_tag_key: str = "promoter:managed"
    managed_tag_value: str = "true"

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        return cls(
            table_name=env.get("PROMOTIONS_TABLE", "promotions"),
            state_machine_arn=env.get("STATE_MACHINE_ARN", ""),
            region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1")),
            event_bus_name=env.get("EVENT_BUS_NAME", ""),
            idempotency_table=env.get("IDEMPOTENCY_TABLE", ""),
            scheduler_group=env.get("SCHEDULER_GROUP", ""),
            scheduler_role_arn=env.get("SCHEDULER_ROLE_ARN", ""),
            trigger_function_arn=env.get("TRIGGER_FUNCTION_ARN", ""),
            artifacts_bucket=env.get("ARTIFACTS_BUCKET", ""),
            fast_gate_function_arn=env.get("FAST_GATE_FUNCTION_ARN", ""),
        )
