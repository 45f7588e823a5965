"""What the sandbox does for several accounts, and the IAM it enforces between them (written down
as tests, so that the README's claims stay true when moto changes)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError

from sandbox.aws.awslambda.code import CODE_SERVER
from sandbox.fixtures.accounts import AccountSession, deploy_target_account
from sandbox.fixtures.targets import ROLE_POLICY, SAMPLE_HANDLER, Targets, zip_source
from tests.pipelines.conftest import ACCOUNT_A, ACCOUNT_B, EXTERNAL_ID, ROLE_B


def test_get_function_gives_a_code_location_that_serves_the_zip(sandbox, targets):
    targets.function("orders", builds=("v1", "v2"))
    code = targets.lambdas.get_function(FunctionName="orders", Qualifier="1")["Code"]
    with urllib.request.urlopen(code["Location"]) as answer:  # no credentials, as in AWS
        body = answer.read()
    assert body == zip_source(SAMPLE_HANDLER.format(build="v1", fail=False))


def test_an_expired_code_location_is_refused():
    url = CODE_SERVER.url_for(b"zip", "abc")
    expired = url.rsplit("=", 1)[0] + f"={int(time.time()) - 1}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(expired)
    assert refused.value.code == 403


def test_credentials_of_a_role_in_account_b_reach_account_b(sandbox):
    b = AccountSession(ACCOUNT_B, region=sandbox.region)
    assert b.client("sts").get_caller_identity()["Account"] == ACCOUNT_B
    Targets(session=b).function("only-in-b")  # type: ignore[arg-type]
    assert "only-in-b" not in {f["FunctionName"] for f in sandbox.client("lambda").list_functions()["Functions"]}


def test_cross_account_iam_is_enforced(sandbox):
    """Trust policies, external ids and ABAC conditions are evaluated (sandbox/aws/iam/policy.py)."""
    sts = boto3.client("sts", region_name=sandbox.region)
    # 1. a role that does not exist cannot be assumed
    with pytest.raises(ClientError, match="AccessDenied"):
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/no-such-role", RoleSessionName="probe")
    # 2. a role whose trust policy allows only lambda.amazonaws.com cannot be assumed by the account
    b = AccountSession(ACCOUNT_B, region=sandbox.region)
    b.client("iam").create_role(RoleName="lambda-promoter-target", AssumeRolePolicyDocument=ROLE_POLICY)
    with pytest.raises(ClientError, match="trust policy does not allow"):
        sts.assume_role(RoleArn=ROLE_B, RoleSessionName="probe", ExternalId=EXTERNAL_ID)
    # 3. the target-account role: a wrong external id is refused; the right one gets a session
    b.client("iam").delete_role(RoleName="lambda-promoter-target")
    deploy_target_account(b, control_plane_account=ACCOUNT_A, external_id=EXTERNAL_ID)
    with pytest.raises(ClientError, match="AccessDenied"):
        sts.assume_role(RoleArn=ROLE_B, RoleSessionName="probe", ExternalId="not-" + EXTERNAL_ID)
    granted = sts.assume_role(RoleArn=ROLE_B, RoleSessionName="probe", ExternalId=EXTERNAL_ID)["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=granted["AccessKeyId"],
        aws_secret_access_key=granted["SecretAccessKey"],
        aws_session_token=granted["SessionToken"],
        region_name=sandbox.region,
    )
    # 4. the session may change managed functions only (ABAC on promoter:managed)
    admin = Targets(session=b)  # type: ignore[arg-type]
    admin.function("managed")
    admin.function("unmanaged", managed=False)
    lambdas = session.client("lambda")
    lambdas.update_alias(FunctionName="managed", Name="live", FunctionVersion="2")
    with pytest.raises(ClientError, match="AccessDenied"):
        lambdas.update_alias(FunctionName="unmanaged", Name="live", FunctionVersion="2")
    assert "Tags" in lambdas.get_function(FunctionName="managed")  # the role may lambda:ListTags
