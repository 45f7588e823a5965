"""A function's code as Lambda takes it: a zip over 50 MB is refused in the request (413
RequestEntityTooLargeException) and goes up through S3 instead; code that unzips, with its layers,
to more than 250 MB is refused (400 InvalidParameterValueException) and the function keeps what it had."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws

from sandbox.aws.awslambda.code import MAX_CODE_REQUEST_BYTES, MAX_UNZIPPED_BYTES
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


def zeros_zip(size: int) -> bytes:
    """A handler and ``size`` bytes of zeros, which deflate to a few hundred KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'big'\n")
        with archive.open("zeros.bin", "w", force_zip64=True) as blob:
            chunk = bytes(1024 * 1024)
            for start in range(0, size, len(chunk)):
                blob.write(chunk[: size - start])
    return out.getvalue()


def refused(call) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "InvalidParameterValueException"
    return error["Error"]["Message"]


def test_code_over_250_mb_unzipped_is_refused_and_the_function_keeps_its_code(aws):
    targets = Targets(session=aws)  # type: ignore[arg-type]
    lambdas, role = aws.client("lambda"), targets.role()
    small = lambdas.create_function(
        FunctionName="small", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": zip_source("")}
    )
    body = zeros_zip(MAX_UNZIPPED_BYTES)  # with app.py, just over
    assert len(body) < MAX_CODE_REQUEST_BYTES  # small enough for the request: the unzipped size is refused
    too_big = f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"

    assert refused(lambda: lambdas.update_function_code(FunctionName="small", ZipFile=body)) == too_big
    kept = lambdas.get_function(FunctionName="small")["Configuration"]
    assert (kept["CodeSha256"], kept["CodeSize"]) == (small["CodeSha256"], small["CodeSize"])
    assert lambdas.invoke(FunctionName="small")["StatusCode"] == 200
    create = lambda: lambdas.create_function(  # noqa: E731
        FunctionName="big", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": body}
    )
    assert refused(create) == too_big
    assert [f["FunctionName"] for f in lambdas.list_functions()["Functions"]] == ["small"]


def test_a_layer_over_250_mb_unzipped_is_refused_and_not_published(aws):
    lambdas = aws.client("lambda")
    huge = {"ZipFile": zeros_zip(MAX_UNZIPPED_BYTES)}
    publish = lambda: lambdas.publish_layer_version(LayerName="huge", Content=huge)  # noqa: E731
    assert refused(publish) == f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
    assert lambdas.list_layers()["Layers"] == []
    assert lambdas.publish_layer_version(LayerName="huge", Content={"ZipFile": zip_source("")})["Version"] == 1


def test_code_and_its_layers_over_250_mb_unzipped_are_refused(aws):
    targets = Targets(session=aws)  # type: ignore[arg-type]
    lambdas, role = aws.client("lambda"), targets.role()
    layer = lambdas.publish_layer_version(LayerName="heavy", Content={"ZipFile": zeros_zip(150_000_000)})
    code = zeros_zip(120_000_000)
    function = dict(FunctionName="f", Runtime="python3.13", Role=role, Handler="app.handler")
    combined = lambda: lambdas.create_function(**function, Code={"ZipFile": code}, Layers=[layer["LayerVersionArn"]])  # noqa: E731
    message = refused(combined)
    assert message.startswith(
        f"Function code combined with layers exceeds the maximum allowed size of {MAX_UNZIPPED_BYTES} bytes."
    )
    actual = int(message.rsplit("actual size is ", 1)[1].split()[0])
    assert actual > 270_000_000  # both zips' files, each counted once

    lambdas.create_function(**function, Code={"ZipFile": code})  # alone, it fits
    adding = lambda: lambdas.update_function_configuration(FunctionName="f", Layers=[layer["LayerVersionArn"]])  # noqa: E731
    assert refused(adding) == message
    assert lambdas.get_function_configuration(FunctionName="f").get("Layers", []) == []
    lambdas.update_function_code(FunctionName="f", ZipFile=zip_source(""))
    assert lambdas.update_function_configuration(FunctionName="f", Layers=[layer["LayerVersionArn"]])["Layers"]
