"""EventBridge rules deliver to Lambda and Step Functions targets; alarm state changes are events."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sandbox import Sandbox
from sandbox.aws.awslambda import runtime
from sandbox.fixtures.targets import Targets

from .conftest import Recorder, aligned, let_rule_invoke, wait_until

ALARM_PATTERN = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}
PASS_MACHINE = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


def rule_to(
    sandbox: Sandbox, name: str, pattern: dict, target: dict, bus: str = "default", permitted: bool = True, **rule: str
) -> None:
    """A rule with one target; a function target is given the permission to be invoked unless not
    ``permitted``."""
    events = sandbox.client("events")
    rule_arn = events.put_rule(Name=name, EventPattern=json.dumps(pattern), EventBusName=bus, **rule)["RuleArn"]
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "t1", **target}])
    if permitted and ":lambda:" in target["Arn"]:
        let_rule_invoke(sandbox, rule_arn, target["Arn"])


def state_machine(sandbox: Sandbox, targets: Targets, name: str) -> str:
    return sandbox.client("stepfunctions").create_state_machine(
        name=name, definition=PASS_MACHINE, roleArn=targets.role()
    )["stateMachineArn"]


def executions(sandbox: Sandbox, machine: str) -> list[dict]:
    sfn = sandbox.client("stepfunctions")
    found = []
    for item in sfn.list_executions(stateMachineArn=machine)["executions"]:
        found.append(sfn.describe_execution(executionArn=item["executionArn"]))
    return found


def test_a_function_target_without_the_permission_for_the_rule_is_not_invoked(
    sandbox: Sandbox, recorder: Recorder
) -> None:
    """AWS invokes a rule's function only if its resource policy lets events.amazonaws.com invoke
    it for that rule: a permission for another rule does not do."""
    arn = recorder.function("guarded")
    pattern = {"source": ["orders"]}
    rule_to(sandbox, "unpermitted", pattern, {"Arn": arn, "Input": '{"rule": "unpermitted"}'}, permitted=False)
    other = sandbox.client("events").describe_rule(Name="unpermitted")["Arn"].replace("unpermitted", "another")
    let_rule_invoke(sandbox, other, arn)
    rule_to(sandbox, "permitted", pattern, {"Arn": arn, "Input": '{"rule": "permitted"}'})
    sandbox.client("events").put_events(Entries=[{"Source": "orders", "DetailType": "placed", "Detail": "{}"}])
    assert recorder.wait("guarded") == [{"rule": "permitted"}]
    sandbox.settle()
    assert recorder.events("guarded") == [{"rule": "permitted"}]


def test_alarm_state_change_reaches_a_lambda_target(sandbox: Sandbox, targets: Targets, recorder: Recorder) -> None:
    recorder.function("on-alarm")
    arn = sandbox.client("lambda").get_function(FunctionName="on-alarm")["Configuration"]["FunctionArn"]
    rule_to(sandbox, "alarms", ALARM_PATTERN | {"detail": {"alarmName": ["orders-errors"]}}, {"Arn": arn})
    targets.function("orders")
    targets.alarm("orders-errors", "orders")  # created, then set to OK by hand
    cloudwatch = sandbox.client("cloudwatch")
    cloudwatch.set_alarm_state(AlarmName="orders-errors", StateValue="ALARM", StateReason="errors on the canary")

    event = recorder.wait_for("on-alarm", lambda e: e["detail"]["state"]["value"] == "ALARM")
    alarm = cloudwatch.describe_alarms(AlarmNames=["orders-errors"])["MetricAlarms"][0]
    assert event["source"] == "aws.cloudwatch"
    assert event["detail-type"] == "CloudWatch Alarm State Change"
    assert event["resources"] == [alarm["AlarmArn"]]
    assert event["account"] == "123456789012" and event["region"] == sandbox.region
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    detail = event["detail"]
    assert detail["alarmName"] == "orders-errors"
    assert detail["state"]["value"] == "ALARM"
    assert detail["state"]["reason"] == "errors on the canary"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", detail["state"]["timestamp"])
    assert detail["previousState"]["value"] == "OK"
    assert detail["configuration"]["metrics"][0]["metricStat"] == {
        "metric": {"namespace": "AWS/Lambda", "name": "Errors", "dimensions": {"FunctionName": "orders"}},
        "period": 60,
        "stat": "Sum",
    }

    # ALARM -> ALARM is not a change: no second event (counted once every earlier delivery, the
    # INSUFFICIENT_DATA -> OK of the alarm's creation among them, has landed: deliveries are async)
    sandbox.settle()
    count = len(recorder.events("on-alarm"))
    cloudwatch.set_alarm_state(AlarmName="orders-errors", StateValue="ALARM", StateReason="still")
    sandbox.settle()
    assert len(recorder.events("on-alarm")) == count


def test_alarm_from_errors_on_the_canary_reaches_step_functions(sandbox: Sandbox, targets: Targets) -> None:
    """The demo's loop: the candidate fails behind a weighted alias, its ExecutedVersion alarm fires."""
    aligned(60, offset=30)(sandbox)
    machine = state_machine(sandbox, targets, "on-alarm")
    rule_to(
        sandbox,
        "to-sfn",
        ALARM_PATTERN | {"detail": {"state": {"value": ["ALARM"]}}},
        {"Arn": machine, "InputPath": "$.detail", "RoleArn": targets.role()},
    )
    targets.function("orders", builds=("v1", "v2"), failing=("v2",))
    lambdas = sandbox.client("lambda")
    lambdas.update_alias(FunctionName="orders", Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    cloudwatch = sandbox.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="canary-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Dimensions=[
            {"Name": "FunctionName", "Value": "orders"},
            {"Name": "Resource", "Value": "orders:live"},
            {"Name": "ExecutedVersion", "Value": "2"},
        ],
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    wait_until(
        lambda: executions(sandbox, machine) == []
        and cloudwatch.describe_alarms(AlarmNames=["canary-errors"])["MetricAlarms"][0]["StateValue"] == "OK",
        what="the new alarm evaluated to OK without data",
    )
    while lambdas.invoke(FunctionName="orders:live", Payload=b"{}")["ExecutedVersion"] != "2":
        pass

    done = wait_until(
        lambda: [e for e in executions(sandbox, machine) if e["status"] == "SUCCEEDED"],
        what="the state machine ran",
    )
    assert len(done) == 1
    detail = json.loads(done[0]["input"])
    assert detail["alarmName"] == "canary-errors"
    assert detail["state"]["value"] == "ALARM" and detail["previousState"]["value"] == "OK"
    assert detail["state"]["reason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [1.0")
    assert json.loads(detail["state"]["reasonData"])["recentDatapoints"] == [1.0]


