"""Deployable in one command: samconfig.toml, and the template SAM actually produces for a fresh account.

Each contract translates template.yaml with aws-sam-translator (as sandbox/deploy.py does) and
asserts on the CloudFormation that comes out, with the parameter values that matter.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

import sandbox.core as sandbox_core
from sandbox import Sandbox
from sandbox.aws.events.topics import KeyRefused
from sandbox.deploy import ROOT, _OfflinePolicies, deploy, transform
from sandbox.dispatch import DISPATCHER
from sandbox.fixtures.targets import Targets
from tests.workflow.helpers import request

SAMCONFIG = ROOT / "samconfig.toml"
ENVS = ("default", "dev", "prod")


@pytest.fixture(autouse=True)
def _region(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # SAM's translator builds ARNs with it


def sam_template(path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    return yaml_parse(path.read_text())


def translate(parameters: dict[str, str] | None = None, template: dict[str, Any] | None = None) -> dict[str, Any]:
    """CloudFormation as the SAM transform produces it (code locations as `sam package` leaves them)."""
    template = template or sam_template()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str):
                props[key] = "s3://bucket/key"
    return transform(template, parameters or {}, _OfflinePolicies())


def refs(value: Any) -> set[str]:
    """Logical ids a value refers to (Ref, GetAtt, ${X} and ${X.Attr} in Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
            found |= refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs(inner)
    return found


def depends_on(cfn: dict[str, Any], logical_id: str) -> set[str]:
    """Every resource ``logical_id`` waits for in CloudFormation, directly or through others."""
    resources, seen, todo = cfn["Resources"], set(), [logical_id]
    while todo:
        resource = resources[todo.pop()]
        explicit = resource.get("DependsOn", [])
        direct = refs(resource.get("Properties", {})) | set([explicit] if isinstance(explicit, str) else explicit)
        for name in direct & set(resources) - seen:
            seen.add(name)
            todo.append(name)
    return seen


def of_type(cfn: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == kind}


# --- samconfig.toml ----------------------------------------------------------------------------------
def samconfig() -> dict[str, Any]:
    return tomllib.loads(SAMCONFIG.read_text())


def overrides(env: str) -> dict[str, str]:
    """``parameter_overrides`` of a config env, as sam deploy parses them (Key="value" pairs)."""
    text = samconfig()[env]["deploy"]["parameters"]["parameter_overrides"]
    return dict(re.findall(r'(\w+)="([^"]*)"', text))


@pytest.mark.parametrize("env", ENVS)
def test_each_config_env_builds_without_docker_and_deploys_with_the_capabilities_it_needs(env):
    config = samconfig()
    assert config["version"] == 0.1
    build = config[env]["build"]["parameters"]
    deploy_ = config[env]["deploy"]["parameters"]
    assert build["use_container"] is False and build["cached"] is True
    assert deploy_["capabilities"].split() == ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
    assert deploy_["confirm_changeset"] is True and deploy_["resolve_s3"] is True
    assert deploy_["stack_name"].startswith("lambda-promoter")
    assert overrides(env)["Stage"] == {"default": "dev"}.get(env, env)


@pytest.mark.parametrize("env", ENVS)
def test_each_config_env_names_only_template_parameters_with_allowed_values(env):
    parameters = sam_template()["Parameters"]
    for name, value in overrides(env).items():
        assert name in parameters, name
        allowed = parameters[name].get("AllowedValues")
        assert allowed is None or value in [str(a) for a in allowed], (name, value)


def test_the_stack_names_of_the_config_envs_differ():
    names = [samconfig()[env]["deploy"]["parameters"]["stack_name"] for env in ENVS]
    assert len(set(names)) == len(names)


# --- a fresh account: API Gateway's CloudWatch role ----------------------------------------------------
def test_by_default_the_stack_sets_the_api_gateway_logging_role_and_the_stage_waits_for_it():
    cfn = translate()
    assert sam_template()["Parameters"]["ConfigureApiGatewayAccount"]["Default"] == "true"
    (stage,) = of_type(cfn, "AWS::ApiGateway::Stage")
    assert cfn["Resources"][stage]["Properties"]["AccessLogSetting"]  # the reason the role is needed
    assert "ApiGatewayAccount" in depends_on(cfn, stage)
    account = cfn["Resources"]["ApiGatewayAccount"]
    assert refs(account["Properties"]) == {"ApiGatewayLoggingRole"}


def test_the_stage_does_not_wait_for_a_role_the_stack_does_not_create():
    cfn = translate({"ConfigureApiGatewayAccount": "false"})
    (stage,) = of_type(cfn, "AWS::ApiGateway::Stage")
    tag = next(t for t in cfn["Resources"][stage]["Properties"]["Tags"] if t["Key"].startswith("lambda-promoter:"))
    # CloudFormation evaluates the condition before the graph: the Ref only counts when it is "true"
    assert tag["Value"] == {"Fn::If": ["SetsApiGatewayAccount", {"Ref": "ApiGatewayAccount"}, "preconfigured"]}
    assert cfn["Resources"]["ApiGatewayAccount"]["Condition"] == "SetsApiGatewayAccount"


def test_the_account_wide_logging_role_outlives_the_stack():
    role = sam_template()["Resources"]["ApiGatewayLoggingRole"]
    assert role["DeletionPolicy"] == "Retain" and role["UpdateReplacePolicy"] == "Retain"


# --- notifications: a key EventBridge may use --------------------------------------------------------
def test_the_notification_topic_uses_a_customer_managed_key_that_lets_eventbridge_publish():
    cfn = translate({"NotificationEmail": "ops@example.com"})
    topic = cfn["Resources"]["NotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "NotificationKey"}
    key = cfn["Resources"]["NotificationKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    (events,) = [s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert events["Effect"] == "Allow"
    assert {"kms:GenerateDataKey*", "kms:Decrypt"} <= set(events["Action"])


# --- ApiAllowedPrincipals: a list in the policy, not one joined string --------------------------------
PRINCIPALS = "arn:aws:iam::111111111111:role/deployer,arn:aws:iam::222222222222:role/release-*"


def _principal_conditions(cfn: dict[str, Any]) -> dict[str, Any]:
    policy = cfn["Resources"]["PromoterApi"]["Properties"]["Body"]["x-amazon-apigateway-policy"]
    found = {}
    for statement in policy["Statement"]:
        body = statement["Fn::If"][1] if "Fn::If" in statement else statement
        for operator in ("StringLike", "StringNotLike"):
            if "aws:PrincipalArn" in body.get("Condition", {}).get(operator, {}):
                found[body["Effect"]] = body["Condition"][operator]["aws:PrincipalArn"]
    return found


def cfn_value(value: Any) -> Any:
    """What CloudFormation makes of the Fn::Split the transform leaves (the only function left here)."""
    if isinstance(value, dict) and "Fn::Split" in value:
        delimiter, text = value["Fn::Split"]
        return text.split(delimiter)
    return value


def test_the_allowed_principals_reach_the_deny_condition_as_a_list_of_arns():
    conditions = _principal_conditions(translate({"ApiAllowedPrincipals": PRINCIPALS}))
    expected = PRINCIPALS.split(",")
    assert cfn_value(conditions["Deny"]) == expected
    assert cfn_value(conditions["Allow"]) == expected


def test_a_comma_delimited_list_parameter_would_reach_the_condition_as_one_joined_string():
    """Why the parameter is a String: SAM resolves a list parameter inside Auth to its raw text."""
    template = sam_template()
    template["Parameters"]["ApiAllowedPrincipals"] = {"Type": "CommaDelimitedList", "Default": ""}
    api_policy = template["Resources"]["PromoterApi"]["Properties"]["Auth"]["ResourcePolicy"]["CustomStatements"]
    for statement in api_policy:
        body = statement.get("Fn::If", [None, statement])[1]
        for operator in ("StringLike", "StringNotLike"):
            if "aws:PrincipalArn" in body.get("Condition", {}).get(operator, {}):
                body["Condition"][operator]["aws:PrincipalArn"] = {"Ref": "ApiAllowedPrincipals"}
    conditions = _principal_conditions(translate({"ApiAllowedPrincipals": PRINCIPALS}, template))
    assert conditions["Deny"] == PRINCIPALS  # one string: StringNotLike denies every caller


def test_the_principals_parameter_refuses_spaces_that_would_end_up_in_the_arns():
    pattern = sam_template()["Parameters"]["ApiAllowedPrincipals"]["AllowedPattern"]
    assert re.fullmatch(pattern, PRINCIPALS)
    assert not re.fullmatch(pattern, PRINCIPALS.replace(",", ", "))


# --- least privilege ----------------------------------------------------------------------------------
def _managed_policy(cfn: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return cfn["Resources"][name]["Properties"]["PolicyDocument"]["Statement"]


def test_assume_role_is_limited_to_the_listed_target_accounts():
    cfn = translate({"TargetAccountIds": "222222222222,333333333333"})
    (statement,) = _managed_policy(cfn, "TargetAccountRolesPolicy")
    assert statement["Action"] == ["sts:AssumeRole"]
    accounts = statement["Condition"]["StringEquals"]["aws:ResourceAccount"]
    assert accounts == {"Fn::If": ["HasTargetAccounts", {"Ref": "TargetAccountIds"}, "none"]}
    assert statement["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${TargetRoleNamePrefix}*"}


def _function_actions(cfn: dict[str, Any], function: str) -> set[str]:
    """Every IAM action of a function's role: inline statements and the managed policies it attaches."""
    role = cfn["Resources"][f"{function}Role"]["Properties"]
    documents = [p["PolicyDocument"] for p in role.get("Policies", [])]
    documents += [
        cfn["Resources"][arn["Ref"]]["Properties"]["PolicyDocument"]
        for arn in role.get("ManagedPolicyArns", [])
        if isinstance(arn, dict) and "Ref" in arn
    ]
    actions: set[str] = set()
    for document in documents:
        for statement in document["Statement"]:
            listed = statement["Action"]
            actions |= {listed} if isinstance(listed, str) else set(listed)
    return actions


LAMBDA_WRITES = {"lambda:UpdateAlias", "lambda:PublishVersion", "lambda:UpdateFunctionCode", "lambda:InvokeFunction"}


def test_the_hook_function_may_invoke_hooks_and_change_nothing_in_lambda():
    actions = _function_actions(translate(), "HookFunction")
    assert actions & LAMBDA_WRITES == {"lambda:InvokeFunction"}


def test_the_alarm_listener_may_roll_an_alias_back_and_do_nothing_else_in_lambda():
    actions = _function_actions(translate(), "AlarmListenerFunction")
    assert actions & LAMBDA_WRITES == {"lambda:UpdateAlias"}
    assert "lambda:GetAlias" in actions


def test_target_accounts_may_put_only_alarm_state_changes_on_the_default_bus():
    cfn = translate({"TargetAccountIds": "222222222222"})
    statement = cfn["Resources"]["AlarmEventsFromTargetAccounts"]["Properties"]["Statement"]
    assert statement["Action"] == "events:PutEvents"
    assert statement["Condition"] == {
        "StringEquals": {"events:source": "aws.cloudwatch", "events:detail-type": "CloudWatch Alarm State Change"}
    }
    forwarded = sam_template(ROOT / "templates/target-account.yaml")["Resources"]["AlarmForwardingRule"]
    pattern = forwarded["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.cloudwatch"] and pattern["detail-type"] == ["CloudWatch Alarm State Change"]


# --- the README's deploy, followed on the sandbox ----------------------------------------------------
def _sandbox_with(monkeypatch, parameters: dict[str, str]) -> Sandbox:
    monkeypatch.setattr(sandbox_core, "deploy", functools.partial(deploy, parameters=parameters))
    return Sandbox(time_scale=50.0)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_config_env_deploys_on_the_sandbox_and_runs_a_first_promotion(monkeypatch, env):
    with _sandbox_with(monkeypatch, overrides(env)) as box:
        target = Targets(region=box.region).function("orders")
        started = box.service().start(request(target), actor="first-user")
        assert box.wait_until_final(started.id).status.value == "SUCCEEDED"


def _subscribe_queue(box: Sandbox) -> str:
    sqs, sns = box.client("sqs"), box.client("sns")
    queue_url = sqs.create_queue(QueueName="email-stand-in")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=box.outputs["NotificationTopicArn"], Protocol="sqs", Endpoint=queue_arn)
    return queue_url


def _statuses(box: Sandbox, queue_url: str) -> list[str]:
    sqs, statuses = box.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        statuses += [json.loads(json.loads(m["Body"])["Message"])["detail"]["status"] for m in messages]
    return statuses


def test_status_changes_reach_a_subscriber_of_the_notification_topic_through_the_rule(monkeypatch):
    with _sandbox_with(monkeypatch, {"NotificationEmail": "ops@example.com"}) as box:
        queue_url = _subscribe_queue(box)
        target = Targets(region=box.region).function("orders")
        started = box.service().start(request(target), actor="alice")
        box.wait_until_final(started.id)
        assert DISPATCHER.drain()
        assert sorted(_statuses(box, queue_url)) == sorted(["PENDING", "RUNNING", "SUCCEEDED"])


def test_with_the_aws_managed_sns_key_no_notification_would_arrive(monkeypatch):
    with _sandbox_with(monkeypatch, {"NotificationEmail": "ops@example.com"}) as box:
        queue_url = _subscribe_queue(box)
        topic = box.outputs["NotificationTopicArn"]
        box.client("sns").set_topic_attributes(
            TopicArn=topic, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns"
        )
        target = Targets(region=box.region).function("orders")
        box.wait_until_final(box.service().start(request(target), actor="alice").id)
        assert DISPATCHER.drain()
        assert _statuses(box, queue_url) == []
        assert DISPATCHER.errors and all(isinstance(e, KeyRefused) for _, e in DISPATCHER.errors)


# --- publishing: the Serverless Application Repository ------------------------------------------------
def test_the_template_carries_serverless_repo_metadata_matching_the_project():
    app = sam_template()["Metadata"]["AWS::ServerlessRepo::Application"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert app["SemanticVersion"] == project["version"]
    assert app["SpdxLicenseId"] == "Apache-2.0" and "Apache License" in (ROOT / app["LicenseUrl"]).read_text()
    assert (ROOT / app["ReadmeUrl"]).is_file()
    for key in ("Name", "Description", "Author", "HomePageUrl", "SourceCodeUrl"):
        assert app[key], key
