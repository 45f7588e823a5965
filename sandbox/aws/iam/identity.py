"""Who is calling: the sandbox principal behind an access key id.

AWS authenticates every request by its access key: a long-term key (``AKIA...``) belongs to an
IAM user, a temporary key (``ASIA...``) to the role session that ``sts:AssumeRole`` created, and
the request then acts as that user or that session ("IAM identifiers", "Compare IAM identities and
credentials", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html and
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html).

moto keeps these keys in its own backends: a user's key in ``iam_backends[account][partition]
.access_keys`` (with ``user_name``), an assumed role's key there too (``user_name`` None,
``role_arn`` set) and the session itself in ``sts_backends[account][partition].assumed_roles``.
Any other key (for example ``testing``) is not known to moto: the sandbox lets it act as the
account's root, so casual use keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam.models import get_account_id_from, iam_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import PARTITION_NAMES

PrincipalKind = Literal["user", "assumed-role", "root"]


@dataclass(frozen=True)
class Principal:
    """The identity a request acts as, as AWS's request context names it.

    ``secret_access_key`` is None for the root fallback (its key is not known, so a signature made
    with it cannot be verified). ``role_arn`` and ``session_name`` are set for assumed-role sessions.
    """

    arn: str
    account_id: str
    kind: PrincipalKind
    access_key_id: str
    user_id: str = ""  # AIDA... for a user, AROA...:session for a session, the account id for root
    secret_access_key: str | None = None
    role_arn: str | None = None
    session_name: str | None = None
    session_token: str | None = None

    @property
    def is_root(self) -> bool:
        return self.kind == "root"


def principal_for_access_key(access_key_id: str) -> Principal:
    """The sandbox principal that ``access_key_id`` authenticates (root of the account if unknown)."""
    account_id = get_account_id_from(access_key_id)
    for partition in PARTITION_NAMES:
        key = _stored_key(account_id, partition, access_key_id)
        if key is None:
            continue
        if key.user_name is not None:
            return _user_principal(account_id, partition, key)
        session = _assumed_role_session(access_key_id)
        if session is not None:
            return _session_principal(session)
    return root_principal(account_id, access_key_id)


def root_principal(account_id: str = DEFAULT_ACCOUNT_ID, access_key_id: str = "") -> Principal:
    """The account's root user, the identity the sandbox gives keys it does not know."""
    return Principal(
        arn=f"arn:aws:iam::{account_id}:root",
        account_id=account_id,
        kind="root",
        access_key_id=access_key_id,
        user_id=account_id,
    )


def _stored_key(account_id: str, partition: str, access_key_id: str) -> Any:
    if account_id not in iam_backends:
        return None
    backend = iam_backends[account_id][partition]
    return backend.access_keys.get(access_key_id)


def _user_principal(account_id: str, partition: str, key: Any) -> Principal:
    user = iam_backends[account_id][partition].get_user(key.user_name)
    return Principal(
        arn=user.arn,
        account_id=account_id,
        kind="user",
        access_key_id=key.access_key_id,
        user_id=user.id,
        secret_access_key=key.secret_access_key,
    )


def _assumed_role_session(access_key_id: str) -> Any:
    """moto files a session under the role's account; look in every account to be safe."""
    for account_id in list(sts_backends.keys()):
        for partition in PARTITION_NAMES:
            backend = sts_backends[account_id][partition]
            session = backend.get_assumed_role_from_access_key(access_key_id)
            if session is not None:
                return session
    return None


def _session_principal(session: Any) -> Principal:
    return Principal(
        arn=session.arn,
        account_id=session.account_id,
        kind="assumed-role",
        access_key_id=session.access_key_id,
        user_id=session.user_id,
        secret_access_key=session.secret_access_key,
        role_arn=session.role_arn,
        session_name=session.session_name,
        session_token=session.session_token,
    )