def test_custom_bus_constant_input_and_disabled_rule(sandbox: Sandbox, recorder: Recorder) -> None:
    arn = recorder.function("on-release")
    events = sandbox.client("events")
    events.create_event_bus(Name="releases")
    pattern = {"source": ["promoter"], "detail-type": ["Promotion Status Changed"]}
    rule_to(sandbox, "constant", pattern, {"Arn": arn, "Input": json.dumps({"constant": True})}, bus="releases")
    rule_to(sandbox, "whole", pattern, {"Arn": arn}, bus="releases")
    rule_to(
        sandbox,
        "off",
        pattern,
        {"Arn": arn, "Input": json.dumps({"disabled": True})},
        bus="releases",
        State="DISABLED",
    )
    rule_to(
        sandbox,
        "other",
        {"source": ["someone-else"]},
        {"Arn": arn, "Input": json.dumps({"other": True})},
        bus="releases",
    )
    events.put_events(
        Entries=[
            {
                "Source": "promoter",
                "DetailType": "Promotion Status Changed",
                "Detail": json.dumps({"status": "RUNNING"}),
                "EventBusName": "releases",
            }
        ]
    )
    received = recorder.wait("on-release", count=2)
    sandbox.settle()
    received = recorder.events("on-release")
    assert {"constant": True} in received
    whole = next(e for e in received if "detail" in e)
    assert whole["detail"] == {"status": "RUNNING"} and whole["source"] == "promoter"
    assert len(received) == 2  # neither the disabled rule nor the non-matching one delivered


def test_delivery_is_asynchronous(sandbox: Sandbox, recorder: Recorder) -> None:
    """PutEvents returns before the target runs, as in AWS: the target runs on a worker thread.

    The test holds the runner's lock (handlers run one at a time). A delivery on this thread would
    re-enter it (an RLock) and record at once; a worker thread has to wait until we let go.
    """
    arn = recorder.function("later")
    rule_to(sandbox, "r", {"source": ["me"]}, {"Arn": arn})
    with runtime.HOLD:
        sandbox.client("events").put_events(Entries=[{"Source": "me", "DetailType": "x", "Detail": "{}"}])
        assert recorder.events("later") == []
    assert recorder.wait("later")


def test_rule_from_template_reaches_the_alarm_listener(sandbox: Sandbox, targets: Targets) -> None:
    """template.yaml's AlarmListener rule (made by CloudFormation) runs the real handler, which parses
    the event with the promoter's own model: an Errors datapoint of 0 says it accepted the shape."""
    listener = sandbox.physical_id("AlarmListenerFunction")
    targets.function("orders")
    targets.alarm("orders-errors", "orders")
    targets.set_alarm("orders-errors", "ALARM", "errors on the canary")
    cloudwatch = sandbox.client("cloudwatch")

    def listener_metric(name: str) -> float | None:
        now = sandbox.clock.datetime()
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=name,
            Dimensions=[{"Name": "FunctionName", "Value": listener}],
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(hours=1),
            Period=7200,
            Statistics=["Sum"],
        )["Datapoints"]
        return points[0]["Sum"] if points else None

    wait_until(lambda: listener_metric("Invocations") == 1, what="one invocation of the alarm listener")
    assert listener_metric("Errors") == 0


def test_invoke_types_event_and_dry_run(sandbox: Sandbox, recorder: Recorder) -> None:
    """InvocationType=Event returns 202 before the function runs (on a worker); DryRun runs nothing."""
    recorder.function("invoked")
    lambdas = sandbox.client("lambda")
    assert lambdas.invoke(FunctionName="invoked", InvocationType="DryRun", Payload=b"{}")["StatusCode"] == 204
    with runtime.HOLD:
        response = lambdas.invoke(FunctionName="invoked", InvocationType="Event", Payload=b'{"n": 1}')
        assert response["StatusCode"] == 202
        assert recorder.events("invoked") == []
    assert recorder.wait("invoked") == [{"n": 1}]
    sandbox.settle()
    assert recorder.events("invoked") == [{"n": 1}]
