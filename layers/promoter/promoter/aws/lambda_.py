"""Lambda: versions, aliases with RevisionId, hooks."""

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from ..errors import AliasDrift, InvalidRequest, NotFound
from .clients import BOTO_CONFIG, LazyClient, new_client
from .errors import code_of

# A hook runs exactly once per phase: no SDK retry, and a read timeout longer than any hook may run
# (start refuses hooks whose Timeout exceeds MAX_HOOK_TIMEOUT_SECONDS).
MAX_HOOK_TIMEOUT_SECONDS = 840
HOOK_INVOKE_CONFIG = BOTO_CONFIG.merge(
    Config(retries={"total_max_attempts": 1}, read_timeout=MAX_HOOK_TIMEOUT_SECONDS + 20)
)


@dataclass(frozen=True)
class AliasState:
    version: str
    weights: dict[str, float] = field(default_factory=dict)
    revision_id: str = ""

    @property
    def is_settled(self) -> bool:
        """Exactly one version, empty routing."""
        return not self.weights


class LambdaAdapter(LazyClient):
    service = "lambda"

    def get_function(self, function: str) -> dict[str, Any]:
        """Configuration and Tags of $LATEST."""
        try:
            function_info: dict[str, Any] = self.client.get_function(FunctionName=function)
            return function_info
        except ClientError as error:
            if code_of(error) == "ResourceNotFoundException":
                raise NotFound(f"function {function!r} does not exist", field="function") from error
            raise

    def get_version(self, function: str, version: str) -> dict[str, Any]:
        """A version's configuration. Read with GetFunction, which has a quota of its own (100
        requests/s), not GetFunctionConfiguration, which shares the 15 requests/s of the rest of
        Lambda's control plane with every alias write:
        https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests"""
        try:
            config: dict[str, Any] = self.client.get_function(FunctionName=function, Qualifier=version)["Configuration"]
            return config
        except ClientError as error:
            if code_of(error) == "ResourceNotFoundException":
                raise InvalidRequest(f"version {version} of {function!r} is not published", field="version") from error
            raise

    def get_alias(self, function: str, alias: str) -> AliasState:
        try:
            raw = self.client.get_alias(FunctionName=function, Name=alias)
        except ClientError as error:
            if code_of(error) == "ResourceNotFoundException":
                raise InvalidRequest(f"alias {alias!r} of {function!r} does not exist", field="alias") from error
            raise
        weights = (raw.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return AliasState(
            version=raw["FunctionVersion"],
            weights={k: float(v) for k, v in weights.items()},
            revision_id=raw["RevisionId"],
        )

    def list_aliases(self, function: str) -> dict[str, AliasState]:
        """Every alias of ``function`` by name, with its version, routing and RevisionId."""
        aliases: dict[str, AliasState] = {}
        try:
            for page in self.client.get_paginator("list_aliases").paginate(FunctionName=function):
                for raw in page.get("Aliases", []):
                    weights = (raw.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
                    aliases[raw["Name"]] = AliasState(
                        version=raw["FunctionVersion"],
                        weights={k: float(v) for k, v in weights.items()},
                        revision_id=raw.get("RevisionId", ""),
                    )
        except ClientError as error:
            if code_of(error) == "ResourceNotFoundException":
                raise NotFound(f"function {function!r} does not exist", field="function") from error
            raise
        return aliases

    def update_alias(
        self, function: str, alias: str, version: str, weights: dict[str, float], revision_id: str
    ) -> AliasState:
        """Write the alias only if it is still at ``revision_id``; else AliasDrift."""
        try:
            raw = self.client.update_alias(
                FunctionName=function,
                Name=alias,
                FunctionVersion=version,
                RoutingConfig={"AdditionalVersionWeights": weights},
                RevisionId=revision_id,
            )
        except ClientError as error:
            if code_of(error) == "PreconditionFailedException":
                raise AliasDrift(
                    f"alias {alias!r} of {function!r} changed out of band (RevisionId mismatch)"
                ) from error
            raise
        return AliasState(version=raw["FunctionVersion"], weights=dict(weights), revision_id=raw["RevisionId"])

    def publish_version(self, function: str, code_sha256: str | None = None, description: str = "") -> str:
        """Wait until the last update finished, then publish; ``code_sha256`` is a precondition."""
        self.client.get_waiter("function_updated_v2").wait(
            FunctionName=function, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
        )
        kwargs: dict[str, Any] = {"FunctionName": function, "Description": description}
        if code_sha256:
            kwargs["CodeSha256"] = code_sha256
        try:
            published: str = self.client.publish_version(**kwargs)["Version"]
            return published
        except ClientError as error:
            # AWS answers a CodeSha256 that is not $LATEST's with InvalidParameterValueException
            # ("CodeSHA256 (...) is different from current CodeSHA256 in $LATEST").
            if code_of(error) == "InvalidParameterValueException" and "CodeSHA256" in str(error):
                raise InvalidRequest(f"the code of {function!r} is not {code_sha256}", field="code_sha256") from error
            raise

    @property
    def invoke_client(self) -> Any:
        """A client for hooks: one attempt, a read timeout longer than the hook may run."""
        if self._injected:
            return self.client
        if getattr(self, "_invoke_client", None) is None:
            self._invoke_client = new_client(self.service, self._session, HOOK_INVOKE_CONFIG)
        return self._invoke_client

    def invoke(self, function: str, payload: dict[str, Any]) -> tuple[bool, Any]:
        """Invoke synchronously, once. Returns (function errored, decoded payload)."""
        raw = self.invoke_client.invoke(
            FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(payload).encode()
        )
        body = raw["Payload"].read()
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = body.decode(errors="replace")
        return bool(raw.get("FunctionError")), decoded
