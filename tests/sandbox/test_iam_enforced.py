"""IAM, enforced by the sandbox (sandbox/aws/iam/policy.py) on calls to moto, in process.

Each test builds what it needs through the public API as the account's root (keys ``testing``),
then calls as an IAM user, an assumed-role session or a Lambda function's execution role.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sandbox.core import FAKE_CREDENTIALS
from sandbox.fixtures.targets import ROLE_POLICY, Targets, zip_source
from sandbox.install import install

ACCOUNT = "123456789012"
ACCOUNT_B = "222222222222"
REGION = "us-east-1"


@pytest.fixture
def aws() -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(FAKE_CREDENTIALS)
    install(1.0, {})
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield
    os.environ.clear()
    os.environ.update(saved)


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def user_session(name: str, *statements: dict[str, Any]) -> boto3.session.Session:
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="only", PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.session.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION
    )


def role_session(credentials: dict[str, Any]) -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def denied(call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as error:
        call(**kwargs)
    assert error.value.response["Error"]["Code"] in ("AccessDeniedException", "AccessDenied")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return error.value


def fn_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:lambda:{REGION}:{account}:function:{name}"


# --- users -------------------------------------------------------------------------------------------
def test_a_user_allowed_only_get_function_sees_no_tags_and_cannot_update_the_alias(aws: None) -> None:
    Targets(REGION).function("orders")
    reader = user_session("reader", {"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "*"})
    lambdas = reader.client("lambda")
    answer = lambdas.get_function(FunctionName="orders")
    assert answer["Configuration"]["FunctionName"] == "orders"
    assert "Tags" not in answer  # "Lambda returns tag data only if you have explicit allow ... lambda:ListTags"
    error = denied(lambdas.update_alias, FunctionName="orders", Name="live", FunctionVersion="2")
    assert "user/reader is not authorized to perform: lambda:UpdateAlias" in str(error)
    denied(lambdas.list_tags, Resource=fn_arn("orders"))
    assert boto3.client("lambda", region_name=REGION).get_function(FunctionName="orders")["Tags"] == {
        "promoter:managed": "true"
    }  # the root may do anything


def test_list_tags_allowed_brings_the_tags_back(aws: None) -> None:
    Targets(REGION).function("orders")
    reader = user_session(
        "reader", {"Effect": "Allow", "Action": ["lambda:GetFunction", "lambda:ListTags"], "Resource": fn_arn("*")}
    )
    assert reader.client("lambda").get_function(FunctionName="orders")["Tags"] == {"promoter:managed": "true"}


def test_abac_on_the_function_tag(aws: None) -> None:
    targets = Targets(REGION)
    targets.function("orders")
    targets.function("unmanaged", managed=False)
    operator = user_session(
        "operator",
        {
            "Effect": "Allow",
            "Action": ["lambda:GetAlias", "lambda:UpdateAlias"],
            "Resource": fn_arn("*"),
            "Condition": {"StringEquals": {"aws:ResourceTag/promoter:managed": "true"}},
        },
    )
    lambdas = operator.client("lambda")
    assert lambdas.update_alias(FunctionName="orders", Name="live", FunctionVersion="2")["FunctionVersion"] == "2"
    denied(lambdas.update_alias, FunctionName="unmanaged", Name="live", FunctionVersion="2")
    denied(lambdas.get_alias, FunctionName=fn_arn("unmanaged"), Name="live")


def test_an_explicit_deny_wins_over_an_allow(aws: None) -> None:
    Targets(REGION).function("orders")
    session = user_session(
        "careful",
        {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "lambda:UpdateAlias", "Resource": fn_arn("orders")},
    )
    lambdas = session.client("lambda")
    assert lambdas.get_alias(FunctionName="orders", Name="live")["Name"] == "live"
    # alias actions act on the function's resource ("function" in the Service Authorization Reference)
    error = denied(lambdas.update_alias, FunctionName="orders", Name="live", FunctionVersion="2")
    assert "because of an explicit deny in a identity-based policy" not in str(error)
    assert "explicit deny" in str(error)


def test_group_and_managed_policies_count(aws: None) -> None:
    iam = boto3.client("iam", region_name=REGION)
    arn = iam.create_policy(
        PolicyName="read-tables",
        PolicyDocument=policy({"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"}),
    )["Policy"]["Arn"]
    iam.create_group(GroupName="readers")
    iam.attach_group_policy(GroupName="readers", PolicyArn=arn)
    session = user_session("member")
    denied(session.client("dynamodb").list_tables)
    iam.add_user_to_group(GroupName="readers", UserName="member")
    assert session.client("dynamodb").list_tables()["TableNames"] == []


def test_unknown_keys_act_as_the_root_and_get_caller_identity_needs_no_permission(aws: None) -> None:
    assert boto3.client("sts", region_name=REGION).get_caller_identity()["Account"] == ACCOUNT
    nobody = user_session("nobody")
    assert nobody.client("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/nobody"
    denied(nobody.client("iam").list_users)


# --- roles and AssumeRole ----------------------------------------------------------------------------
def _target_role(external_id: str = "xid-1", trusted: str = f"arn:aws:iam::{ACCOUNT}:root") -> str:
    iam = boto3.client("iam", region_name=REGION)
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": trusted},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
        }
    )
    arn = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="deployer",
        PolicyName="aliases",
        PolicyDocument=policy({"Effect": "Allow", "Action": "lambda:GetAlias", "Resource": fn_arn("*")}),
    )
    return arn


def test_assume_role_checks_the_trust_policy_and_the_external_id(aws: None) -> None:
    role = _target_role()
    sts = boto3.client("sts", region_name=REGION)
    denied(sts.assume_role, RoleArn=role, RoleSessionName="ops", ExternalId="wrong-id")
    denied(sts.assume_role, RoleArn=role, RoleSessionName="ops")
    denied(sts.assume_role, RoleArn=f"arn:aws:iam::{ACCOUNT}:role/no-such-role", RoleSessionName="ops")
    credentials = sts.assume_role(RoleArn=role, RoleSessionName="ops", ExternalId="xid-1")["Credentials"]
    session = role_session(credentials)
    assert session.client("sts").get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ops"


def test_a_role_session_acts_as_the_role(aws: None) -> None:
    Targets(REGION).function("orders")
    role = _target_role()
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=role, RoleSessionName="ops", ExternalId="xid-1"
    )["Credentials"]
    lambdas = role_session(credentials).client("lambda")
    assert lambdas.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"
    error = denied(lambdas.update_alias, FunctionName="orders", Name="live", FunctionVersion="2")
    assert "assumed-role/deployer/ops is not authorized" in str(error)


def test_a_user_needs_sts_assume_role_in_its_own_policy_unless_the_trust_names_it(aws: None) -> None:
    role = _target_role(trusted=f"arn:aws:iam::{ACCOUNT}:root")
    without = user_session("without")
    denied(without.client("sts").assume_role, RoleArn=role, RoleSessionName="ops", ExternalId="xid-1")
    with_policy = user_session("with", {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role})
    assert with_policy.client("sts").assume_role(RoleArn=role, RoleSessionName="ops", ExternalId="xid-1")


# --- Lambda functions run as their execution role ----------------------------------------------------
WHO_AM_I = """
import boto3


