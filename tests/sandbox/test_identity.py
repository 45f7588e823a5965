"""sandbox.aws.iam.identity: the principal behind an access key, as AWS authenticates it."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from sandbox.aws.iam.identity import principal_for_access_key

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "222233334444"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def test_a_user_key_is_that_user(aws):
    iam = boto3.client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]

    principal = principal_for_access_key(key["AccessKeyId"])

    assert principal.kind == "user"
    assert principal.arn == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert principal.account_id == ACCOUNT
    assert principal.secret_access_key == key["SecretAccessKey"]
    assert principal.role_arn is None
    assert principal.user_id == iam.get_user(UserName="alice")["User"]["UserId"]


def test_an_assumed_role_key_is_that_session(aws):
    iam = boto3.client("iam")
    role_arn = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    creds = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="ci-42")["Credentials"]

    principal = principal_for_access_key(creds["AccessKeyId"])

    assert principal.kind == "assumed-role"
    assert principal.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci-42"
    assert principal.role_arn == role_arn
    assert principal.session_name == "ci-42"
    assert principal.secret_access_key == creds["SecretAccessKey"]
    assert principal.session_token == creds["SessionToken"]
    assert principal.user_id.endswith(":ci-42")  # AROA<role id>:<session>, as GetCallerIdentity says


def in_account(monkeypatch, account_id: str) -> None:
    """Calls made next act in ``account_id`` (moto's MOTO_ACCOUNT_ID)."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", account_id)


def test_a_role_in_another_account_gives_a_session_of_that_account(aws, monkeypatch):
    in_account(monkeypatch, OTHER_ACCOUNT)
    iam = boto3.client("iam")
    role_arn = iam.create_role(RoleName="promoter-target", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    creds = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="promoter")["Credentials"]

    principal = principal_for_access_key(creds["AccessKeyId"])

    assert principal.kind == "assumed-role"
    assert principal.account_id == OTHER_ACCOUNT
    assert principal.arn == f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/promoter-target/promoter"


def test_a_user_in_another_account_is_found_there(aws, monkeypatch):
    in_account(monkeypatch, OTHER_ACCOUNT)
    other_iam = boto3.client("iam")
    other_iam.create_user(UserName="bob")
    key = other_iam.create_access_key(UserName="bob")["AccessKey"]
    monkeypatch.delenv("MOTO_ACCOUNT_ID")

    principal = principal_for_access_key(key["AccessKeyId"])

    assert (principal.kind, principal.arn) == ("user", f"arn:aws:iam::{OTHER_ACCOUNT}:user/bob")


def test_an_unknown_key_is_the_account_root(aws):
    principal = principal_for_access_key("testing")

    assert principal.kind == "root"
    assert principal.arn == f"arn:aws:iam::{ACCOUNT}:root"
    assert principal.secret_access_key is None


def test_a_deleted_key_no_longer_names_its_user(aws):
    iam = boto3.client("iam")
    iam.create_user(UserName="carol")
    key_id = iam.create_access_key(UserName="carol")["AccessKey"]["AccessKeyId"]
    iam.delete_access_key(UserName="carol", AccessKeyId=key_id)

    assert principal_for_access_key(key_id).kind == "root"
