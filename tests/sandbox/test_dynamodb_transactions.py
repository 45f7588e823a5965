"""TransactWriteItems is all or nothing, as in AWS, now that the sandbox undoes a cancelled one item
by item (sandbox/aws/dynamodb.py) instead of moto's copy of every table it names; and a retry with
its ClientRequestToken is not applied twice."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.sandbox.conftest import patched_moto

TABLE = "t"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with patched_moto(monkeypatch):
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )  # fmt: skip
        for sk in ("a", "b"):
            client.put_item(TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"S": sk}, "v": {"N": "1"}})
        yield client


def items(client: Any) -> dict[str, dict[str, Any]]:
    found = client.query(
        TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}
    )["Items"]
    return {item["sk"]["S"]: item for item in found}


def key(sk: str) -> dict[str, Any]:
    return {"pk": {"S": "p"}, "sk": {"S": sk}}


WRITES = [
    {"Put": {"TableName": TABLE, "Item": {**key("c"), "v": {"N": "1"}}}},
    {"Update": {"TableName": TABLE, "Key": key("a"), "UpdateExpression": "SET v = :two",
                "ExpressionAttributeValues": {":two": {"N": "2"}}}},
    {"Delete": {"TableName": TABLE, "Key": key("b")}},
]  # fmt: skip
FAILING_CHECK = {
    "ConditionCheck": {"TableName": TABLE, "Key": key("missing"), "ConditionExpression": "attribute_exists(pk)"}
}


@pytest.mark.parametrize("position", ["first", "last"])
def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamodb, position):
    before = items(dynamodb)
    transaction = [FAILING_CHECK, *WRITES] if position == "first" else [*WRITES, FAILING_CHECK]
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as cancelled:
        dynamodb.transact_write_items(TransactItems=copy.deepcopy(transaction))
    reasons = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert reasons.count("ConditionalCheckFailed") == 1 and reasons.count("None") == 3
    assert items(dynamodb) == before  # the put undone, the update undone, the deleted item back


def test_a_transaction_that_fails_validation_writes_nothing(dynamodb):
    before = items(dynamodb)
    twice = [*WRITES, {"Delete": {"TableName": TABLE, "Key": key("a")}}]  # two operations on item a
    with pytest.raises(dynamodb.exceptions.ClientError):
        dynamodb.transact_write_items(TransactItems=copy.deepcopy(twice))
    assert items(dynamodb) == before


def test_a_transaction_that_passes_writes_every_item(dynamodb):
    dynamodb.transact_write_items(TransactItems=copy.deepcopy(WRITES))
    after = items(dynamodb)
    assert set(after) == {"a", "c"}
    assert after["a"]["v"] == {"N": "2"}


def test_a_table_copied_outside_a_transaction_is_a_real_copy(dynamodb):
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends["123456789012"]["us-east-1"].tables[TABLE]
    clone = copy.deepcopy(table)  # what a backup does
    assert clone is not table and clone.items is not table.items
    dynamodb.delete_item(TableName=TABLE, Key=key("a"))
    assert [len(partition) for partition in table.items.values()] == [1]
    assert [len(partition) for partition in clone.items.values()] == [2]


NEW_ITEM = [
    {
        "Put": {
            "TableName": TABLE,
            "Item": {**key("c"), "v": {"N": "1"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
]


def test_a_transaction_sent_again_with_its_token_answers_success_and_writes_nothing_more(dynamodb):
    dynamodb.transact_write_items(TransactItems=copy.deepcopy(NEW_ITEM), ClientRequestToken="start-1")
    dynamodb.delete_item(TableName=TABLE, Key=key("c"))  # so that a second write would show
    dynamodb.transact_write_items(TransactItems=copy.deepcopy(NEW_ITEM), ClientRequestToken="start-1")
    assert "c" not in items(dynamodb)
    dynamodb.transact_write_items(TransactItems=copy.deepcopy(NEW_ITEM), ClientRequestToken="start-2")
    assert "c" in items(dynamodb)  # a new token is a new request


def test_a_token_older_than_10_minutes_is_a_new_request(dynamodb):
    from sandbox.clock import CLOCK

    dynamodb.transact_write_items(TransactItems=copy.deepcopy(NEW_ITEM), ClientRequestToken="start-1")
    CLOCK.advance(601)
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):  # applied again: c exists
        dynamodb.transact_write_items(TransactItems=copy.deepcopy(NEW_ITEM), ClientRequestToken="start-1")


def test_the_same_token_with_other_parameters_is_refused(dynamodb):
    dynamodb.transact_write_items(TransactItems=copy.deepcopy(NEW_ITEM), ClientRequestToken="start-1")
    with pytest.raises(dynamodb.exceptions.IdempotentParameterMismatchException):
        dynamodb.transact_write_items(TransactItems=copy.deepcopy(WRITES), ClientRequestToken="start-1")
    assert set(items(dynamodb)) == {"a", "b", "c"}  # WRITES was not applied


def test_the_sdks_retry_of_a_transaction_whose_answer_was_lost_answers_success(dynamodb):
    """botocore fills in ClientRequestToken and keeps it across its own retries: a transaction that
    landed and whose answer was lost is sent again and answers success. Without the token's
    honour, the retry found its own item and was cancelled (a start refused as busy with itself)."""
    lost: list[int] = []

    def lose_the_first_answer(attempts: int, **_: Any) -> float | None:
        if attempts == 1:
            lost.append(attempts)
            return 0.0  # send the same request again, as after a timeout or a 500
        return None

    dynamodb.meta.events.register("needs-retry.dynamodb.TransactWriteItems", lose_the_first_answer)
    dynamodb.transact_write_items(TransactItems=copy.deepcopy(NEW_ITEM))
    assert lost == [1] and items(dynamodb)["c"]["v"] == {"N": "1"}
