"""Lambda's 250 MB limit on code and layers, unzipped, through ``make sandbox`` with the stock AWS
CLI: the create, the layer's publication and the layer change are refused with AWS's message, and
nothing changes.
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.aws.awslambda.code import MAX_UNZIPPED_BYTES
from sandbox.server import ServerProcess
from tests.cli.helpers import Shell, aws_command
from tests.sandbox.test_lambda_code import zeros_zip

LAMBDA = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [LAMBDA]})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("sandbox") / "server.log"
    with ServerProcess(time_scale=50.0, log=log) as process:
        yield process


def test_the_stock_cli_is_refused_code_and_layers_over_250_mb_unzipped(server: ServerProcess, tmp_path: Path) -> None:
    shell = Shell(server)
    role = shell.aws("iam", "create-role", "--role-name", "big-role", "--assume-role-policy-document", TRUST)
    (tmp_path / "big.zip").write_bytes(zeros_zip(MAX_UNZIPPED_BYTES))
    (tmp_path / "half.zip").write_bytes(zeros_zip(MAX_UNZIPPED_BYTES // 2))

    def create(name: str, code: str, *extra: str):
        return shell.run(
            [*aws_command(), "--endpoint-url", server.aws_url, "lambda", "create-function", "--function-name", name,
             "--runtime", "python3.13", "--handler", "app.handler", "--role", role.json["Role"]["Arn"],
             "--zip-file", f"fileb://{tmp_path / code}", *extra]
        )  # fmt: skip

    big = create("big", "big.zip")
    assert big.code != 0 and "InvalidParameterValueException" in big.err, big
    assert f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes" in big.err

    huge = shell.run(
        [*aws_command(), "--endpoint-url", server.aws_url, "lambda", "publish-layer-version", "--layer-name", "huge",
         "--zip-file", f"fileb://{tmp_path / 'big.zip'}"]
    )  # fmt: skip
    assert huge.code != 0 and f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes" in huge.err, huge
    assert "huge" not in [layer["LayerName"] for layer in shell.aws("lambda", "list-layers").json["Layers"]]

    layer = shell.aws(
        "lambda", "publish-layer-version", "--layer-name", "half", "--zip-file", f"fileb://{tmp_path / 'half.zip'}"
    ).json["LayerVersionArn"]
    assert create("half", "half.zip").code == 0  # alone, it fits
    adding = shell.run(
        [*aws_command(), "--endpoint-url", server.aws_url, "lambda", "update-function-configuration",
         "--function-name", "half", "--layers", layer]  # app.py twice puts them over
    )  # fmt: skip
    assert adding.code != 0 and "Function code combined with layers exceeds the maximum allowed size" in adding.err

    names = [f["FunctionName"] for f in shell.aws("lambda", "list-functions").json["Functions"]]
    assert "big" not in names and "half" in names
    assert shell.aws("lambda", "get-function-configuration", "--function-name", "half").json.get("Layers", []) == []
