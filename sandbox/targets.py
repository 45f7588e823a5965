"""Sample target functions, versions, aliases and alarms, created through the public AWS API."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

import boto3

MANAGED_TAGS = {"promoter:managed": "true"}
ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)

# A target whose behaviour is fixed per version: `fail` makes it raise on every call.
SAMPLE_HANDLER = """
import os

BUILD = {build!r}
FAIL = {fail!r}


def handler(event, context):
    if FAIL:
        raise RuntimeError("build " + BUILD + " is broken")
    return {{"build": BUILD, "version": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")}}
"""

HOOK_HANDLER = """
def handler(event, context):
    return {{"passed": {passed!r}, "seen": event}}
"""


def zip_source(source: str, filename: str = "app.py") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(filename, date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(info, source)
    return buffer.getvalue()


@dataclass
class Target:
    function: str
    alias: str
    versions: list[str] = field(default_factory=list)


class Targets:
    """Creates things a user of lambda-promoter would already have in their account."""

    def __init__(self, region: str = "us-east-1", session: boto3.session.Session | None = None) -> None:
        session = session or boto3.session.Session(region_name=region)
        self.lambdas = session.client("lambda")
        self.iam = session.client("iam")
        self.cloudwatch = session.client("cloudwatch")

    def role(self, name: str = "sample-target-role") -> str:
        try:
            return self.iam.get_role(RoleName=name)["Role"]["Arn"]
        except self.iam.exceptions.NoSuchEntityException:
            return self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]

    def function(
        self,
        name: str,
        *,
        builds: tuple[str, ...] = ("v1", "v2"),
        failing: tuple[str, ...] = (),
        alias: str = "live",
        managed: bool = True,
        role: str | None = None,
    ) -> Target:
        """A function with one published version per build and an alias on the first."""
        role_arn = role or self.role()
        tags = MANAGED_TAGS if managed else {}
        target = Target(function=name, alias=alias)
        for index, build in enumerate(builds):
            code = zip_source(SAMPLE_HANDLER.format(build=build, fail=build in failing))
            if index == 0:
                self.lambdas.create_function(
                    FunctionName=name,
                    Runtime="python3.13",
                    Role=role_arn,
                    Handler="app.handler",
                    Code={"ZipFile": code},
                    Tags=tags,
                    Architectures=["arm64"],
                )
            else:
                self.lambdas.update_function_code(FunctionName=name, ZipFile=code)
            target.versions.append(self.lambdas.publish_version(FunctionName=name)["Version"])
        self.lambdas.create_alias(FunctionName=name, Name=alias, FunctionVersion=target.versions[0])
        return target

    def hook(self, name: str, *, passed: bool = True) -> str:
        self.lambdas.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=self.role(),
            Handler="app.handler",
            Code={"ZipFile": zip_source(HOOK_HANDLER.format(passed=passed))},
            Tags=MANAGED_TAGS,
        )
        return name

    def alarm(self, name: str, function: str, *, state: str = "OK") -> str:
        self.cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Statistic="Sum",
            Dimensions=[{"Name": "FunctionName", "Value": function}],
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
        )
        self.set_alarm(name, state)
        return name

    def set_alarm(self, name: str, state: str, reason: str = "set by the sandbox") -> None:
        self.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)

    def alias_state(self, function: str, alias: str) -> dict[str, Any]:
        raw = self.lambdas.get_alias(FunctionName=function, Name=alias)
        weights = (raw.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return {"version": raw["FunctionVersion"], "weights": weights, "revision_id": raw["RevisionId"]}
