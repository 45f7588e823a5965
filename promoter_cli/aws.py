"""The CLI's only contact with boto3: the user's credentials and the deployed stack's outputs.

Kept small and imported lazily, so that ``promoter --help`` and calls to the local sandbox
stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

API_URL_OUTPUT = "ApiUrl"


class AwsLookupError(Exception):
    """A credential or stack lookup failed; the message says what to do."""


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


def _session(profile: str | None, region: str | None) -> Any:
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as error:
        raise AwsLookupError(str(error)) from error


def credentials(profile: str | None = None) -> Credentials | None:
    """The user's normal AWS credentials (env, profile, SSO, instance role...), or None."""
    found = _session(profile, None).get_credentials()
    if found is None:
        return None
    frozen = found.get_frozen_credentials()
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


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
        raise AwsLookupError(
            f"stack {stack!r} has no {API_URL_OUTPUT} output; is it a lambda-promoter stack?"
        )
    return outputs[API_URL_OUTPUT]
