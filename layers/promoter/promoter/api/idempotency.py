"""``Idempotency-Key`` on POSTs, with Powertools idempotency on a DynamoDB table.

One idempotent function serves every POST, so the persistence layer is configured once and the
key prefix never changes under concurrent requests (Powertools keeps it on the layer). The
record key is (caller, operation, promotion, key): two callers never share a key, and a key
means one thing per operation. The body is hashed too: the same key with another body is
refused (422) instead of answered with the first response.

The same code runs in Lambda and on the local server: both reach the table through the AWS SDK.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from ..aws.clients import BOTO_CONFIG

logger = logging.getLogger(__name__)

KEY_PREFIX = "lambda-promoter-api"
HEADER = "Idempotency-Key"


def _run(request: dict[str, Any], call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return call()


class Idempotency:
    def __init__(
        self,
        table_name: str | Callable[[], str],
        *,
        expires_after_seconds: int = 24 * 3600,
        persistence_store: Any = None,
    ) -> None:
        self._table_name = table_name
        self._store = persistence_store
        self._expires = expires_after_seconds
        self._config: IdempotencyConfig | None = None
        self._idempotent: Callable[..., dict[str, Any]] | None = None

    @property
    def table_name(self) -> str:
        """Resolved on first use, so a service built lazily from the environment works too."""
        if callable(self._table_name):
            self._table_name = self._table_name()
        return self._table_name

    @property
    def enabled(self) -> bool:
        return bool(self._store or self.table_name)

    def _function(self) -> Callable[..., dict[str, Any]]:
        if self._idempotent is None:  # built on first use: no AWS client at import time
            store = self._store or DynamoDBPersistenceLayer(table_name=self.table_name, boto_config=BOTO_CONFIG)
            self._config = IdempotencyConfig(
                event_key_jmespath="[actor, operation, promotion, key]",
                payload_validation_jmespath="payload",
                raise_on_no_idempotency_key=True,
                expires_after_seconds=self._expires,
            )
            self._idempotent = idempotent_function(
                _run,
                data_keyword_argument="request",
                persistence_store=store,
                config=self._config,
                key_prefix=KEY_PREFIX,
            )
        return self._idempotent

    def run(
        self,
        key: str | None,
        call: Callable[[], dict[str, Any]],
        *,
        actor: str,
        operation: str,
        promotion: str | None = None,
        payload: Any = None,
        lambda_context: Any = None,
    ) -> dict[str, Any]:
        """``call()`` once per key: a repeat answers the stored result without calling again."""
        if not key:
            return call()
        if not self.enabled:
            logger.warning("Idempotency-Key ignored: no idempotency table configured (IDEMPOTENCY_TABLE)")
            return call()
        function = self._function()
        if lambda_context is not None and self._config is not None:
            self._config.register_lambda_context(lambda_context)
        request = {
            "actor": actor,
            "operation": operation,
            "promotion": promotion,
            "key": key,
            "payload": payload,
        }
        return function(request=request, call=call)
