"""Every permission earns its place (bench/iam_matrix.py).

- The API's routes through the deployed ApiFunction, so its own role is what AWS checks: the other
  API tests call the routes in the test process, as the account's root.
- The record agrees with removal: for a sample of actions the record calls "needed", a copy of the
  template without that action, deployed into a fresh sandbox, makes the scenario that used it
  fail with AccessDenied.
- The table of actions only AWS uses is exactly the statements' CloudWatch Logs and X-Ray actions
  and SAM's role for the reconciler's schedule.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from bench import iam_matrix
from promoter.models import PromotionRequest, Signal, Status
from sandbox import Sandbox
from sandbox.aws.iam import policy as iam
from sandbox.deploy import ROOT
from sandbox.fixtures.accounts import AccountSession, deploy_target_account
from sandbox.fixtures.targets import Targets, zip_source
from tests.api.conftest import Answer, ApiGateway
from tests.conftest import TIME_SCALE
from tests.events.test_alarm_listener import alarm_event, hold_alarm_in, invoke_listener, start_long_bake
from tests.pipelines.conftest import DEV, PROD, STAGING, definition, world  # noqa: F401 - the two-account world

ACCOUNT_A = "123456789012"
ACCOUNT_B = "222222222222"
EXTERNAL_ID = "matrix-7f3a"
LONG_BAKE = {"type": "canary", "weight": 0.1, "bake_seconds": 3000}  # 60 s at the tests' time scale
VERB = {s: s.value.replace("_", "-") for s in Signal}


# --- the API through its own function ---------------------------------------------------------------
class FunctionGateway(ApiGateway):
    """Sends API Gateway's events to the deployed ApiFunction (Lambda Invoke), as API Gateway's
    AWS_PROXY integration does: the handler runs with ApiFunction's execution role."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(app=None)  # type: ignore[arg-type]
        self.lambdas = sandbox.client("lambda")
        self.function = sandbox.physical_id("ApiFunction")

    def send(self, name: str, **changes: Any) -> Answer:
        event = self.event(name, **changes)
        raw = self.lambdas.invoke(FunctionName=self.function, Payload=json.dumps(event).encode())
        answer = json.loads(raw["Payload"].read())
        assert "FunctionError" not in raw, answer
        body = json.loads(answer["body"]) if answer.get("body") else None
        return Answer(answer["statusCode"], dict(answer.get("headers") or {}), body)


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)
    return found


def baking(sandbox: Sandbox, promotion_id: str) -> None:
    service = sandbox.service()
    wait_until(
        lambda: (p := service.get(promotion_id)).current_weight == 0.1 and p.task_token is not None,
        "baking on the first step",
    )


def start(api: FunctionGateway, **body: Any) -> str:
    answer = api.send("start_promotion", body={"function": "orders", "alias": "live", "version": "2"} | body)
    assert answer.status == 202, answer.body
    return answer.body["id"]


def signal(api: FunctionGateway, promotion_id: str, which: Signal) -> Answer:
    return api.send(f"{which.value}_promotion", path=f"/promotions/{promotion_id}/{VERB[which]}")


@contextmanager
def recorded() -> Iterator[Callable[[], list]]:
    """The evaluator's record of the calls made inside the block. Under bench/iam_matrix.py the
    recording is already on for the whole run: it is left on, and its earlier entries kept."""
    already = iam._RECORDING.is_set()
    if not already:
        iam.recording(True)
    start = len(iam.RECORD)
    try:
        yield lambda: iam.RECORD[start:]
    finally:
        if not already:
            iam._RECORDING.clear()


def api_calls(record: list) -> set[tuple[str, str]]:
    """(policy, action) of the calls ApiFunction's role made, as the matrix names them."""
    return {
        (iam_matrix.logical_name(m.policy), action)
        for principal, action, _resource, allows in record
        if "ApiFunctionRole" in principal
        for m in allows
    }


