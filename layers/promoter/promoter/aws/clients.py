"""boto3 client factory with explicit retry and timeout settings, from one Session per process."""

import os
import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

# Standard mode retries throttling and 5xx with backoff; the ASL retries on top of this.
BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=5,
    read_timeout=20,
)

# What a Session reads from the environment when it is made. Lambda gives an execution environment
# one set for its life; the sandbox runs several functions in one process, each with its own.
_SESSION_ENVIRONMENT = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
)
_SESSIONS: dict[tuple[str | None, ...], boto3.session.Session] = {}  # the most recently used last
# Each Session holds botocore's loaded data (about 30,000 objects); only the latest few are kept, so a
# process that sees credentials come and go (the sandbox, one set per start) does not keep them all.
_MAX_SESSIONS = 8
# boto3 Sessions are not thread-safe (clients are): clients are made under the lock.
_LOCK = threading.Lock()


def shared_session() -> boto3.session.Session:
    """The process's Session for the credentials in the environment. A new Session per client loads
    botocore's data again: 5 first clients take about 3x as long (python -m bench.client_sessions)."""
    key = tuple(os.environ.get(name) for name in _SESSION_ENVIRONMENT)
    with _LOCK:
        session = _SESSIONS.pop(key, None) or boto3.session.Session()
        _SESSIONS[key] = session
        while len(_SESSIONS) > _MAX_SESSIONS:
            del _SESSIONS[next(iter(_SESSIONS))]  # clients made from it keep working: they hold it
        return session


def new_client(service: str, session: boto3.session.Session | None = None, config: Config = BOTO_CONFIG) -> Any:
    if session is not None:  # a role's session (promoter.aws.sts), owned by its caller
        return _client_of(session, service, config)
    shared = shared_session()
    with _LOCK:
        return _client_of(shared, service, config)


def _client_of(session: boto3.session.Session, service: str, config: Config) -> Any:
    # Any service by name: the adapters hold their clients as Any, not as the stubs' per-service types
    # (whose overloads take only literal service names).
    make: Callable[..., Any] = session.client
    return make(service, config=config)


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
