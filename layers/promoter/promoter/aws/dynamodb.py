"""DynamoDB: the promotion record (one item, events included) and the per-target lock.

Every write of a record is conditional on its ``rev``, so the workflow, the API and the alarm
listener can race without losing each other's changes.
"""

from __future__ import annotations

import base64
import builtins
import json
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from .. import clock
from ..errors import NotFound, RecordConflict, TargetBusy
from ..models import Event, Promotion, Schedule
from .clients import LazyClient
from .errors import cancellation_codes, code_of

RECORD_KIND = "PROMOTION"
EVENT_PREFIX = "EVENT#"
MAX_CONFLICT_RETRIES = 8


def _conditional_failed(error: ClientError) -> bool:
    return code_of(error) == "ConditionalCheckFailedException"


class PromotionStore(LazyClient):
    service = "dynamodb"

    def __init__(self, table_name: str, client: Any = None, session: Any = None) -> None:
        super().__init__(client, session)
        self.table_name = table_name

    # --- records ------------------------------------------------------------------------------
    @staticmethod
    def _item(promotion: Promotion, rev: int) -> dict[str, Any]:
        stored = promotion.model_copy(update={"events_stored": promotion.event_count})
        return {
            "pk": {"S": f"PROMOTION#{promotion.id}"},
            "sk": {"S": RECORD_KIND},
            "kind": {"S": RECORD_KIND},
            "target": {"S": promotion.target_key},
            "function": {"S": promotion.function},
            "status": {"S": promotion.status.value},
            "created_at": {"S": promotion.created_at.isoformat()},
            "rev": {"N": str(rev)},
            "doc": {"S": stored.record_document()},
        }

    def _new_events(self, promotion: Promotion) -> list[dict[str, Any]]:
        """The events added since the record was read, each its own item (keys only: no index sees them)."""
        return [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        "pk": {"S": f"PROMOTION#{promotion.id}"},
                        "sk": {"S": f"{EVENT_PREFIX}{promotion.events_stored + offset + 1:06d}"},
                        "doc": {"S": event.model_dump_json()},
                    },
                }
            }
            for offset, event in enumerate(promotion.events)
        ]

    def create(self, promotion: Promotion, lock: str | None = None) -> tuple[Promotion, int]:
        """The record and its alarm watches, and the target's ``lock`` if given, in one transaction:
        a start leaves all of them or none (TargetBusy if another promotion holds the lock).
        Returns the record as a read would (its events stored) and its rev."""
        locks = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": self._lock_key(target) | {"promotion_id": {"S": promotion.id}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for target in ([lock] if lock else [])
        ]
        record = {
            "Put": {
                "TableName": self.table_name,
                "Item": self._item(promotion, 1),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        watches = [
            {"Put": {"TableName": self.table_name, "Item": self._watch_key(a, promotion.id)}} for a in promotion.alarms
        ]
        try:
            self.client.transact_write_items(TransactItems=[*locks, record, *watches, *self._new_events(promotion)])
        except ClientError as error:
            reasons = cancellation_codes(error)
            if lock and reasons and reasons[0] == "ConditionalCheckFailed":
                holder = self.lock_holder(lock)
                if holder != promotion.id:
                    busy = f"{lock} is busy with promotion {holder}"
                    raise TargetBusy(busy, field="alias", active_promotion=holder) from error
                # Our own lock: this transaction had landed, its answer was lost, and it was sent
                # again as a new request (a new ClientRequestToken). All or nothing: the record is there.
            else:
                raise
        return promotion.model_copy(update={"events_stored": promotion.event_count, "events": []}), 1

    def finish(self, promotion: Promotion, expected_rev: int) -> None:
        """Write the final record, free the target and drop the alarm watches, all or nothing.

        The lock is deleted only if it is still ours; if another promotion holds it (ours was
        freed long ago), the record is written without touching it.
        """
        record = {
            "Put": {
                "TableName": self.table_name,
                "Item": self._item(promotion, expected_rev + 1),
                "ConditionExpression": "rev = :rev",
                "ExpressionAttributeValues": {":rev": {"N": str(expected_rev)}},
            }
        }
        lock = {
            "Delete": {
                "TableName": self.table_name,
                "Key": self._lock_key(promotion.target_key),
                "ConditionExpression": "attribute_not_exists(pk) OR promotion_id = :id",
                "ExpressionAttributeValues": {":id": {"S": promotion.id}},
            }
        }
        watches = [
            {"Delete": {"TableName": self.table_name, "Key": self._watch_key(a, promotion.id)}}
            for a in promotion.alarms
        ]
        events = self._new_events(promotion)
        for items in ([record, lock, *watches, *events], [record, *watches, *events]):
            try:
                self.client.transact_write_items(TransactItems=items)
                return
            except ClientError as error:
                reasons = cancellation_codes(error)
                if code_of(error) != "TransactionCanceledException" or not reasons:
                    raise
                if reasons[0] == "ConditionalCheckFailed":
                    raise RecordConflict(f"promotion {promotion.id} changed concurrently") from error
                if len(reasons) < 2 or reasons[1] != "ConditionalCheckFailed":
                    raise
        raise RecordConflict(f"promotion {promotion.id}: could not write the final record")

    def get_with_rev(self, promotion_id: str) -> tuple[Promotion, int]:
        raw = self.client.get_item(
            TableName=self.table_name,
            Key={"pk": {"S": f"PROMOTION#{promotion_id}"}, "sk": {"S": RECORD_KIND}},
            ConsistentRead=True,
        ).get("Item")
        if not raw:
            raise NotFound(f"promotion {promotion_id!r} does not exist", field="id")
        return Promotion.model_validate_json(raw["doc"]["S"]), int(raw["rev"]["N"])

    def get(self, promotion_id: str) -> Promotion:
        """The record with its whole event history (for views)."""
        promotion = self.get_with_rev(promotion_id)[0]
        paginator = self.client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :events)",
            ExpressionAttributeValues={":pk": {"S": f"PROMOTION#{promotion_id}"}, ":events": {"S": EVENT_PREFIX}},
            ConsistentRead=True,
        )
        stored = [Event.model_validate_json(i["doc"]["S"]) for page in pages for i in page.get("Items", [])]
        # A record written before events were items still holds them in its document.
        return promotion.model_copy(update={"events": stored + promotion.events, "events_stored": 0})

    def save(self, promotion: Promotion, expected_rev: int) -> None:
        """The record, if nobody wrote it since ``expected_rev``, with its new events."""
        record = {
            "Put": {
                "TableName": self.table_name,
                "Item": self._item(promotion, expected_rev + 1),
                "ConditionExpression": "rev = :rev",
                "ExpressionAttributeValues": {":rev": {"N": str(expected_rev)}},
            }
        }
        try:
            self.client.transact_write_items(TransactItems=[record, *self._new_events(promotion)])
        except ClientError as error:
            reasons = cancellation_codes(error)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise RecordConflict(f"promotion {promotion.id} changed concurrently") from error
            raise

    def list(
        self,
        *,
        target: str | None = None,
        function: str | None = None,
        status: str | None = None,
        limit: int = 50,
        next_token: str | None = None,
    ) -> tuple[list[Promotion], str | None]:
        """Newest first. ``target`` narrows through the ByTarget index; other filters apply after."""
        kwargs: dict[str, Any] = {"TableName": self.table_name, "ScanIndexForward": False, "Limit": limit}
        if target:
            kwargs |= {
                "IndexName": "ByTarget",
                "KeyConditionExpression": "target = :t",
                "ExpressionAttributeValues": {":t": {"S": target}},
            }
        else:
            kwargs |= {
                "IndexName": "ByKind",
                "KeyConditionExpression": "kind = :k",
                "ExpressionAttributeValues": {":k": {"S": RECORD_KIND}},
            }
        filters = []
        names: dict[str, str] = {}
        if function:
            filters.append("#f = :f")
            names["#f"] = "function"
            kwargs["ExpressionAttributeValues"][":f"] = {"S": function}
        if status:
            filters.append("#s = :s")
            names["#s"] = "status"
            kwargs["ExpressionAttributeValues"][":s"] = {"S": status}
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
            kwargs["ExpressionAttributeNames"] = names
        if next_token:
            kwargs["ExclusiveStartKey"] = json.loads(base64.urlsafe_b64decode(next_token))
        page = self.client.query(**kwargs)
        items = [Promotion.model_validate_json(i["doc"]["S"]) for i in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        token = base64.urlsafe_b64encode(json.dumps(last).encode()).decode() if last else None
        return items, token

    def live(self, min_age_seconds: float = 0.0) -> builtins.list[Promotion]:
        """Promotions not yet final, started at least ``min_age_seconds`` ago (for the reconciler)."""
        before = (clock.now() - timedelta(seconds=min_age_seconds)).isoformat()
        paginator = self.client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table_name,
            IndexName="ByKind",
            KeyConditionExpression="kind = :k AND created_at <= :before",
            FilterExpression="#s IN (:p, :a, :r, :z)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":k": {"S": RECORD_KIND},
                ":before": {"S": before},
                ":p": {"S": "PENDING"},
                ":a": {"S": "AWAITING_APPROVAL"},
                ":r": {"S": "RUNNING"},
                ":z": {"S": "PAUSED"},
            },
        )
        return [Promotion.model_validate_json(i["doc"]["S"]) for page in pages for i in page.get("Items", [])]

    # --- alarm watches: which live promotions watch an alarm ------------------------------------
    @staticmethod
    def _watch_key(alarm: str, promotion_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"ALARM#{alarm}"}, "sk": {"S": promotion_id}}

    def watchers(self, alarm: str) -> builtins.list[str]:
        """Ids of the live promotions that watch ``alarm``."""
        paginator = self.client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"ALARM#{alarm}"}},
            ConsistentRead=True,
        )
        return [item["sk"]["S"] for page in pages for item in page.get("Items", [])]

    # --- the per-target lock ------------------------------------------------------------------
    @staticmethod
    def _lock_key(target: str) -> dict[str, Any]:
        return {"pk": {"S": f"LOCK#{target}"}, "sk": {"S": "LOCK"}}

    def acquire_lock(self, target: str, promotion_id: str) -> None:
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=self._lock_key(target) | {"promotion_id": {"S": promotion_id}},
                ConditionExpression="attribute_not_exists(pk) OR promotion_id = :id",
                ExpressionAttributeValues={":id": {"S": promotion_id}},
            )
        except ClientError as error:
            if _conditional_failed(error):
                holder = self.lock_holder(target)
                raise TargetBusy(
                    f"{target} is busy with promotion {holder}", field="alias", active_promotion=holder
                ) from error
            raise

    def lock_holder(self, target: str) -> str | None:
        raw = self.client.get_item(TableName=self.table_name, Key=self._lock_key(target), ConsistentRead=True).get(
            "Item"
        )
        return raw["promotion_id"]["S"] if raw else None

    def release_lock(self, target: str, promotion_id: str) -> None:
        """Release only our own lock; releasing twice is fine."""
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key=self._lock_key(target),
                ConditionExpression="attribute_not_exists(pk) OR promotion_id = :id",
                ExpressionAttributeValues={":id": {"S": promotion_id}},
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise


