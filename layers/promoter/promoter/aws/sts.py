"""STS: sessions in other accounts, through a role the target account created for us.

A promotion whose target lives in another account carries ``role_arn`` (and maybe
``external_id``). Every Lambda and CloudWatch call for it goes through a session of that role.
Sessions are cached per (role, external id) and renewed a few minutes before they expire, so a
Lambda container that lives for hours never uses stale credentials.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from ..errors import InvalidRequest
from .artifacts import ArtifactsAdapter
from .clients import LazyClient
from .cloudwatch import AlarmsAdapter
from .errors import code_of
from .lambda_ import LambdaAdapter

SESSION_NAME = "lambda-promoter"
SESSION_SECONDS = 3600
RENEW_BEFORE_SECONDS = 300  # renew this long before the credentials expire
_DENIED = {"AccessDenied", "AccessDeniedException", "InvalidClientTokenId", "NoSuchEntity"}


@dataclass(frozen=True)
class TargetAdapters:
    """The adapters for one account: the control plane's own, or a role's."""

    lambdas: LambdaAdapter
    alarms: AlarmsAdapter
    artifacts: ArtifactsAdapter
    role_arn: str | None = None

    @classmethod
    def of(cls, session: Any = None, role_arn: str | None = None) -> TargetAdapters:
        return cls(
            LambdaAdapter(session=session),
            AlarmsAdapter(session=session),
            ArtifactsAdapter(session=session),
            role_arn,
        )


@dataclass
class _Cached:
    adapters: TargetAdapters
    expires_at: float  # epoch seconds


class RoleSessions(LazyClient):
    """``adapters(role_arn, external_id)``: Lambda, CloudWatch and artifact adapters in the role's
    account, from a cached AssumeRole session."""

    service = "sts"

    def __init__(
        self,
        region: str,
        client: Any = None,
        session: Any = None,
        *,
        clock: Callable[[], float] = time.time,
        renew_before: float = RENEW_BEFORE_SECONDS,
    ) -> None:
        super().__init__(client, session)
        self.region = region
        self._clock = clock
        self._renew_before = renew_before
        self._cache: dict[tuple[str, str | None], _Cached] = {}
        self._lock = threading.Lock()
        self.assumed = 0  # AssumeRole calls made (tests, logs)

    def adapters(self, role_arn: str, external_id: str | None = None) -> TargetAdapters:
        key = (role_arn, external_id)
        with self._lock:
            cached = self._cache.get(key)
            if cached and self._clock() < cached.expires_at - self._renew_before:
                return cached.adapters
            session, expires_at = self._assume(role_arn, external_id)
            adapters = TargetAdapters.of(session, role_arn)
            self._cache[key] = _Cached(adapters, expires_at)
            return adapters

    def _assume(self, role_arn: str, external_id: str | None) -> tuple[Any, float]:
        kwargs: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": SESSION_NAME,
            "DurationSeconds": SESSION_SECONDS,
        }
        if external_id:
            kwargs["ExternalId"] = external_id
        try:
            credentials = self.client.assume_role(**kwargs)["Credentials"]
        except ClientError as error:
            code = code_of(error)
            if code in _DENIED:
                raise InvalidRequest(
                    f"the control plane cannot assume role {role_arn}: {code}. The target account must "
                    "deploy templates/target-account.yaml (trust to this account, the external id), and the "
                    "role name must match the control plane's TargetRoleNamePrefix",
                    field="role_arn",
                ) from error
            raise
        self.assumed += 1
        session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self.region,
        )
        expiration = credentials.get("Expiration")
        expires_at = expiration.timestamp() if hasattr(expiration, "timestamp") else self._clock() + SESSION_SECONDS
        return session, expires_at
