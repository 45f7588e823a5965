"""Observable once it runs: Step Functions logging and tracing, and a dashboard of the control plane
whose LambdaPromoter metrics are the ones promoter.observability emits, asserted on the template
SAM produces (translated with aws-sam-translator, as the sandbox deploys it)."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
from typing import Any
from unittest import mock

import pytest

from promoter import observability
from promoter.models import PromotionRequest, Signal, Status
from tests.contract.test_deploy import refs, sam_template, translate
from tests.fakes import DrivenExecution, FakeClock, Fakes, Parked, request_body

# The example policy of Step Functions' "Logging using CloudWatch Logs" page, for the state
# machine's role (log delivery to a log group).
LOGGING_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:CreateLogStream",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutLogEvents",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
XRAY_WRITE = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    with mock.patch.dict("os.environ", {"AWS_DEFAULT_REGION": "us-east-1"}):
        return translate()


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return set(action if isinstance(action, list) else [action])


# --- Step Functions: logging and tracing ---------------------------------------------------------
def test_the_state_machine_logs_errors_without_execution_data_to_its_own_log_group(cfn):
    props = cfn["Resources"]["PromotionStateMachine"]["Properties"]
    logging = props["LoggingConfiguration"]
    assert logging["Level"] in ("ERROR", "ALL")
    assert logging["IncludeExecutionData"] is False  # inputs carry task tokens and external ids
    [destination] = logging["Destinations"]
    assert destination["CloudWatchLogsLogGroup"]["LogGroupArn"] == {"Fn::GetAtt": ["StateMachineLogGroup", "Arn"]}
    group = cfn["Resources"]["StateMachineLogGroup"]["Properties"]
    # /aws/vendedlogs/ keeps the log group out of the account's 5 KB CloudWatch Logs resource policy
    assert group["LogGroupName"]["Fn::Sub"].startswith("/aws/vendedlogs/states/")
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_the_state_machine_role_may_deliver_logs_as_the_docs_require(cfn):
    role = cfn["Resources"][cfn["Resources"]["PromotionStateMachine"]["Properties"]["RoleArn"]["Fn::GetAtt"][0]]
    granted = [s for s in statements(role) if s["Effect"] == "Allow" and actions(s) & LOGGING_ACTIONS]
    assert set().union(*(actions(s) for s in granted)) >= LOGGING_ACTIONS
    assert all(s["Resource"] == "*" for s in granted)  # log delivery actions take no resource ARN


def test_the_state_machine_is_traced_and_may_write_traces(cfn):
    props = cfn["Resources"]["PromotionStateMachine"]["Properties"]
    assert props["TracingConfiguration"] == {"Enabled": True}
    role = cfn["Resources"][props["RoleArn"]["Fn::GetAtt"][0]]
    assert XRAY_WRITE in role["Properties"]["ManagedPolicyArns"]


def test_every_function_is_traced(cfn):
    functions = {k: v for k, v in cfn["Resources"].items() if v["Type"] == "AWS::Lambda::Function"}
    assert functions
    for name, function in functions.items():
        assert function["Properties"].get("TracingConfig") == {"Mode": "Active"}, name


# --- the dashboard ------------------------------------------------------------------------------
def dashboard_body(cfn: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The body as JSON (each ${X} replaced by a marker), and the Sub text itself."""
    text = cfn["Resources"]["ControlPlaneDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return json.loads(re.sub(r"\$\{([^}]+)\}", r"REF:\1", text)), text


def metric_lines(body: dict[str, Any]) -> list[tuple[str, str, dict[str, str], dict[str, Any]]]:
    """(namespace, name, dimensions, options) of every metric line of every widget."""
    lines = []
    for widget in body["widgets"]:
        for line in widget["properties"]["metrics"]:
            if isinstance(line[0], dict):
                continue  # an expression
            options = line[-1] if isinstance(line[-1], dict) else {}
            names = [x for x in line if not isinstance(x, dict)]
            lines.append((names[0], names[1], dict(zip(names[2::2], names[3::2], strict=True)), options))
    return lines