class ScheduleStore(LazyClient):
    """Schedules and their run history, in the promotions table."""

    service = "dynamodb"

    def __init__(self, table_name: str, client: Any = None, session: Any = None) -> None:
        super().__init__(client, session)
        self.table_name = table_name

    def put(self, schedule: Schedule) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item={
                "pk": {"S": f"SCHEDULE#{schedule.id}"},
                "sk": {"S": "SCHEDULE"},
                "kind": {"S": "SCHEDULE"},
                "created_at": {"S": schedule.created_at.isoformat()},
                "doc": {"S": schedule.model_dump_json()},
            },
        )

    def get(self, schedule_id: str) -> Schedule:
        raw = self.client.get_item(
            TableName=self.table_name,
            Key={"pk": {"S": f"SCHEDULE#{schedule_id}"}, "sk": {"S": "SCHEDULE"}},
            ConsistentRead=True,
        ).get("Item")
        if not raw:
            raise NotFound(f"schedule {schedule_id!r} does not exist", field="id")
        return Schedule.model_validate_json(raw["doc"]["S"])

    def list(self) -> list[Schedule]:
        paginator = self.client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table_name,
            IndexName="ByKind",
            KeyConditionExpression="kind = :k",
            ExpressionAttributeValues={":k": {"S": "SCHEDULE"}},
            ScanIndexForward=False,
        )
        return [Schedule.model_validate_json(i["doc"]["S"]) for page in pages for i in page.get("Items", [])]