def test_the_api_function_role_allows_each_route_start_signals_abort_aliases_schedules(sandbox, targets):
    targets.function("orders")
    targets.alarm("orders-errors", "orders")
    api = FunctionGateway(sandbox)
    with recorded() as record:
        # start (alarms checked, idempotent), then pause, resume and promote-now on the bake's token
        first = api.send(
            "start_promotion",
            body={"function": "orders", "alias": "live", "version": "2", "strategy": LONG_BAKE,
                  "alarms": ["orders-errors"]},
            idempotency_key="matrix-1",
        )  # fmt: skip
        assert first.status == 202, first.body
        again = api.send(
            "start_promotion",
            body={"function": "orders", "alias": "live", "version": "2", "strategy": LONG_BAKE,
                  "alarms": ["orders-errors"]},
            idempotency_key="matrix-1",
        )  # fmt: skip
        assert (again.status, again.body["id"]) == (202, first.body["id"])
        promotion_id = first.body["id"]
        baking(sandbox, promotion_id)
        busy = api.send(
            "start_promotion",
            body={"function": "orders", "alias": "live", "version": "2", "strategy": LONG_BAKE},
            idempotency_key="matrix-2",
        )
        assert busy.status == 409, busy.body  # refused inside the idempotent call: its key is released
        assert signal(api, promotion_id, Signal.PAUSE).status == 202
        sandbox.wait_for_status(promotion_id, Status.PAUSED)
        assert signal(api, promotion_id, Signal.RESUME).status == 202
        baking(sandbox, promotion_id)
        assert signal(api, promotion_id, Signal.PROMOTE_NOW).status == 202
        assert sandbox.wait_until_final(promotion_id).status is Status.SUCCEEDED

        # abort during a bake (SendTaskFailure), and abort of one whose execution was stopped (repair)
        aborted = start(api, version="1", strategy=LONG_BAKE)
        baking(sandbox, aborted)
        assert signal(api, aborted, Signal.ABORT).status == 202
        assert sandbox.wait_until_final(aborted).status is Status.ABORTED
        orphan = start(api, version="1", strategy=LONG_BAKE)
        baking(sandbox, orphan)
        sfn, execution = sandbox.client("stepfunctions"), sandbox.service().get(orphan).execution_arn
        sfn.stop_execution(executionArn=execution)
        wait_until(lambda: sfn.describe_execution(executionArn=execution)["status"] != "RUNNING", "stopped")
        repaired = signal(api, orphan, Signal.ABORT)
        assert repaired.status in (200, 202), repaired.body
        assert sandbox.wait_until_final(orphan).status.is_final

        # approval by another principal
        protected = start(api, version="1", approval=True, strategy={"type": "all-at-once"})
        sandbox.wait_for_status(protected, Status.AWAITING_APPROVAL)
        bob = {  # another role than the starter's (four eyes compare assumed roles by role)
            "userArn": f"arn:aws:sts::{ACCOUNT_A}:assumed-role/release-manager/bob",
            "caller": "AROAEXAMPLE:bob",
            "user": "AROAEXAMPLE:bob",
            "accountId": ACCOUNT_A,
            "accessKey": "ASIAEXAMPLEBOB",
        }
        approved = api.send("approve_promotion", path=f"/promotions/{protected}/approve", identity=bob)
        assert approved.status == 202, approved.body
        assert sandbox.wait_until_final(protected).status is Status.SUCCEEDED

        # the inventory, and a schedule created and deleted (handing it SchedulerRole)
        aliases = api.send("list_aliases", path="/functions/orders/aliases")
        assert aliases.status == 200, aliases.body
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
        schedule = api.send(
            "create_schedule",
            body={"at": at, "promotion": {"function": "orders", "alias": "live", "version": "2",
                                          "strategy": {"type": "all-at-once"}}},
        )  # fmt: skip
        assert schedule.status == 201, schedule.body
        deleted = api.send("delete_schedule", path=f"/schedules/{schedule.body['id']}")
        assert deleted.status == 200, deleted.body
        calls = api_calls(record())
        denied = [(p, a, r) for p, a, r, allows in record() if not allows and "ApiFunctionRole" in p]
    assert denied == []
    assert {
        ("ManagedTargetsPolicy", "lambda:GetFunction"),
        ("ManagedTargetsPolicy", "lambda:ListTags"),
        ("AlarmReadPolicy", "cloudwatch:DescribeAlarms"),
        ("TaskTokenPolicy", "states:SendTaskSuccess"),
        ("TaskTokenPolicy", "states:SendTaskFailure"),
        ("ExecutionRepairPolicy", "states:DescribeExecution"),
        ("ApiFunctionRolePolicy11", "lambda:ListAliases"),
        ("ScheduleManagementPolicy", "scheduler:CreateSchedule"),
        ("ScheduleManagementPolicy", "scheduler:DeleteSchedule"),
        ("ScheduleManagementPolicy", "iam:PassRole"),
        ("StatusEventsPolicy", "events:PutEvents"),
        ("ApiFunctionRolePolicy4", "dynamodb:PutItem"),
        ("ApiFunctionRolePolicy4", "dynamodb:UpdateItem"),
        ("ApiFunctionRolePolicy4", "dynamodb:DeleteItem"),
    } <= calls


