"""DynamoDB: the fast gate's error counter, one item per promotion and second.

Each item holds the ids of the error events written in that second, as a string set that
deliveries ``ADD`` to: concurrent deliveries never lose each other's counts (UpdateItem is atomic),
and a delivery retried by Lambda adds nothing (a set holds an id once). The window's count is the
sum of the set sizes over its seconds, read with one consistent Query.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html#Expressions.UpdateExpressions.ADD
"""

from typing import Any

from ..model_base import Model
from .clients import LazyClient

PREFIX = "FASTGATE#"
TTL_SECONDS = 86_400  # the counts matter for a window of at most an hour; DynamoDB's TTL drops them


class WindowCount(Model):
    errors: int
    first_second: int | None = None  # the earliest second in the window with an error
    last_second: int | None = None


def _sk(second: int) -> str:
    return f"S#{second:012d}"


class FastGateCounts(LazyClient):
    service = "dynamodb"

    def __init__(self, table_name: str, client: Any = None, session: Any = None) -> None:
        super().__init__(client, session)
        self.table_name = table_name

    def add(self, promotion_id: str, ids_by_second: dict[int, list[str]]) -> None:
        for second, ids in sorted(ids_by_second.items()):
            self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": f"{PREFIX}{promotion_id}"}, "sk": {"S": _sk(second)}},
                UpdateExpression="ADD ids :ids SET expires_at = if_not_exists(expires_at, :ttl)",
                ExpressionAttributeValues={":ids": {"SS": sorted(set(ids))}, ":ttl": {"N": str(second + TTL_SECONDS)}},
            )

    def window(self, promotion_id: str, first_second: int, last_second: int) -> WindowCount:
        paginator = self.client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": {"S": f"{PREFIX}{promotion_id}"},
                ":first": {"S": _sk(first_second)},
                ":last": {"S": _sk(last_second)},
            },
            ConsistentRead=True,
        )
        seconds = {int(i["sk"]["S"][2:]): len(i["ids"]["SS"]) for page in pages for i in page.get("Items", [])}
        if not seconds:
            return WindowCount(errors=0)
        return WindowCount(errors=sum(seconds.values()), first_second=min(seconds), last_second=max(seconds))