def handler(event, context):
    # a new session reads the function's environment; boto3.client() uses the process's default
    # session, which the sandbox shares with every other function: both act as the function's role
    identity = boto3.session.Session().client("sts").get_caller_identity()["Arn"]
    try:
        boto3.client("dynamodb").list_tables()
        tables = "allowed"
    except Exception as error:
        tables = type(error).__name__ + ": " + str(error)
    return {"identity": identity, "tables": tables}
"""


def test_a_function_calls_aws_with_its_execution_role(aws: None) -> None:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="who-role", AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]
    lambdas = boto3.client("lambda", region_name=REGION)
    lambdas.create_function(
        FunctionName="who",
        Runtime="python3.13",
        Role=role,
        Handler="app.handler",
        Timeout=30,  # its cold boto3 import on a busy 2-core machine can outlast Lambda's default 3 s
        Code={"ZipFile": zip_source(WHO_AM_I)},
    )

    def invoke() -> dict[str, Any]:
        return json.loads(lambdas.invoke(FunctionName="who")["Payload"].read())

    first = invoke()
    assert first["identity"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/who-role/who"
    assert "AccessDenied" in first["tables"]
    assert "assumed-role/who-role/who is not authorized to perform: dynamodb:ListTables" in first["tables"]
    iam.put_role_policy(
        RoleName="who-role",
        PolicyName="tables",
        PolicyDocument=policy({"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"}),
    )
    assert invoke()["tables"] == "allowed"


def test_cloudformation_roles_get_their_managed_policy_arns(aws: None) -> None:
    """SAM turns ``Policies: [!Ref SomePolicy]`` into ManagedPolicyArns, which moto ignored."""
    template = {
        "Resources": {
            "Reader": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"}],
                    }
                },
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "cfn-role",
                    "AssumeRolePolicyDocument": json.loads(ROLE_POLICY),
                    "ManagedPolicyArns": [{"Ref": "Reader"}],
                },
            },
        }
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="roles", TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"]
    )
    attached = boto3.client("iam", region_name=REGION).list_attached_role_policies(RoleName="cfn-role")
    assert len(attached["AttachedPolicies"]) == 1


# --- resource policies, pass role --------------------------------------------------------------------
def test_put_events_to_another_accounts_bus_needs_the_bus_policy(aws: None) -> None:
    bus_a = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    b_iam = _account_client("iam", ACCOUNT_B)
    trust = policy({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"})
    role = b_iam.create_role(RoleName="forwarder", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    b_iam.put_role_policy(
        RoleName="forwarder",
        PolicyName="put",
        PolicyDocument=policy({"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus_a}),
    )
    credentials = boto3.client("sts", region_name=REGION).assume_role(RoleArn=role, RoleSessionName="fwd")[
        "Credentials"
    ]
    events_b = role_session(credentials).client("events")
    entry = {"Source": "orders", "DetailType": "t", "Detail": "{}", "EventBusName": bus_a}
    error = denied(events_b.put_events, Entries=[entry])
    assert "no resource-based policy allows" in str(error)
    boto3.client("events", region_name=REGION).put_permission(
        EventBusName="default", Action="events:PutEvents", Principal=ACCOUNT_B, StatementId="b"
    )
    assert events_b.put_events(Entries=[entry])["FailedEntryCount"] == 0


def _account_client(service: str, account: str) -> Any:
    """A client acting as ``account``'s administrator (the sandbox's stand-in role)."""
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/sandbox-administrator", RoleSessionName="admin"
    )["Credentials"]
    return role_session(credentials).client(service)


def test_create_schedule_needs_iam_pass_role_for_the_scheduler(aws: None) -> None:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="scheduler-role", AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]
    schedule = {
        "ScheduleExpression": "at(2030-01-01T00:00:00)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": fn_arn("orders"), "RoleArn": role},
    }
    may_schedule = {"Effect": "Allow", "Action": "scheduler:CreateSchedule", "Resource": "*"}
    no_pass = user_session("planner", may_schedule)
    error = denied(no_pass.client("scheduler").create_schedule, Name="s1", **schedule)
    assert "iam:PassRole" in str(error)
    pass_role = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": role,
        "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
    }
    planner = user_session("planner-2", may_schedule, pass_role)
    assert planner.client("scheduler").create_schedule(Name="s2", **schedule)["ScheduleArn"]


# --- what the sandbox does not enforce (README, differences) -----------------------------------------
def run_list_functions_task(role_name: str, *statements: dict[str, Any]) -> dict[str, Any]:
    """A state machine of one aws-sdk task (lambda:ListFunctions) whose role has ``statements``:
    its execution's end."""
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=role_name, PolicyName="tasks", PolicyDocument=policy(*statements))
    definition = {
        "StartAt": "List",
        "States": {"List": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:lambda:listFunctions", "End": True}},
    }
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(name=role_name, definition=json.dumps(definition), roleArn=role)
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="e")["executionArn"]
    deadline = time.monotonic() + 30  # a safety limit only
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.02)
    return sfn.describe_execution(executionArn=execution)


def test_a_state_machines_task_calls_as_its_role_and_is_refused_what_the_role_does_not_allow(aws: None) -> None:
    refused = run_list_functions_task("powerless")
    assert refused["status"] == "FAILED"
    assert refused["error"] == "Lambda.LambdaException"  # an error the SDK's model does not name
    assert "assumed-role/powerless/" in refused["cause"]
    assert "not authorized to perform: lambda:ListFunctions" in refused["cause"]

    allowed = run_list_functions_task("lister", {"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"})
    assert allowed["status"] == "SUCCEEDED", allowed.get("cause")
