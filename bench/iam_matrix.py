"""The permission matrix: for each IAM statement of template.yaml and templates/target-account.yaml
(as SAM translates them: policy templates become inline policies of the function's role) and each
action in it, whether a call the product made while the tests ran on the strict sandbox was
allowed by it.

The sandbox's evaluator (sandbox/aws/iam/policy.py) records, while recording is on, every call made by a
role or user and every statement that allowed it; a state machine's tasks call as its role, and
Scheduler's calls to its targets are checked against the schedule's role (``iam.service_may``).
EventBridge putting on another account's bus with a target's role runs as the account's root in the
sandbox; the plugin below records what that role's policies allow for it, without enforcing it.

An action of a statement is **needed** when some call was allowed by that statement alone
(removing the action denies the call: tests/sandbox/test_iam_matrix.py checks a sample),
**redundant** when every call it allowed was also allowed by another statement, **AWS only** when
only AWS uses it (``aws_only``, with the reason), and **unexercised** otherwise: then it is either
not needed (remove it) or not tested (test it). Each row names the first test that used it.

    .venv/bin/python -m bench.iam_matrix                      # the sandbox tiers (DEFAULT_TESTS)
    .venv/bin/python -m bench.iam_matrix tests/workflow       # or any pytest arguments
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from sandbox.aws.iam import policy as iam

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
TARGET_TEMPLATE = ROOT / "templates" / "target-account.yaml"
# The tiers that run on the in-process sandbox (tests/cli drives a server process: not recorded).
DEFAULT_TESTS = [
    "tests/workflow",
    "tests/api",
    "tests/events",
    "tests/pipelines",
    "tests/schedules",
    "tests/sandbox",
    "--ignore=tests/workflow/test_fault_injection.py",  # the same calls again, each failing once
    "-m",
    "not slow",
]

# Actions that only AWS uses and the sandbox cannot exercise: (policy, statement, action) -> why.
_LOG_DELIVERY = (
    "Step Functions sets up vended log delivery to the state machine's log group when it creates or "
    "updates the state machine (Step Functions guide, 'Logging using CloudWatch Logs': the role needs "
    "these); moto creates state machines without log delivery"
)
_LOG_DELIVERY_ACTIONS = frozenset(
    (
        "logs:CreateLogDelivery",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    )
)
_SCHEDULE_ROLE = (
    "SAM's role for the ScheduleV2 event: EventBridge Scheduler invokes ReconcileFunction every five "
    "minutes; the sandbox's CloudFormation does not create AWS::Scheduler::Schedule (sandbox/deploy.py, "
    "SKIPPED_BY_MOTO), tests call the reconciler directly"
)


def aws_only(policy: str, sid: str, action: str) -> str | None:
    """Why only AWS uses this action of this statement, or None. The state machine's inline policies are
    named by their place in its Policies list (PromotionStateMachineRolePolicyN), so they are matched by
    role, not by index."""
    if policy.startswith("PromotionStateMachineRolePolicy") and action in _LOG_DELIVERY_ACTIONS:
        return _LOG_DELIVERY
    if (policy, sid, action) == ("ReconcileFunctionEveryFiveMinutesLambdaPolicy", "0", "lambda:InvokeFunction"):
        return _SCHEDULE_ROLE
    return None


# --- the statements, as deployed ---------------------------------------------------------------------
@dataclass(frozen=True)
class Statement:
    file: str
    policy: str  # managed policy's logical id, or the inline policy's name
    sid: str  # Sid, or the statement's index (as sandbox/aws/iam/policy.py names it)
    actions: tuple[str, ...]


def _sam_translated(path: Path) -> dict[str, Any]:
    """template.yaml through the SAM translator, offline, as sandbox/deploy.py deploys it."""
    from sandbox.deploy import SANDBOX_PARAMETERS, _OfflinePolicies

    sam = yaml_parse(path.read_text())
    for resource in sam["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = "s3://bucket/code.zip"  # only the IAM resources are read
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = "s3://bucket/layer.zip"
        elif resource["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            props["Definition"] = json.loads((ROOT / props.pop("DefinitionUri")).read_text())
    declared = {k: v for k, v in SANDBOX_PARAMETERS.items() if k in (sam.get("Parameters") or {})}
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator needs a region
    return transform(sam, declared, _OfflinePolicies())


def template_statements(template: Path = TEMPLATE, target: Path = TARGET_TEMPLATE) -> list[Statement]:
    """Every identity-policy statement: managed policies and roles' inline policies (SAM's policy
    templates and inline statements included). Trust and resource policies are not in the matrix."""
    found: list[Statement] = []
    for file, cfn in ((template.name, _sam_translated(template)), (target.name, yaml_parse(target.read_text()))):
        for logical, resource in cfn.get("Resources", {}).items():
            props = resource.get("Properties", {})
            documents: list[tuple[str, Any]] = []
            if resource.get("Type") == "AWS::IAM::ManagedPolicy":
                documents.append((logical, props.get("PolicyDocument", {})))
            elif resource.get("Type") == "AWS::IAM::Policy":
                documents.append((str(props.get("PolicyName", logical)), props.get("PolicyDocument", {})))
            elif resource.get("Type") == "AWS::IAM::Role":
                for inline in props.get("Policies") or []:
                    documents.append((str(inline["PolicyName"]), inline["PolicyDocument"]))
            for name, document in documents:
                for index, statement in enumerate(_as_list(document.get("Statement"))):
                    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                        continue
                    actions = tuple(a for a in _as_list(statement.get("Action")) if isinstance(a, str))
                    found.append(Statement(file, name, str(statement.get("Sid") or index), actions))
    return found


def aws_managed_policies(template: Path = TEMPLATE) -> list[str]:
    """The AWS managed policies SAM and the template attach (logs, X-Ray): AWS writes them."""
    found: set[str] = set()
    for resource in _sam_translated(template)["Resources"].values():
        for arn in resource.get("Properties", {}).get("ManagedPolicyArns") or []:
            text = arn if isinstance(arn, str) else arn.get("Fn::Sub") if isinstance(arn, dict) else None
            if isinstance(text, str):
                found.add(text.rsplit("/", 1)[-1])
    return sorted(found)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def logical_name(deployed: str) -> str:
    """``lambda-promoter-StatusEventsPolicy-ZQSLSSF4RCVB`` -> ``StatusEventsPolicy``; inline policy
    names (``FinalizeFunctionRolePolicy0``, ``PromoteManagedFunctions``) stay as they are."""
    match = re.fullmatch(r".*?-([A-Za-z0-9]+)-[A-Z0-9]{8,}", deployed)
    return match.group(1) if match else deployed


# --- recording the run --------------------------------------------------------------------------------
class Recorder:
    """A pytest plugin: recording on for the run, each record entry tagged with its test, and the
    puts on another account's bus that EventBridge makes with a target's role recorded."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, int, int]] = []  # (test id, first entry, end)

    def pytest_configure(self, config: pytest.Config) -> None:
        iam.recording(True)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        iam._RECORDING.clear()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        from sandbox import install

        if install.installed():  # the test's sandbox is up: its patches are in
            _record_bus_targets()
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
        start = len(iam.RECORD)
        yield
        self.spans.append((item.nodeid, start, len(iam.RECORD)))

    def entries(self) -> Iterator[tuple[str, tuple[str, str, str, tuple[iam.Match, ...]]]]:
        for test, start, end in self.spans:
            for entry in iam.RECORD[start:end]:
                yield test, entry


