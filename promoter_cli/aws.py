"""The CLI's only contact with boto3: the user's credentials and the deployed stack's outputs.

Kept small and imported lazily, so that ``promoter --help`` and calls to the local sandbox
stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

API_URL_OUTPUT = "ApiUrl"


class AwsLookupError(Exception):
    """A credential or stack lookup failed; the message says what to do."""


@dataclass(frozen=True)
class Credentials:
    """One set of keys, as the signer needs them."""

    access_key: str
    secret_key: str
    token: str | None = None


class CredentialSource(Protocol):
    def get_frozen_credentials(self) -> Any: ...


@dataclass(frozen=True)
class StaticCredentials:
    """Fixed keys behind the same interface as botocore's credentials (for tests and scripts)."""

    keys: Credentials

    def get_frozen_credentials(self) -> Credentials:
        return self.keys


def _session(profile: str | None, region: str | None) -> Any:
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as error:
        raise AwsLookupError(str(error)) from error


def credentials(profile: str | None = None) -> CredentialSource | None:
    """The user's normal AWS credentials (env, profile, SSO, assumed role, instance role...), or None.

    Botocore's own credentials object, not a frozen copy: for an SSO or assumed-role profile it is
    refreshable, and ``get_frozen_credentials()`` before each call renews the keys as they near expiry,
    so a ``watch`` longer than one role session keeps working.
    """
    try:
        return _session(profile, None).get_credentials()
    except Exception as error:  # botocore raises many kinds here (SSO token expired, bad config...)
        if isinstance(error, AwsLookupError):
            raise
        raise AwsLookupError(f"cannot load AWS credentials: {error}") from error


def default_region(profile: str | None = None) -> str | None:
    return _session(profile, None).region_name


def stack_api_url(stack: str, *, profile: str | None = None, region: str | None = None) -> str:
    """The ``ApiUrl`` output of a deployed lambda-promoter stack."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = _session(profile, region).client("cloudformation")
        stacks = client.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        raise AwsLookupError(f"cannot read stack {stack!r}: {message}") from error
    except BotoCoreError as error:
        raise AwsLookupError(f"cannot read stack {stack!r}: {error}") from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in (stacks[0].get("Outputs") or [])} if stacks else {}
    if API_URL_OUTPUT not in outputs:
        raise AwsLookupError(f"stack {stack!r} has no {API_URL_OUTPUT} output; is it a lambda-promoter stack?")
    return outputs[API_URL_OUTPUT]
