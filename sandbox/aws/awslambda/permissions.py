"""A function's resource-based policy: may an AWS service invoke it for a source?

AWS services that push to Lambda (CloudWatch Logs subscriptions, EventBridge rules) invoke a
function only if its resource-based policy allows it: a statement letting the service principal
``lambda:InvokeFunction``, with ``aws:SourceArn`` and ``aws:SourceAccount`` matching if given
(``lambda:AddPermission``, AWS::Lambda::Permission).
https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
"""

from __future__ import annotations

import fnmatch
from typing import Any


def _names_the_service(statement: dict[str, Any], service: str) -> bool:
    principal = statement.get("Principal")
    named = principal.get("Service") if isinstance(principal, dict) else principal
    names = [str(n) for n in (named if isinstance(named, list) else [named])]
    return any(n == f"{service}.amazonaws.com" or fnmatch.fnmatchcase(n, f"{service}.*.amazonaws.com") for n in names)


def _allows(statement: dict[str, Any], service: str, source_arn: str, account: str) -> bool:
    if statement.get("Effect", "Allow") != "Allow" or not _names_the_service(statement, service):
        return False
    actions = statement.get("Action")
    if not any(
        a in ("lambda:InvokeFunction", "lambda:*", "*") for a in (actions if isinstance(actions, list) else [actions])
    ):
        return False
    for keys in (statement.get("Condition") or {}).values():
        for key, expected in keys.items():
            values = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
            if key.lower() == "aws:sourcearn" and not any(
                fnmatch.fnmatchcase(source_arn, v) or fnmatch.fnmatchcase(f"{source_arn}:*", v) for v in values
            ):
                return False
            if key.lower() == "aws:sourceaccount" and account not in values:
                return False
    return True


def service_may_invoke(function: Any, service: str, source_arn: str, account: str) -> bool:
    """Whether ``function``'s resource policy lets ``<service>.amazonaws.com`` invoke it for
    ``source_arn`` (a log group, a rule) of ``account``."""
    statements = getattr(getattr(function, "policy", None), "statements", None) or []
    return any(_allows(s, service, source_arn, account) for s in statements)