def test_the_api_function_role_carries_a_pipeline_artifact_to_another_function_with_its_layers(
    world,  # noqa: F811
    sandbox,
):
    """dev and staging are aliases of ``orders``; ``orders-qa`` is another function of account A: the
    API's role compares the layers (GetLayerVersion of both: the same content under another ARN), and
    the workflow's Carry step copies the artifact with CarryFunction's role (UpdateFunctionCode,
    PublishVersion); the API's role neither uploads nor publishes it."""
    lambdas = world.a.lambdas
    content = zip_source("VALUE = 1\n", "shared.py")
    layer_a, layer_b = (
        lambdas.publish_layer_version(LayerName=name, Content={"ZipFile": content})["LayerVersionArn"]
        for name in ("shared-a", "shared-b")
    )
    lambdas.update_function_configuration(FunctionName="orders", Layers=[layer_a])
    version = lambdas.publish_version(FunctionName="orders")["Version"]
    world.a.function("orders-qa", builds=("qa-v1",))
    lambdas.update_function_configuration(FunctionName="orders-qa", Layers=[layer_b])
    qa = {"name": "qa", "function": "orders-qa", "alias": "live", "strategy": {"type": "all-at-once"}}
    api = FunctionGateway(sandbox)
    with recorded() as record:
        stored = api.send(
            "put_pipeline", path="/pipelines/orders", body=definition() | {"environments": [DEV, STAGING, qa]}
        )
        assert stored.status == 200, stored.body
        for step in ({"to": "dev", "version": version}, {"to": "staging"}, {"to": "qa"}):
            answer = api.send("promote_pipeline", path="/pipelines/orders/promote", body=step)
            assert answer.status == 202, (step, answer.body)
            assert sandbox.wait_until_final(answer.body["id"], timeout=120).status is Status.SUCCEEDED, step
        inventory = api.send("get_pipeline", path="/pipelines/orders")
        assert inventory.status == 200, inventory.body
        assert api.send("delete_pipeline", path="/pipelines/orders").status == 200
        calls = api_calls(record())
        carry_calls = {
            (iam_matrix.logical_name(m.policy), action)
            for principal, action, _resource, allows in record()
            if "CarryFunctionRole" in principal
            for m in allows
        }
        denied = [
            (p, a, r) for p, a, r, allows in record() if not allows and ("ApiFunctionRole" in p or "CarryFunction" in p)
        ]
    state = {e["name"]: e for e in inventory.body["state"]}
    assert len({state[n]["code_sha256"] for n in state}) == 1  # one artifact in all three
    assert denied == []
    assert {
        ("LayerReadPolicy", "lambda:GetLayerVersion"),
        ("ManagedTargetsPolicy", "lambda:GetFunction"),
        ("PromotionsTablePolicy", "dynamodb:DeleteItem"),
    } <= calls
    assert not {a for _p, a in calls} & {"lambda:UpdateFunctionCode"}
    assert {
        ("ArtifactCopyPolicy", "lambda:UpdateFunctionCode"),
        ("ManagedTargetsPolicy", "lambda:PublishVersion"),
        ("PromotionsTablePolicy", "dynamodb:PutItem"),
    } <= carry_calls


