"""TransactWriteItems' ClientRequestToken through ``make sandbox``, with the stock AWS CLI: the same
call sent again with its token answers success and writes nothing more, and the token with other
items is refused, as in AWS.
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html#DDB-TransactWriteItems-request-ClientRequestToken"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from sandbox.server import ServerProcess
from tests.cli.helpers import Shell, aws_command

TABLE = "cli-transactions"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("sandbox") / "server.log"
    with ServerProcess(time_scale=50.0, log=log) as process:
        yield process


def put_new(key: str) -> str:
    item = {"pk": {"S": key}}
    return json.dumps([{"Put": {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}])


def test_the_stock_cli_sending_a_transaction_again_with_its_token_writes_it_once(server: ServerProcess) -> None:
    shell = Shell(server)
    shell.aws(
        "dynamodb", "create-table", "--table-name", TABLE, "--billing-mode", "PAY_PER_REQUEST",
        "--attribute-definitions", "AttributeName=pk,AttributeType=S", "--key-schema", "AttributeName=pk,KeyType=HASH",
    )  # fmt: skip

    def transact(items: str, token: str):
        return shell.run(
            [*aws_command(), "--endpoint-url", server.aws_url, "dynamodb", "transact-write-items",
             "--transact-items", items, "--client-request-token", token]
        )  # fmt: skip

    assert transact(put_new("lock"), "start-1").code == 0
    shell.aws("dynamodb", "delete-item", "--table-name", TABLE, "--key", json.dumps({"pk": {"S": "lock"}}))
    again = transact(put_new("lock"), "start-1")
    assert again.code == 0, again  # success, and nothing written again
    found = shell.aws("dynamodb", "get-item", "--table-name", TABLE, "--key", json.dumps({"pk": {"S": "lock"}}))
    assert found.out.strip() == "" or "Item" not in found.json

    mismatch = transact(put_new("other"), "start-1")
    assert mismatch.code != 0 and "IdempotentParameterMismatchException" in mismatch.err, mismatch
    assert transact(put_new("other"), "start-2").code == 0  # a new token is a new request
