"""DynamoDB: a conditional write is atomic, and reads see a table between writes, as in AWS.

moto checks a condition, then writes, with no lock: two threads could both pass
``attribute_not_exists`` (two holders of one target's lock). Its tables are plain dicts, so a read
beside a write could raise "dictionary changed size during iteration". The item size limit (400 KB)
is moto's own and kept.

A cancelled TransactWriteItems leaves every item as it was, as in AWS; the sandbox undoes it item
by item, where moto deep-copied each table the transaction names before every transaction. A
TransactWriteItems retried with its ClientRequestToken is not applied twice, as in AWS.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

from ..clock import CLOCK

_DYNAMODB_WRITES = threading.RLock()
_UNDOING_BY_ITEM = threading.local()  # set while a transaction keeps its own journal of items


def atomic_conditional_writes() -> None:
    """A conditional write checks and writes as one step, as DynamoDB's conditional writes do.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate"""
    from moto.dynamodb import models as dynamodb_models

    backend = dynamodb_models.DynamoDBBackend
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(backend, name)

        def atomic(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _DYNAMODB_WRITES:
                return __original(self, *args, **kwargs)

        setattr(backend, name, atomic)


def reads_between_writes() -> None:
    """Reads see a table between writes, never during one, as DynamoDB's item-level consistency
    gives (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html).
    Needed because moto's tables are plain dicts: ``get_item`` on a table with a sort key inserts an
    empty entry for a missing partition key (a defaultdict), and queries iterate the dict, so with
    invocations running concurrently a read beside ``transact_write_items``' deepcopy of the table
    raised "dictionary changed size during iteration"."""
    from moto.dynamodb import models as dynamodb_models

    backend = dynamodb_models.DynamoDBBackend
    for name in ("get_item", "query", "scan"):  # batch and transact gets go through get_item
        original = getattr(backend, name)

        def between_writes(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _DYNAMODB_WRITES:
                return __original(self, *args, **kwargs)

        setattr(backend, name, between_writes)


def _item_key(table: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any] | None:
    """The key an operation of a transaction writes, or None if it names no usable key (moto then
    refuses the operation, so it writes nothing)."""
    if op_type != "Put":
        return op.get("Key")
    attrs = op.get("Item") or {}
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: attrs[name] for name in names} if all(name in attrs for name in names) else None


def transactions_undo_their_own_items() -> None:
    """TransactWriteItems succeeds or fails as a whole: when any operation fails, none of them takes
    effect (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
    moto applied operations one by one and, to undo them, deep-copied every table the transaction
    names, once per operation, before each transaction: a cost that grows with the table (a fifth
    of the sandbox's time with 50 promotions at once). The sandbox keeps a copy of only the items
    the transaction writes, and puts them back (and drops their stream records) if it is
    cancelled; moto's table copies become the tables themselves while it runs."""
    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models.table import Table

    def deepcopy_table(self: Any, memo: dict[int, Any]) -> Any:
        if getattr(_UNDOING_BY_ITEM, "on", False):
            return self  # the transaction's journal undoes it (below)
        clone = object.__new__(type(self))  # a real copy otherwise (a backup, a restore)
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            setattr(clone, name, copy.deepcopy(value, memo))
        return clone

    Table.__deepcopy__ = deepcopy_table  # type: ignore[attr-defined]
    original = dynamodb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _DYNAMODB_WRITES:
            journal: dict[tuple[str, str], tuple[Any, Any, Any, Any]] = {}
            streams: dict[str, int] = {}
            for entry in transact_items[:100]:  # moto refuses more before writing any
                for op_type, op in entry.items():
                    table: Any = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
                    key = _item_key(table, op_type, op) if table is not None else None
                    if table is None or key is None:
                        continue
                    try:
                        hash_key, range_key = self.get_keys_value(table, key)
                        before = table.get_item(hash_key, range_key)
                    except Exception:  # noqa: BLE001 - a malformed key: moto refuses it unwritten
                        continue
                    journal.setdefault(
                        (table.name, repr((hash_key, range_key))),
                        (table, hash_key, range_key, copy.deepcopy(before)),
                    )
                    if table.stream_shard is not None:
                        streams.setdefault(table.name, len(table.stream_shard.items))
            _UNDOING_BY_ITEM.on = True
            try:
                original(self, transact_items)
            except Exception:
                for table, hash_key, range_key, before in reversed(journal.values()):
                    table.delete_item(hash_key, range_key)
                    if before is not None:
                        if range_key is not None:
                            table.items[hash_key][range_key] = before
                        else:
                            table.items[hash_key] = before
                for name, length in streams.items():
                    del self.tables[name].stream_shard.items[length:]
                raise
            finally:
                _UNDOING_BY_ITEM.on = False

    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


# AWS: "A client request token is valid for 10 minutes after the first request that uses it is
# completed." On the sandbox's clock, as every other AWS duration: a test may advance past it.
CLIENT_REQUEST_TOKEN_SECONDS = 600


def transactions_honour_client_request_tokens() -> None:
    """A TransactWriteItems sent again with its ClientRequestToken within 10 minutes answers success
    and writes nothing more; the same token with other parameters is refused with
    IdempotentParameterMismatchException, as in AWS
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html#DDB-TransactWriteItems-request-ClientRequestToken).
    The SDKs fill in a token for every call and keep it across their own retries, so a transaction
    whose answer was lost (a 500 after it landed, a timeout) is retried without effect. moto
    ignored the token and applied the retry: a start's lock and record, written by the first
    attempt, made the retry's conditions fail, and the start was refused as busy with itself.
    Only a transaction that succeeded keeps its token: a cancelled one wrote nothing."""
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.transact_write_items

    def transact_write_items(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return original(self)
        request = json.dumps({k: v for k, v in self.body.items() if k != "ClientRequestToken"}, sort_keys=True)
        backend = self.dynamodb_backend
        with _DYNAMODB_WRITES:
            now = CLOCK.now()
            tokens: dict[str, tuple[str, float]] = backend.__dict__.setdefault("_client_request_tokens", {})
            for old in [t for t, (_, at) in tokens.items() if now - at > CLIENT_REQUEST_TOKEN_SECONDS]:
                del tokens[old]
            if token in tokens:
                if tokens[token][0] != request:
                    raise DynamodbException(
                        ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
                        "Request with the same client token was made with different parameters",
                    )
                return _succeeded()
            result = original(self)
            tokens[token] = (request, CLOCK.now())
            return result

    DynamoHandler.transact_write_items = transact_write_items


def _succeeded() -> Any:
    """TransactWriteItems' answer when it writes nothing more (moto's own answer's shape)."""
    from moto.core.responses import ActionResult

    return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