# --- roles of the other functions, where the suite had no call ---------------------------------------
def test_a_listener_rollback_that_meets_an_out_of_band_alias_change_reads_the_alias_with_its_role(sandbox, targets):
    target, started = start_long_bake(sandbox, targets)
    lambdas = sandbox.client("lambda")
    lambdas.update_alias(FunctionName="orders", Name="live", FunctionVersion="2", RoutingConfig={})  # by hand
    hold_alarm_in("ALARM")
    with recorded() as record:
        invoke_listener(sandbox, alarm_event("orders-errors"))
        calls = [
            (iam_matrix.logical_name(m.policy), action)
            for principal, action, _resource, allows in record()
            if "AlarmListenerFunctionRole" in principal
            for m in allows
        ]
        denied = [(p, a, r) for p, a, r, allows in record() if not allows]
    assert sandbox.wait_until_final(started.id).status.is_final
    assert targets.alias_state("orders", "live")["version"] == "2"  # someone else's change is kept
    assert denied == []
    assert ("AliasRollbackPolicy", "lambda:GetAlias") in calls


def test_a_hook_in_account_b_is_invoked_through_the_target_role(sandbox, tmp_path):
    with recorded() as record:
        status = promotion_in_account_b(sandbox, tmp_path, hook=True)
        calls = {
            (iam_matrix.logical_name(m.policy), m.statement, action)
            for principal, action, _resource, allows in record()
            if principal.endswith(":role/lambda-promoter-target")
            for m in allows
        }
        denied = [(p, a, r) for p, a, r, allows in record() if not allows]
    assert status is Status.SUCCEEDED
    assert denied == []
    assert ("PromoteManagedFunctions", "ManagedFunctionsOnly", "lambda:InvokeFunction") in calls


# --- the record agrees with removal -------------------------------------------------------------------
@dataclass(frozen=True)
class Removal:
    file: str  # template.yaml or target-account.yaml
    policy: str  # as the matrix names it
    sid: str
    action: str
    scenario: str  # a function below


STATE_MACHINE_POLICY = "PromotionStateMachineRolePolicy"


def _without(document: dict[str, Any], sid: str, action: str) -> None:
    statements = document["Statement"]
    for index, statement in enumerate(list(statements)):
        if str(statement.get("Sid") or index) == sid:
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert action in listed, (sid, listed)
            statement["Action"] = [a for a in listed if a != action]
            if not statement["Action"]:
                statements.remove(statement)
            return
    raise AssertionError(f"no statement {sid}")


def template_without(removal: Removal, directory: Path) -> Path:
    """A copy of the template without the action (JSON is YAML: the sandbox deploys it as is). A
    policy left without statements goes too (IAM refuses an empty one), with its references."""
    source = ROOT / "template.yaml" if removal.file == "template.yaml" else iam_matrix.TARGET_TEMPLATE
    template = yaml_parse(source.read_text())
    resources = template["Resources"]
    managed = resources.get(removal.policy, {})
    if removal.policy.startswith(STATE_MACHINE_POLICY):  # SAM names them by their place in the list
        policies = resources["PromotionStateMachine"]["Properties"]["Policies"]
        (policy_template,) = policies.pop(int(removal.policy.removeprefix(STATE_MACHINE_POLICY)))
        assert (policy_template, removal.action) == ("LambdaInvokePolicy", "lambda:InvokeFunction"), policy_template
    elif managed.get("Type") == "AWS::IAM::ManagedPolicy":
        _without(managed["Properties"]["PolicyDocument"], removal.sid, removal.action)
        if not managed["Properties"]["PolicyDocument"]["Statement"]:
            del resources[removal.policy]
            for resource in resources.values():
                props = resource.get("Properties", {})
                if isinstance(props.get("Policies"), list):
                    props["Policies"] = [p for p in props["Policies"] if p != {"Ref": removal.policy}]
    else:
        ((owner, inline),) = [
            (props["Policies"], policy)
            for resource in resources.values()
            if isinstance((props := resource.get("Properties", {})).get("Policies"), list)
            for policy in props["Policies"]
            if isinstance(policy, dict) and policy.get("PolicyName") == removal.policy
        ]
        _without(inline["PolicyDocument"], removal.sid, removal.action)
        if not inline["PolicyDocument"]["Statement"]:
            owner.remove(inline)
    path = directory / source.name
    path.write_text(json.dumps(template))
    return path


