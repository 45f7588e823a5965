"""The artifact carry as the workflow's own step: a pipeline promotion into another function is
accepted at once, and the Carry Task of the real workflow uploads the artifact and publishes the
candidate before Prepare; retried, it does not upload twice; failed, it ends FAILED with the
alias untouched; over 50 MB the zip goes through the stack's artifacts bucket."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from promoter.aws import artifacts
from promoter.aws.artifacts import ArtifactsAdapter
from promoter.aws.lambda_ import LambdaAdapter
from promoter.models import Status
from tests.pipelines.conftest import ACCOUNT_B, alias_writes


def states_entered(world, promotion) -> list[str]:
    sfn = world.sandbox.client("stepfunctions")
    events = sfn.get_execution_history(executionArn=promotion.execution_arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def versions_of(client, function: str) -> list[str]:
    return [v["Version"] for v in client.list_versions_by_function(FunctionName=function)["Versions"]]


@pytest.fixture
def staged(world):
    """dev and staging run version 2 of ``orders``; prod (account B) runs its own version 1."""
    world.put()
    world.through("dev", version="2")
    world.through("staging")
    return world


@pytest.fixture
def uploads(monkeypatch) -> list[dict]:
    """Every UpdateFunctionCode the carry makes (counted, then made for real)."""
    made: list[dict] = []
    original = ArtifactsAdapter.update_code

    def counted(self, function, **kwargs):
        made.append({"function": function} | {k: v for k, v in kwargs.items() if k != "zip_file"})
        return original(self, function, **kwargs)

    monkeypatch.setattr(ArtifactsAdapter, "update_code", counted)
    return made


def test_the_promotion_is_accepted_before_the_carry_and_the_workflow_carries_it_before_prepare(staged, uploads):
    world = staged
    latest_before = world.b.lambdas.get_function_configuration(FunctionName="orders")["CodeSha256"]

    accepted = world.promote("prod")

    # the start answered with the carry still to do: no candidate yet, nothing uploaded by the request
    assert accepted.status is Status.PENDING
    assert accepted.candidate_version is None
    assert accepted.carry is not None and not accepted.carry.done and accepted.carry.uploads == 0
    final = world.sandbox.wait_until_final(accepted.id)
    assert final.status is Status.SUCCEEDED, final.outcome_reason
    assert final.candidate_version == "2" and final.carry.done and final.carry.uploads == 1
    assert final.carry.via == "zip"
    assert len(uploads) == 1 and uploads[0]["function"].endswith(f"{ACCOUNT_B}:function:orders")
    source_sha = world.a.lambdas.get_function_configuration(FunctionName="orders", Qualifier="2")["CodeSha256"]
    assert final.carry.code_sha256 == source_sha != latest_before
    # Carry is the workflow's step, and the candidate is on the record before Prepare runs
    entered = states_entered(world, final)
    assert entered.index("Carry") < entered.index("Prepare")
    types = [e.type for e in final.events]
    assert types.index("uploaded") < types.index("carried") < types.index("prepared")
    assert world.b.alias_state("orders", "live")["version"] == "2"


def test_a_promotion_of_the_same_function_skips_the_carry(world):
    world.put()
    world.through("dev", version="2")
    staging = world.through("staging")
    assert staging.status is Status.SUCCEEDED and staging.carry is None
    assert "Carry" not in states_entered(world, staging)


def test_a_retried_carry_does_not_upload_twice_and_reuses_the_published_version(staged, uploads, monkeypatch):
    """The first attempt uploads and publishes, then its Lambda fails with a throttle before the
    record is written (the Task's Retry takes it); the retry finds $LATEST holding the artifact and
    PublishVersion answers the version already published."""
    world = staged
    original = LambdaAdapter.publish_version
    published: list[str] = []

    class TooManyRequestsException(Exception):  # the name the Carry Task's Retry matches
        pass

    def publish_then_fail_once(self, function, code_sha256=None, description=""):
        version = original(self, function, code_sha256, description)
        published.append(version)
        if function.endswith(f"{ACCOUNT_B}:function:orders") and len(published) == 1:
            raise TooManyRequestsException("Rate exceeded")
        return version

    monkeypatch.setattr(LambdaAdapter, "publish_version", publish_then_fail_once)

    final = world.through("prod")

    assert final.status is Status.SUCCEEDED, final.outcome_reason
    assert published == ["2", "2"]  # the retry's PublishVersion answered the same version
    assert len(uploads) == 1 and final.carry.uploads == 1
    assert versions_of(world.b.lambdas, "orders") == ["$LATEST", "1", "2"]
    assert final.candidate_version == "2"
    sfn = world.sandbox.client("stepfunctions")
    history = sfn.get_execution_history(executionArn=final.execution_arn, maxResults=1000)["events"]
    failed = [e["type"] for e in history if e["type"].endswith("Failed")]
    assert failed == ["TaskFailed"], [e["type"] for e in history]  # one attempt failed, and was retried


def test_a_failed_carry_ends_failed_with_the_reason_and_leaves_the_alias_untouched(staged, monkeypatch):
    world = staged
    live_before = world.b.alias_state("orders", "live")

    def refuse(self, function, **kwargs):
        raise ClientError(
            {
                "Error": {
                    "Code": "CodeStorageExceededException",
                    "Message": "Code storage limit exceeded.",
                }
            },
            "UpdateFunctionCode",
        )

    monkeypatch.setattr(ArtifactsAdapter, "update_code", refuse)

    final = world.through("prod")

    assert final.status is Status.FAILED
    assert "the artifact carry failed, no traffic moved" in final.outcome_reason
    assert "CodeStorageExceededException" in final.outcome_reason
    assert final.candidate_version is None and not final.carry.done
    assert alias_writes("orders", "live") == []  # not even a write back to stable
    assert world.b.alias_state("orders", "live") == live_before
    assert versions_of(world.b.lambdas, "orders") == ["$LATEST", "1"]
    # the target is free: the next promotion goes
    monkeypatch.undo()
    assert world.through("prod").status is Status.SUCCEEDED


def test_a_zip_over_the_direct_limit_goes_through_the_artifacts_bucket(staged, uploads, monkeypatch):
    """The real flow with a zip over the threshold (lowered here, so the test needs no 50 MB zip):
    staged in the stack's bucket, UpdateFunctionCode with S3Bucket/S3Key through account B's role,
    the object deleted after."""
    world = staged
    monkeypatch.setattr(artifacts, "MAX_DIRECT_UPLOAD", 64)
    bucket = world.sandbox.outputs["ArtifactsBucketName"]

    final = world.through("prod")

    assert final.status is Status.SUCCEEDED, final.outcome_reason
    assert final.carry.via == "s3" and final.carry.uploads == 1
    (upload,) = uploads
    assert upload["s3_object"][0] == bucket and upload["s3_object"][1].startswith(f"carry/{final.id}/")
    source = world.a.lambdas.get_function_configuration(FunctionName="orders", Qualifier="2")["CodeSha256"]
    assert world.b.lambdas.get_function_configuration(FunctionName="orders", Qualifier="2")["CodeSha256"] == source
    assert world.b.lambdas.invoke(FunctionName="orders:live")["Payload"].read().decode().count('"build": "v2"') == 1
    assert world.sandbox.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount") == 0  # cleaned up


def test_the_stack_creates_the_artifacts_bucket_private_encrypted_and_expiring(world):
    s3 = world.sandbox.client("s3")
    bucket = world.sandbox.outputs["ArtifactsBucketName"]
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [(r["Status"], r["Expiration"]["Days"]) for r in lifecycle] == [("Enabled", 1)]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_the_carry_states_name_the_carry_in_the_asl():
    from tests.contract.test_template import ASL

    states = json.loads(ASL.read_text())["States"]
    carry = states["Carry"]
    assert carry["Next"] == "Prepare" and carry["Catch"][0]["Next"] == "Rollback"
    assert "Lambda.ClientExecutionTimeoutException" in carry["Retry"][0]["ErrorEquals"]
    assert json.loads(ASL.read_text())["StartAt"] == "NeedsCarry"
