"""Static contracts: the template, the ASL, and the IAM they need."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from samtranslator.yaml_helper import yaml_parse

from sandbox.deploy import _OfflinePolicies, transform

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "statemachines" / "promotion.asl.json"
BIN = Path(sys.executable).parent
STATELINT = BIN.parent / "node" / "node_modules" / ".bin" / "statelint"
ENV = os.environ | {"SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
IAM_PREFIX = {"stepfunctions": "states"}
IAM_ACTION = {"lambda:Invoke": "lambda:InvokeFunction"}
# TransactWriteItems has no IAM action of its own: each Put and Delete in it needs PutItem and
# DeleteItem ("Using IAM with DynamoDB transactions"; the adapters use no Update or ConditionCheck).
IAM_ACTIONS_OF = {"dynamodb:TransactWriteItems": ("dynamodb:PutItem", "dynamodb:DeleteItem")}


@pytest.fixture(autouse=True)
def _region(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # SAM's translator builds ARNs with it


def sam_template() -> dict:
    return yaml_parse((ROOT / "template.yaml").read_text())


def translated() -> dict:
    template = sam_template()
    for resource in template["Resources"].values():  # what `sam package` would put there
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str):
                props[key] = "s3://bucket/key"
    return transform(template, {}, _OfflinePolicies())


def run(*command: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, env=ENV, cwd=ROOT)


def test_sam_validate_lint_is_clean():
    result = run(BIN / "sam", "validate", "--lint", "--template", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout


def test_cfn_lint_is_clean_on_the_template():
    result = run(BIN / "cfn-lint", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_passes_cfn_lint_schema_through_a_plain_state_machine(tmp_path):
    # cfn-lint skips DefinitionUri, so wrap the definition where it does check it (E3601).
    definition = json.loads(ASL.read_text())
    wrapper = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"RoleArn": "arn:aws:iam::123456789012:role/r", "Definition": definition},
            }
        },
    }
    path = tmp_path / "wrapper.json"
    path.write_text(json.dumps(wrapper))
    result = run(BIN / "cfn-lint", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_would_catch_a_broken_asl(tmp_path):
    definition = json.loads(ASL.read_text())
    definition["States"]["Prepare"]["Type"] = "Taks"
    wrapper = {
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"RoleArn": "arn:aws:iam::123456789012:role/r", "Definition": definition},
            }
        }
    }
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(wrapper))
    assert "E3601" in run(BIN / "cfn-lint", path).stdout


@pytest.mark.skipif(
    not STATELINT.exists() and not shutil.which("npm"), reason="statelint needs npm (make venv installs it)"
)
def test_asl_passes_statelint():
    result = run(STATELINT, ASL)
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_placeholders_and_definition_substitutions_match_both_ways():
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", ASL.read_text()))
    machine = sam_template()["Resources"]["PromotionStateMachine"]["Properties"]
    assert placeholders == set(machine["DefinitionSubstitutions"])


def test_every_task_has_a_timeout_and_every_invoke_a_retry():
    for name, state in json.loads(ASL.read_text())["States"].items():
        if state["Type"] == "Task":
            assert "TimeoutSeconds" in state or "TimeoutSecondsPath" in state, name
            assert state.get("Retry"), name


def adapter_operations() -> set[str]:
    """IAM actions for every boto3 call in promoter/aws (client methods, paginators, waiters)."""
    actions: set[str] = set()
    for path in (ROOT / "layers/promoter/promoter/aws").glob("*.py"):
        tree = ast.parse(path.read_text())
        services = {
            node.value.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "service" for t in node.targets)
            and isinstance(node.value, ast.Constant)
        }
        if not services:
            continue
        (service,) = services
        client = boto3.client(service, region_name="us-east-1")
        calls = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if isinstance(owner, ast.Attribute) and owner.attr == "client":
                    if node.func.attr == "get_paginator":
                        calls.add(node.args[0].value)
                    elif node.func.attr == "get_waiter":
                        waiter = client.get_waiter(node.args[0].value)
                        calls.add(_snake(waiter.config.operation))
                    else:
                        calls.add(node.func.attr)
        for call in calls:
            operation = client.meta.method_to_api_mapping[call]
            action = f"{IAM_PREFIX.get(service, service)}:{operation}"
            actions.update(IAM_ACTIONS_OF.get(action, (IAM_ACTION.get(action, action),)))
    return actions


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def template_actions() -> list[str]:
    found: list[str] = []
    for resource in translated()["Resources"].values():
        props = resource.get("Properties", {})
        documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            documents.append(props["PolicyDocument"])
        for document in documents:
            for statement in document["Statement"]:
                actions = statement["Action"]
                found.extend([actions] if isinstance(actions, str) else actions)
    return found


def test_every_adapter_operation_is_allowed_by_the_template_iam():
    allowed = set(template_actions())
    needed = adapter_operations()
    assert {"lambda:UpdateAlias", "dynamodb:PutItem", "states:StartExecution"} <= needed
    assert needed - allowed == set()


def test_no_wildcard_actions_and_lambda_changes_need_the_managed_tag():
    assert [a for a in template_actions() if "*" in a] == []
    statement = sam_template()["Resources"]["ManagedTargetsPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert "lambda:UpdateAlias" in statement["Action"]
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/promoter:managed": "true"}}


def test_every_function_has_a_log_group_with_retention():
    resources = sam_template()["Resources"]
    functions = [k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"]
    assert functions
    for name in functions:
        log_group = resources[name]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert resources[log_group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