def _denials(sandbox: Sandbox, action: str) -> list[str]:
    """AccessDenied messages naming ``action`` in the executions' histories and the functions' logs."""
    found: list[str] = []
    needle = f"is not authorized to perform: {action}"
    sfn = sandbox.client("stepfunctions")
    for execution in sfn.list_executions(stateMachineArn=sandbox.outputs["StateMachineArn"])["executions"]:
        events = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
        history = json.dumps(events, default=str)
        found += [needle] * history.count(needle)
    logs = sandbox.client("logs")
    for group in logs.describe_log_groups()["logGroups"]:
        for event in logs.filter_log_events(logGroupName=group["logGroupName"])["events"]:
            if needle in event["message"] and "AccessDenied" in event["message"]:
                found.append(event["message"])
    return found


def _promote(sandbox: Sandbox, **fields: Any) -> Status:
    targets = Targets(region=sandbox.region)
    target = targets.function("orders")
    body = {"function": "orders", "alias": "live", "version": target.versions[-1],
            "strategy": {"type": "canary", "weight": 0.1, "bake_seconds": 2}} | fields  # fmt: skip
    try:
        promotion = sandbox.service().start(PromotionRequest.model_validate(body), actor="matrix")
    except Exception as error:  # noqa: BLE001 - a start refused by IAM is the outcome
        assert "AccessDenied" in str(error), error
        return Status.FAILED
    return sandbox.wait_until_final(promotion.id, timeout=120).status


def promotion(sandbox: Sandbox, directory: Path) -> Status:
    return _promote(sandbox)


def promotion_with_alarm(sandbox: Sandbox, directory: Path) -> Status:
    Targets(region=sandbox.region).alarm("orders-errors", "orders")
    return _promote(sandbox, alarms=["orders-errors"])


def promotion_with_hook(sandbox: Sandbox, directory: Path) -> Status:
    hook = Targets(region=sandbox.region).hook("orders-pre")
    return _promote(sandbox, hooks={"pre_traffic": hook})


def promotion_in_account_b(sandbox: Sandbox, directory: Path, *, hook: bool = False) -> Status:
    """A promotion of a function of account B, through the role of the (maybe changed) target
    template; with ``hook``, a pre-traffic hook that is a function of account B too."""
    b = AccountSession(ACCOUNT_B, region=sandbox.region)
    template = directory / "target-account.yaml"
    outputs = deploy_target_account(
        b,
        control_plane_account=ACCOUNT_A,
        external_id=EXTERNAL_ID,
        template=template if template.exists() else iam_matrix.TARGET_TEMPLATE,
    )
    in_b = Targets(session=b)  # type: ignore[arg-type]
    target = in_b.function("orders")
    body = {"function": "orders", "alias": "live", "version": target.versions[-1], "role_arn": outputs["RoleArn"],
            "external_id": EXTERNAL_ID, "strategy": {"type": "canary", "weight": 0.1, "bake_seconds": 2}}  # fmt: skip
    if hook:
        body["hooks"] = {"pre_traffic": in_b.hook("orders-pre")}
    try:
        started = sandbox.service().start(PromotionRequest.model_validate(body), actor="matrix")
    except Exception as error:  # noqa: BLE001 - a start refused by IAM is the outcome
        assert "AccessDenied" in str(error), error
        return Status.FAILED
    return sandbox.wait_until_final(started.id, timeout=120).status


def promotion_with_fast_gate(sandbox: Sandbox, directory: Path) -> Status:
    return _promote(sandbox, fast_gate={})


