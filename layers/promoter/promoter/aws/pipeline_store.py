"""DynamoDB: pipelines, one item each, in the promotions table (``PIPELINE#<name>``)."""

from __future__ import annotations

from typing import Any

from ..errors import NotFound
from ..models import PipelineRecord
from .clients import LazyClient

KIND = "PIPELINE"


class PipelineStore(LazyClient):
    service = "dynamodb"

    def __init__(self, table_name: str, client: Any = None, session: Any = None) -> None:
        super().__init__(client, session)
        self.table_name = table_name

    @staticmethod
    def _key(name: str) -> dict[str, Any]:
        return {"pk": {"S": f"{KIND}#{name}"}, "sk": {"S": KIND}}

    def put(self, record: PipelineRecord) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=self._key(record.pipeline.name)
            | {
                "kind": {"S": KIND},
                "created_at": {"S": record.created_at.isoformat()},
                "doc": {"S": record.model_dump_json()},
            },
        )

    def get(self, name: str) -> PipelineRecord:
        raw = self.client.get_item(TableName=self.table_name, Key=self._key(name), ConsistentRead=True).get("Item")
        if not raw:
            raise NotFound(f"pipeline {name!r} does not exist", field="name")
        return PipelineRecord.model_validate_json(raw["doc"]["S"])

    def delete(self, name: str) -> None:
        self.client.delete_item(TableName=self.table_name, Key=self._key(name))

    def list(self) -> list[PipelineRecord]:
        paginator = self.client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table_name,
            IndexName="ByKind",
            KeyConditionExpression="kind = :k",
            ExpressionAttributeValues={":k": {"S": KIND}},
        )
        records = [PipelineRecord.model_validate_json(i["doc"]["S"]) for page in pages for i in page.get("Items", [])]
        return sorted(records, key=lambda r: r.pipeline.name)