def _record_bus_targets() -> None:
    """EventBridge puts on another bus with the target's RoleArn. Wrapped outermost, once the
    sandbox's patches (sandbox/aws/events/delivery.py forwards to other accounts itself) are in."""
    from moto.events import models as events_models

    send_to_targets = events_models.Rule.send_to_targets
    if getattr(send_to_targets, "records_bus_targets", False):
        return

    def to_targets(self: Any, event: dict[str, Any], transform_input: bool = True) -> None:
        if self.state != "DISABLED" and self.event_pattern.matches_event(event):
            for target in self.targets:
                arn = str(target.get("Arn", ""))
                if ":event-bus/" in arn and target.get("RoleArn"):
                    iam.service_may(target["RoleArn"], "events:PutEvents", arn)  # recorded, not enforced
        send_to_targets(self, event, transform_input)

    to_targets.records_bus_targets = True  # type: ignore[attr-defined]
    events_models.Rule.send_to_targets = to_targets


# --- the matrix ---------------------------------------------------------------------------------------
@dataclass
class Use:
    alone: int = 0
    shared: int = 0
    first_test: str = ""
    example: str = ""  # principal and resource of the first call


def matrix(entries: Any) -> dict[tuple[str, str, str], Use]:
    """(policy, statement, action called) -> how many calls it allowed alone / with others."""
    uses: dict[tuple[str, str, str], Use] = defaultdict(Use)
    for test, (principal, action, resource, allows) in entries:
        statements = {(logical_name(m.policy), m.statement) for m in allows}
        for policy, statement in statements:
            use = uses[(policy, statement, action)]
            if len(statements) == 1:
                use.alone += 1
            else:
                use.shared += 1
            if not use.first_test:
                use.first_test, use.example = test, f"{principal} -> {resource}"
    return uses


