"""boto3 client factory with explicit retry and timeout settings."""

from typing import Any

import boto3
from botocore.config import Config

# Standard mode retries throttling and 5xx with backoff; the ASL retries on top of this.
BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=5,
    read_timeout=20,
)


def new_client(service: str, session: boto3.session.Session | None = None, config: Config = BOTO_CONFIG) -> Any:
    return (session or boto3.session.Session()).client(service, config=config)


class LazyClient:
    """Mixin: ``self.client`` is the injected client, or a new one on first use."""

    service: str = ""

    def __init__(self, client: Any = None, session: boto3.session.Session | None = None) -> None:
        self._client = client
        self._injected = client is not None
        self._session = session

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = new_client(self.service, self._session)
        return self._client
