"""A function's code as Lambda takes it: a zip over 50 MB is refused in the request (413
RequestEntityTooLargeException) and goes up through S3 instead."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws

from sandbox.aws.awslambda.code import MAX_CODE_REQUEST_BYTES
from sandbox.core import FAKE_CREDENTIALS, FUNCTION_ENV
from sandbox.fixtures.targets import Targets, zip_source
from sandbox.install import install


@pytest.fixture
def aws() -> Iterator[boto3.session.Session]:
    saved = dict(os.environ)
    os.environ.update(FAKE_CREDENTIALS)
    install(1.0, FUNCTION_ENV)
    try:
        with mock_aws():
            yield boto3.session.Session(region_name="us-east-1")
    finally:
        os.environ.clear()
        os.environ.update(saved)


def big_zip() -> bytes:
    """One zip just over 50 MiB (random bytes do not compress): the only large buffer of the test."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'big'\n")
        archive.writestr("blob.bin", os.urandom(50 * 1024 * 1024 + 1024))
    return out.getvalue()


def test_a_zip_over_50_mb_is_refused_in_the_request_and_taken_through_s3(aws):
    targets = Targets(session=aws)  # type: ignore[arg-type]
    lambdas, role = aws.client("lambda"), targets.role()
    lambdas.create_function(
        FunctionName="small", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": zip_source("")}
    )
    body = big_zip()

    for call in (
        lambda: lambdas.update_function_code(FunctionName="small", ZipFile=body),
        lambda: lambdas.create_function(
            FunctionName="big", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": body}
        ),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            call()
        error = refused.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
        assert error["Error"]["Code"] == "RequestEntityTooLargeException"
        operation = refused.value.operation_name
        assert error["Error"]["Message"] == (
            f"Request must be smaller than {MAX_CODE_REQUEST_BYTES} bytes for the {operation} operation"
        )
    assert [f["FunctionName"] for f in lambdas.list_functions()["Functions"]] == ["small"]

    s3 = aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="big.zip", Body=body)
    updated = lambdas.update_function_code(FunctionName="small", S3Bucket="artifacts", S3Key="big.zip")
    assert updated["CodeSize"] == len(body)