SCENARIOS = {
    f.__name__: f
    for f in (promotion, promotion_with_alarm, promotion_with_hook, promotion_in_account_b, promotion_with_fast_gate)
}
SAMPLE = [
    Removal("template.yaml", "StatusEventsPolicy", "0", "events:PutEvents", "promotion"),
    Removal("template.yaml", "ManagedTargetsPolicy", "ManagedFunctionsOnly", "lambda:UpdateAlias", "promotion"),
    Removal("template.yaml", "AlarmReadPolicy", "0", "cloudwatch:DescribeAlarms", "promotion_with_alarm"),
    Removal("template.yaml", "HookInvokePolicy", "ManagedFunctionsOnly", "lambda:InvokeFunction",
            "promotion_with_hook"),
    Removal("target-account.yaml", "PromoteManagedFunctions", "ManagedFunctionsOnly", "lambda:UpdateAlias",
            "promotion_in_account_b"),
    Removal("template.yaml", "FastGateSubscribePolicy", "FastGateSubscription", "logs:PutSubscriptionFilter",
            "promotion_with_fast_gate"),
    # The state machine's role: its Shift task's function (the fifth LambdaInvokePolicy)
    Removal("template.yaml", f"{STATE_MACHINE_POLICY}4", "0", "lambda:InvokeFunction", "promotion"),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("removal", SAMPLE, ids=lambda r: f"{r.policy}-{r.action}")
def test_an_action_the_record_calls_needed_breaks_its_scenario_with_access_denied_when_removed(removal, tmp_path):
    # 1. the intact template: the scenario succeeds, and the record says this statement alone allowed a call
    with recorded() as record, Sandbox(time_scale=TIME_SCALE) as box:
        assert SCENARIOS[removal.scenario](box, tmp_path) is Status.SUCCEEDED
        entries = [("scenario", entry) for entry in record()]
    (row,) = [
        r
        for r in iam_matrix.rows(iam_matrix.matrix(entries), iam_matrix.template_statements())
        if (r.statement.policy, r.statement.sid, r.action) == (removal.policy, removal.sid, removal.action)
    ]
    assert row.verdict == "needed", row

    # 2. without the action, in a fresh sandbox: the same scenario fails, with AccessDenied for it
    changed = template_without(removal, tmp_path)
    if removal.file == "template.yaml":
        with Sandbox(time_scale=TIME_SCALE, template_path=changed) as box:
            status = SCENARIOS[removal.scenario](box, tmp_path)
            denials = _denials(box, removal.action)
    else:
        with Sandbox(time_scale=TIME_SCALE) as box:
            status = SCENARIOS[removal.scenario](box, tmp_path)
            denials = _denials(box, removal.action)
    assert status is not Status.SUCCEEDED
    assert denials, f"no AccessDenied for {removal.action}"


# --- what only AWS uses -------------------------------------------------------------------------------
def test_the_aws_only_table_is_exactly_the_logs_and_xray_actions_and_the_generated_schedule_role():
    """The product's code never calls X-Ray, and CloudWatch Logs only for the fast gate's subscription
    filter (Lambda and Step Functions call both, with the role); SAM's role for a ScheduleV2 event is
    used by a schedule the sandbox cannot create."""
    statements = iam_matrix.template_statements()
    fast_gate = {"FastGateSubscription", "FastGateUnsubscribe"}  # the product's own calls: exercised
    logs_and_xray = {
        (s.policy, s.sid, a)
        for s in statements
        for a in s.actions
        if a.split(":")[0] in ("logs", "xray") and s.sid not in fast_gate
    }
    schedule_v2 = {  # <Function><Event>LambdaPolicy
        (s.policy, s.sid, a) for s in statements if s.policy.endswith("LambdaPolicy") for a in s.actions
    }
    assert {a for _p, _s, a in logs_and_xray} >= {"logs:CreateLogDelivery", "logs:PutResourcePolicy"}
    assert schedule_v2 == {("ReconcileFunctionEveryFiveMinutesLambdaPolicy", "0", "lambda:InvokeFunction")}
    aws_only = {(s.policy, s.sid, a) for s in statements for a in s.actions if iam_matrix.aws_only(s.policy, s.sid, a)}
    assert aws_only == logs_and_xray | schedule_v2