@functools.cache
def emitted() -> list[dict[str, Any]]:
    """The EMF documents the real protocol emits on fakes: a success, an alarm rollback, an abort."""
    out = io.StringIO()
    fakes, clock = Fakes(), FakeClock()
    with mock.patch("promoter.clock.now", clock.now), contextlib.redirect_stdout(out):
        current: list[str] = []

        def run(on_wait: Any = None, **overrides: Any) -> None:
            started = fakes.service.start(PromotionRequest.model_validate(request_body(**overrides)), actor="a")
            current[:] = [started.id]
            DrivenExecution(fakes, started.id, fakes.workflow.started[-1][0], clock_=clock, on_wait=on_wait).run()

        def alarm(parked: Parked) -> None:
            if parked.kind == "hold":
                fakes.alarms.alarm_states["orders-errors"] = "ALARM"
                fakes.service.alarm_fired("orders-errors", "errors", changed_at=clock.now())

        def abort(parked: Parked) -> None:
            if parked.kind == "hold":
                fakes.service.signal(current[0], Signal.ABORT, "bob", "no")

        run()
        fakes.alarms.alarm_states["orders-errors"] = "OK"
        run(alarm, version="3")
        fakes.alarms.alarm_states["orders-errors"] = "OK"
        run(abort, version="3")
    return [json.loads(line) for line in out.getvalue().splitlines() if line.startswith('{"_aws"')]


def emitted_series() -> set[tuple[str, str, frozenset[tuple[str, str]]]]:
    """(namespace, metric, dimensions with values) of every series the documents publish."""
    series = set()
    for document in emitted():
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dims = frozenset((k, document[k]) for k in dimension_set)
                for metric in directive["Metrics"]:
                    series.add((directive["Namespace"], metric["Name"], dims))
    return series


def test_the_dashboard_charts_the_control_plane_itself(cfn):
    body, text = dashboard_body(cfn)
    lines = metric_lines(body)
    states = [(n, d) for ns, n, d, _ in lines if ns == "AWS/States"]
    assert {n for n, _ in states} >= {"ExecutionsFailed", "ExecutionsTimedOut"}
    assert all(d == {"StateMachineArn": "REF:PromotionStateMachine"} for _, d in states)  # Ref is its ARN
    errors = [d for ns, n, d, _ in lines if (ns, n) == ("AWS/Lambda", "Errors")]
    assert {"FunctionName": "REF:AlarmListenerFunction"} in errors
    assert {"PromotionStateMachine", "AlarmListenerFunction"} <= refs({"Fn::Sub": text})
    assert all(w["properties"]["region"] == "REF:AWS::Region" for w in body["widgets"])
    latency = {o.get("stat") for ns, n, _, o in lines if n == "RollbackLatency"}
    assert latency == {"p50", "p99"}


def test_the_dashboards_promoter_metrics_are_the_series_the_code_emits(cfn):
    body, _ = dashboard_body(cfn)
    namespace = sam_template()["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    assert namespace == observability.DEFAULT_NAMESPACE
    series = emitted_series()
    assert {name for _, name, _ in series} >= {
        "PromotionsStarted",
        "PromotionsFinished",
        "RollbackLatency",
        "StepDuration",
    }
    ours = [(ns, n, d) for ns, n, d, _ in metric_lines(body) if ns == namespace]
    assert {n for _, n, _ in ours} == {"PromotionsStarted", "PromotionsFinished", "RollbackLatency", "StepDuration"}
    shapes = {(ns, n, frozenset(k for k, _ in d)) for ns, n, d in series}
    for ns, name, dims in ours:
        # a series is found only by its exact dimension set, so each line must be one the code emits
        assert (ns, name, frozenset(dims)) in shapes, (name, dims)
        assert dims["service"] == observability.SERVICE
        if "Status" in dims:
            assert Status(dims["Status"]).is_final
    # the statuses the runs above produced are charted with the values the code writes
    charted = {d.get("Status") for _, n, d in ours if n == "PromotionsFinished"}
    produced = {dict(d).get("Status") for _, n, d in series if n == "PromotionsFinished"} - {None}
    assert produced and produced <= charted
    assert charted == {s.value for s in Status if s.is_final}


def test_the_cause_search_matches_the_dimension_set_by_status_and_cause(cfn):
    body, _ = dashboard_body(cfn)
    expressions = [
        line[0]["expression"]
        for w in body["widgets"]
        for line in w["properties"]["metrics"]
        if isinstance(line[0], dict)
    ]
    [search] = [e for e in expressions if "PromotionsFinished" in e]
    schema = re.search(r"\{([^}]*)\}", search).group(1).split(",")
    namespace, keys = schema[0], frozenset(schema[1:])
    shapes = {(ns, n, frozenset(k for k, _ in d)) for ns, n, d in emitted_series()}
    assert (namespace, "PromotionsFinished", keys) in shapes


def test_the_dashboard_is_created_by_the_sandbox_deploy(sandbox):
    name = f"{sandbox.stack_name}-control-plane"
    dashboard = sandbox.client("cloudwatch").get_dashboard(DashboardName=name)
    body = json.loads(dashboard["DashboardBody"])
    machine = sandbox.physical_id("PromotionStateMachine")
    states = [line for w in body["widgets"] for line in w["properties"]["metrics"] if line[0] == "AWS/States"]
    assert states and all(line[3] == machine for line in states)  # the deployed machine's ARN
