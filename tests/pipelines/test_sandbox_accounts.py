"""What the sandbox does for several accounts, and what moto does not enforce (written down as
tests, so that the README's claims stay true when moto changes)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import boto3
import pytest

from sandbox.multi_account import CODE_SERVER, AccountSession
from sandbox.targets import ROLE_POLICY, SAMPLE_HANDLER, Targets, zip_source
from tests.pipelines.conftest import ACCOUNT_B, EXTERNAL_ID, ROLE_B


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


def test_moto_does_not_enforce_cross_account_iam(sandbox):
    """Plainly: trust policies, external ids and ABAC conditions are not evaluated by moto."""
    sts = boto3.client("sts", region_name=sandbox.region)
    # 1. a role that does not exist can be assumed
    ghost = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/no-such-role", RoleSessionName="probe")
    assert ghost["Credentials"]["AccessKeyId"]
    # 2. a role whose trust policy allows only lambda.amazonaws.com, with a wrong external id
    b_iam = AccountSession(ACCOUNT_B, region=sandbox.region).client("iam")
    b_iam.create_role(RoleName="lambda-promoter-target", AssumeRolePolicyDocument=ROLE_POLICY)
    wrong = sts.assume_role(RoleArn=ROLE_B, RoleSessionName="probe", ExternalId="not-" + EXTERNAL_ID)
    session = boto3.session.Session(
        aws_access_key_id=wrong["Credentials"]["AccessKeyId"],
        aws_secret_access_key=wrong["Credentials"]["SecretAccessKey"],
        aws_session_token=wrong["Credentials"]["SessionToken"],
        region_name=sandbox.region,
    )
    # 3. the role has no policy at all, and the function is not tagged promoter:managed: still allowed
    unmanaged = Targets(session=session).function("unmanaged", managed=False)  # type: ignore[arg-type]
    session.client("lambda").update_alias(FunctionName="unmanaged", Name=unmanaged.alias, FunctionVersion="2")
    assert session.client("lambda").get_alias(FunctionName="unmanaged", Name="live")["FunctionVersion"] == "2"
