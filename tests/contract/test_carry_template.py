"""The artifact carry in the template SAM produces: its Task and function agree on the timeout, only
CarryFunction may upload code and use the artifacts bucket, and the bucket is private, encrypted,
expiring, and readable by the listed target accounts."""

from __future__ import annotations

import json

import pytest

from tests.contract.test_deploy import _function_actions, translate
from tests.contract.test_template import ASL

FUNCTIONS = (
    "ApiFunction",
    "TriggerFunction",
    "PrepareFunction",
    "ShiftFunction",
    "CheckFunction",
    "RollbackFunction",
    "FinalizeFunction",
    "HookFunction",
    "AlarmListenerFunction",
    "ReconcileFunction",
    "WaitFunction",
    "JudgeFunction",
)


@pytest.fixture(autouse=True)
def _region(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_the_carry_task_times_out_with_its_function_and_retries_lambda_service_errors():
    cfn = translate()
    carry = json.loads(ASL.read_text())["States"]["Carry"]
    assert carry["TimeoutSeconds"] == cfn["Resources"]["CarryFunction"]["Properties"]["Timeout"]
    assert {
        "Lambda.ClientExecutionTimeoutException",
        "Lambda.ServiceException",
        "Lambda.TooManyRequestsException",
    } <= set(carry["Retry"][0]["ErrorEquals"])
    assert carry["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Rollback"}]


def test_only_the_carry_function_uploads_code_and_touches_the_artifacts_bucket():
    cfn = translate()
    carry = _function_actions(cfn, "CarryFunction")
    assert {"lambda:UpdateFunctionCode", "lambda:PublishVersion", "s3:PutObject", "s3:DeleteObject"} <= carry
    for name in FUNCTIONS:
        actions = _function_actions(cfn, name)
        assert "lambda:UpdateFunctionCode" not in actions, name
        assert not {a for a in actions if a.startswith("s3:")}, name
    assert "lambda:GetLayerVersion" in _function_actions(cfn, "ApiFunction")  # the checks before the 202
    env = cfn["Resources"]["CarryFunction"]["Properties"]["Environment"]["Variables"]
    assert env["ARTIFACTS_BUCKET"] == {"Ref": "ArtifactsBucket"}


def test_the_artifacts_bucket_is_encrypted_private_and_expires_objects_after_a_day():
    props = translate()["Resources"]["ArtifactsBucket"]["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"  # readable cross-account
    assert all(props["PublicAccessBlockConfiguration"].values()) and len(props["PublicAccessBlockConfiguration"]) == 4
    (expiry,) = props["LifecycleConfiguration"]["Rules"]
    assert (expiry["Status"], expiry["ExpirationInDays"]) == ("Enabled", 1)


def test_listed_target_accounts_may_read_staged_objects_and_nobody_else():
    cfn = translate({"TargetAccountIds": "222222222222,333333333333"})
    policy = cfn["Resources"]["ArtifactsBucketPolicy"]
    assert policy["Condition"] == "HasTargetAccounts"
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "s3:GetObject" and statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": {"Ref": "TargetAccountIds"}}
    assert statement["Resource"] == {"Fn::Sub": "${ArtifactsBucket.Arn}/carry/*"}