@dataclass(frozen=True)
class Row:
    statement: Statement
    action: str
    verdict: str  # needed, redundant, AWS only, unexercised
    alone: int
    shared: int
    first_test: str


def rows(uses: dict[tuple[str, str, str], Use], statements: list[Statement]) -> list[Row]:
    found = []
    for statement in statements:
        for pattern in statement.actions:
            used = [
                u
                for (p, s, a), u in uses.items()
                if (p, s) == (statement.policy, statement.sid) and iam.action_matches(pattern, a)
            ]
            alone, shared = sum(u.alone for u in used), sum(u.shared for u in used)
            first = next((u.first_test for u in used if u.first_test), "")
            if aws_only(statement.policy, statement.sid, pattern):
                verdict = "AWS only"
            else:
                verdict = "needed" if alone else "redundant" if shared else "unexercised"
            found.append(Row(statement, pattern, verdict, alone, shared, first))
    return found


def report(found: list[Row], denied: list[tuple[str, str, str]]) -> str:
    lines = ["| file | policy | statement | action | verdict | calls alone / shared | first test |", "|---" * 7 + "|"]
    for r in found:
        s = r.statement
        lines.append(
            f"| {s.file} | {s.policy} | {s.sid} | {r.action} | {r.verdict} | {r.alone} / {r.shared} | {r.first_test} |"
        )
    counts: dict[str, int] = defaultdict(int)
    for r in found:
        counts[r.verdict] += 1
    lines.append("\n" + ", ".join(f"{verdict}: {n}" for verdict, n in sorted(counts.items())))
    reasons: dict[str, list[str]] = defaultdict(list)
    for r in found:
        if reason := aws_only(r.statement.policy, r.statement.sid, r.action):
            reasons[reason].append(f"{r.statement.policy} {r.statement.sid} {r.action}")
    for reason, actions in reasons.items():
        lines.append(f"AWS only ({', '.join(actions)}): {reason}")
    lines.append(f"AWS managed policies attached by ARN (not statements of the templates): {aws_managed_policies()}")
    lines.append(f"calls denied during the run: {len(denied)}")
    for principal, action, resource in sorted(set(denied))[:40]:
        lines.append(f"  denied: {principal} {action} {resource}")
    return "\n".join(lines)


def run(pytest_args: list[str]) -> tuple[int, list[Row], list[tuple[str, str, str]]]:
    """Run pytest once with recording on; the matrix rows and the denied calls."""
    recorder = Recorder()
    code = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:randomly", *pytest_args], plugins=[recorder])
    entries = list(recorder.entries())
    denied = [(p, a, r) for _test, (p, a, r, allows) in entries if not allows]
    return int(code), rows(matrix(entries), template_statements()), denied


def main(argv: list[str]) -> int:
    code, found, denied = run(argv or list(DEFAULT_TESTS))
    print(report(found, denied))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
