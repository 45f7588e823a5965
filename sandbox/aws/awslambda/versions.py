"""Lambda versions and aliases as AWS keeps them: RevisionIds, routing rules, PublishVersion's checks.

``ALIAS_WRITES`` records every alias write the sandbox accepted, as AWS saw it, so that tests can
show what a promotion did to an alias step by step.
"""

from __future__ import annotations

import json
import re
from typing import Any

from moto.awslambda import models as lambda_models
from moto.awslambda import responses as lambda_responses
from moto.awslambda.exceptions import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ValidationException,
)
from moto.moto_api._internal import mock_random

# Every alias write the sandbox accepted: (function, alias, version, weights).
ALIAS_WRITES: list[tuple[str, str, str, dict[str, float]]] = []
_VERSION_KEYS = (
    "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, "
    "Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]"
)

MAX_DESCRIPTION = 256


def _validate_description(description: Any) -> None:
    """Descriptions of versions and aliases are at most 256 characters; longer ones fail AWS's
    request validation (ValidationException). https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html"""
    if description is not None and len(str(description)) > MAX_DESCRIPTION:
        raise ValidationException(
            str(description), "description", f"Member must have length less than or equal to {MAX_DESCRIPTION}"
        )


def _validate_routing(backend: Any, function_name: str, version: str | None, routing: Any) -> None:
    """AWS's rules for a weighted alias: at most one additional version, a weight in [0, 1], and both
    versions published: ``$LATEST`` fails the key pattern of AdditionalVersionWeights
    (ValidationException) and cannot be the alias's main version (InvalidParameterValueException).
    https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_AliasRoutingConfiguration.html"""
    weights = (routing or {}).get("AdditionalVersionWeights") or {}
    if any(not re.fullmatch(r"[0-9]+", str(extra)) for extra in weights):
        shown = "{" + ", ".join(f"{k}={v}" for k, v in weights.items()) + "}"
        raise ValidationException(shown, "routingConfig.additionalVersionWeights", _VERSION_KEYS)
    if len(weights) > 1:
        raise InvalidParameterValueException("Only one additional version is allowed in RoutingConfig")
    if weights and version == "$LATEST":
        raise InvalidParameterValueException("$LATEST is not supported for an alias pointing to more than 1 version")
    for extra, weight in weights.items():
        if not (0.0 <= float(weight) <= 1.0):
            raise InvalidParameterValueException(f"Invalid weight {weight}: must be between 0.0 and 1.0")
        if version is not None and extra == version:
            raise InvalidParameterValueException("RoutingConfig version must differ from FunctionVersion")
        backend.get_function(function_name, extra)  # raises if the version does not exist


def keep_alias_revisions() -> None:
    """Aliases as AWS does them: a new RevisionId on every update; UpdateAlias with a stale
    ``RevisionId`` is a PreconditionFailedException; CreateAlias and UpdateAlias apply AWS's rules
    for descriptions and routing weights (``_validate_description``, ``_validate_routing``).
    https://docs.aws.amazon.com/lambda/latest/api/API_UpdateAlias.html"""
    original_update = lambda_models.LambdaAlias.update

    def update(self: Any, description: Any, function_version: Any, routing_config: Any) -> None:
        original_update(self, description, function_version, routing_config)
        self.revision_id = str(mock_random.uuid4())
        weights = (self.routing_config or {}).get("AdditionalVersionWeights") or {}
        function = self.arn.split(":function:")[1].rsplit(":", 1)[0]
        ALIAS_WRITES.append((function, self.name, self.function_version, dict(weights)))

    lambda_models.LambdaAlias.update = update

    original_response = lambda_responses.LambdaResponse.update_alias

    def update_alias(self: Any) -> Any:
        function_name = lambda_responses.unquote(self.path.rsplit("/")[-3])
        alias_name = lambda_responses.unquote(self.path.rsplit("/", 2)[-1])
        params = json.loads(self.body or "{}")
        alias = self.backend.get_alias(alias_name, function_name)
        expected = params.get("RevisionId")
        if expected and expected != alias.revision_id:
            raise PreconditionFailedException(
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetAlias API to retrieve the latest Revision Id"
            )
        version = params.get("FunctionVersion") or alias.function_version
        _validate_description(params.get("Description"))
        _validate_routing(self.backend, function_name, version, params.get("RoutingConfig"))
        return original_response(self)

    lambda_responses.LambdaResponse.update_alias = update_alias

    original_create = lambda_responses.LambdaResponse.create_alias

    def create_alias(self: Any) -> Any:
        function_name = lambda_responses.unquote(self.path.rsplit("/", 2)[-2])
        params = json.loads(self.body or "{}")
        _validate_description(params.get("Description"))
        _validate_routing(self.backend, function_name, params.get("FunctionVersion"), params.get("RoutingConfig"))
        return original_create(self)

    lambda_responses.LambdaResponse.create_alias = create_alias


def answer_alias_reads_200() -> None:
    """GetAlias and UpdateAlias answer HTTP 200 (moto: 201, which only CreateAlias answers).
    https://docs.aws.amazon.com/lambda/latest/api/API_GetAlias.html#API_GetAlias_ResponseSyntax"""
    for name in ("get_alias", "update_alias"):
        original = getattr(lambda_responses.LambdaResponse, name)

        def ok(self: Any, __original: Any = original) -> Any:
            _status, headers, body = __original(self)
            return 200, {**headers, "status": 200}, body

        setattr(lambda_responses.LambdaResponse, name, ok)


def check_publish_precondition() -> None:
    """PublishVersion publishes only if ``CodeSha256`` matches $LATEST's code; a mismatch is an
    InvalidParameterValueException on AWS ("CodeSHA256 (...) is different from current CodeSHA256 in
    $LATEST"), and a ``Description`` over 256 characters a ValidationException.
    https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html"""
    original = lambda_responses.LambdaResponse.publish_version

    def publish_version(self: Any) -> Any:
        function_name = lambda_responses.unquote(self.path.split("/")[-2])
        _validate_description(self._get_param("Description"))
        expected = self._get_param("CodeSha256")
        if expected:
            latest = self.backend.get_function(function_name)
            if latest.code_sha_256 != expected:
                raise InvalidParameterValueException(
                    f"CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST "
                    f"({latest.code_sha_256}). Please try again with the CodeSHA256 in $LATEST."
                )
        return original(self)

    lambda_responses.LambdaResponse.publish_version = publish_version
