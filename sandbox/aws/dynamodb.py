"""DynamoDB: a conditional write is atomic, and reads see a table between writes, as in AWS.

moto checks a condition, then writes, with no lock: two threads could both pass
``attribute_not_exists`` (two holders of one target's lock). Its tables are plain dicts, so a read
beside a write could raise "dictionary changed size during iteration". The item size limit (400 KB)
is moto's own and kept.
"""

from __future__ import annotations

import threading
from typing import Any

_DYNAMODB_WRITES = threading.RLock()


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
