"""AWS's documented policy evaluation logic, pinned as a table (sandbox/aws/iam/policy.py's evaluator alone).

Sources: IAM User Guide, "Policy evaluation logic" and "How AWS enforcement code logic evaluates
requests", "The difference between explicit and implicit denies", "IAM JSON policy elements:
NotAction / NotResource", "Condition operators" ("If the key ... is not present in the request
context, the values do not match and the condition is false ... StringNotLike or ArnNotLike ... the
condition is true"), "Conditions with multiple context keys or values" (values OR, negated NOR,
ForAllValues / ForAnyValue), and "Cross-account policy evaluation logic".
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.aws.iam.policy import Caller, Request, condition_holds, evaluate, principal_matches

FN = "arn:aws:lambda:us-east-1:111111111111:function:orders"
OTHER_FN = "arn:aws:lambda:us-east-1:111111111111:function:payments"
MANAGED = {"aws:ResourceTag/promoter:managed": ["true"]}


def allow(action: Any = "lambda:GetFunction", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "lambda:GetFunction", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(statements: list[dict[str, Any]], action: str, resource: str) -> str:
    policy = {"Version": "2012-10-17", "Statement": statements}
    return evaluate([("p", policy)], Request(action, resource)).effect


@pytest.mark.parametrize(
    ("rule", "statements", "action", "resource", "expected"),
    [
        ("default deny: no statement", [], "lambda:GetFunction", FN, "ImplicitDeny"),
        ("an allow for the action and resource", [allow()], "lambda:GetFunction", FN, "Allow"),
        ("explicit deny wins over an allow", [allow(), deny()], "lambda:GetFunction", FN, "Deny"),
        ("explicit deny wins, whatever the order", [deny(), allow()], "lambda:GetFunction", FN, "Deny"),
        ("another action is not allowed", [allow()], "lambda:UpdateAlias", FN, "ImplicitDeny"),
        ("action wildcard", [allow("lambda:Get*")], "lambda:GetAlias", FN, "Allow"),
        ("action names are case-insensitive", [allow("LAMBDA:getfunction")], "lambda:GetFunction", FN, "Allow"),
        ("? matches one character", [allow("lambda:GetAlia?")], "lambda:GetAlias", FN, "Allow"),
        ("a list of actions", [allow(["lambda:GetAlias", "lambda:GetFunction"])], "lambda:GetFunction", FN, "Allow"),
        (
            "NotAction allows every other action",
            [allow(None) | {"NotAction": "iam:*"}],
            "lambda:GetFunction",
            FN,
            "Allow",
        ),
        (
            "NotAction does not allow the named action",
            [allow(None) | {"NotAction": "lambda:*"}],
            "lambda:GetAlias",
            FN,
            "ImplicitDeny",
        ),
        ("resource must match", [allow(resource=OTHER_FN)], "lambda:GetFunction", FN, "ImplicitDeny"),
        (
            "resource wildcard spans colons",
            [allow(resource=FN.rsplit(":", 1)[0] + ":*")],
            "lambda:GetFunction",
            FN + ":live",
            "Allow",
        ),
        ("resource names are case-sensitive", [allow(resource=FN.upper())], "lambda:GetFunction", FN, "ImplicitDeny"),
        (
            "NotResource allows the others",
            [allow(resource=None) | {"NotResource": OTHER_FN}],
            "lambda:GetFunction",
            FN,
            "Allow",
        ),
        (
            "NotResource excludes its own",
            [allow(resource=None) | {"NotResource": FN}],
            "lambda:GetFunction",
            FN,
            "ImplicitDeny",
        ),
        (
            "a deny on another resource does not apply",
            [allow(), deny(resource=OTHER_FN)],
            "lambda:GetFunction",
            FN,
            "Allow",
        ),
        (
            "a deny with NotAction denies the rest",
            [allow(), deny(None) | {"NotAction": "lambda:GetAlias"}],
            "lambda:GetFunction",
            FN,
            "Deny",
        ),
    ],
)
def test_evaluation_logic(rule: str, statements: list, action: str, resource: str, expected: str) -> None:
    for statement in statements:
        for key in ("Action", "Resource"):
            if statement.get(key) is None:
                statement.pop(key, None)
    assert decide(statements, action, resource) == expected, rule


ABAC = {"StringEquals": {"aws:ResourceTag/promoter:managed": "true"}}


@pytest.mark.parametrize(
    ("rule", "condition", "context", "expected"),
    [
        ("StringEquals: the tag is there", ABAC, MANAGED, True),
        ("StringEquals: another value", ABAC, {"aws:ResourceTag/promoter:managed": ["false"]}, False),
        ("StringEquals: the key is absent, the condition is false", ABAC, {}, False),
        ("StringEquals is case-sensitive in values", ABAC, {"aws:ResourceTag/promoter:managed": ["TRUE"]}, False),
        ("condition keys are case-insensitive", ABAC, {"AWS:RESOURCETAG/PROMOTER:MANAGED": ["true"]}, True),
        ("StringEqualsIgnoreCase", {"StringEqualsIgnoreCase": {"k:x": "ABC"}}, {"k:x": ["abc"]}, True),
        ("several values are ORed", {"StringEquals": {"k:x": ["a", "b"]}}, {"k:x": ["b"]}, True),
        ("several keys are ANDed", {"StringEquals": {"k:x": "a", "k:y": "b"}}, {"k:x": ["a"], "k:y": ["c"]}, False),
        ("StringNotEquals: other value", {"StringNotEquals": {"k:x": "a"}}, {"k:x": ["b"]}, True),
        ("StringNotEquals: values are NORed", {"StringNotEquals": {"k:x": ["a", "b"]}}, {"k:x": ["b"]}, False),
        ("StringNotEquals: an absent key makes it true", {"StringNotEquals": {"k:x": "a"}}, {}, True),
        ("StringLike with *", {"StringLike": {"k:x": "lambda-promoter-*"}}, {"k:x": ["lambda-promoter-target"]}, True),
        ("StringLike with ?", {"StringLike": {"k:x": "v?"}}, {"k:x": ["v10"]}, False),
        ("StringNotLike", {"StringNotLike": {"k:x": "prod-*"}}, {"k:x": ["dev-1"]}, True),
        ("StringEqualsIfExists: absent key passes", {"StringEqualsIfExists": {"k:x": "a"}}, {}, True),
        ("StringEqualsIfExists: present key is checked", {"StringEqualsIfExists": {"k:x": "a"}}, {"k:x": ["b"]}, False),
        (
            "ArnLike: parts match one by one",
            {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/lambda-promoter-*"}},
            {"aws:PrincipalArn": ["arn:aws:iam::111111111111:role/lambda-promoter-Prepare"]},
            True,
        ),
        (
            "ArnLike: a * does not cross into another part",
            {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*"}},
            {"aws:PrincipalArn": ["arn:aws:iam::111111111111:role/x"]},
            False,
        ),
        (
            "ArnEquals",
            {"ArnEquals": {"aws:SourceArn": "arn:aws:events:us-east-1:1:rule/r"}},
            {"aws:SourceArn": ["arn:aws:events:us-east-1:1:rule/r"]},
            True,
        ),
        ("ArnNotLike: absent key is true", {"ArnNotLike": {"aws:SourceArn": "arn:*"}}, {}, True),
        ("Bool true", {"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": ["true"]}, True),
        (
            "Bool false against true",
            {"Bool": {"aws:SecureTransport": "false"}},
            {"aws:SecureTransport": ["true"]},
            False,
        ),
        ("Null true: the key is absent", {"Null": {"k:x": "true"}}, {}, True),
        ("Null false: the key is present", {"Null": {"k:x": "false"}}, {"k:x": ["a"]}, True),
        ("sts:ExternalId equals", {"StringEquals": {"sts:ExternalId": "s3cret"}}, {"sts:ExternalId": ["s3cret"]}, True),
        ("sts:ExternalId missing", {"StringEquals": {"sts:ExternalId": "s3cret"}}, {}, False),
        (
            "iam:PassedToService",
            {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            {"iam:PassedToService": ["scheduler.amazonaws.com"]},
            True,
        ),
        (
            "ForAnyValue: one match",
            {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}},
            {"aws:TagKeys": ["b", "a"]},
            True,
        ),
        (
            "ForAnyValue: empty set is false",
            {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}},
            {"aws:TagKeys": []},
            False,
        ),
        (
            "ForAllValues: all in the set",
            {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}},
            {"aws:TagKeys": ["a"]},
            True,
        ),
        (
            "ForAllValues: one outside",
            {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}},
            {"aws:TagKeys": ["a", "c"]},
            False,
        ),
        ("ForAllValues: absent key is true", {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {}, True),
        ("NumericLessThan", {"NumericLessThan": {"k:n": "10"}}, {"k:n": ["9"]}, True),
    ],
)
def test_condition_operators(rule: str, condition: dict, context: dict, expected: bool) -> None:
    assert _decide_with_list([allow(Condition=condition)], context) == ("Allow" if expected else "ImplicitDeny"), rule


def test_a_deny_whose_condition_does_not_hold_does_not_deny() -> None:
    """moto's evaluator turns such a Deny into a deny; AWS skips the statement."""
    statements = [allow(), deny(Condition={"StringEquals": {"aws:ResourceTag/frozen": "true"}})]
    assert _decide_with_list(statements, MANAGED) == "Allow"
    assert _decide_with_list(statements, {"aws:ResourceTag/frozen": ["true"]}) == "Deny"


def _decide_with_list(statements: list[dict[str, Any]], context: dict[str, list[str]]) -> str:
    return evaluate([("p", {"Statement": statements})], Request("lambda:GetFunction", FN, context)).effect


def test_the_deciding_statement_is_named() -> None:
    policy = {"Statement": [allow(Sid="ReadFunctions")]}
    decision = evaluate([("ManagedTargets", policy)], Request("lambda:GetFunction", FN))
    assert (decision.match.policy, decision.match.statement) == ("ManagedTargets", "ReadFunctions")


def test_an_unknown_operator_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="DateLessThan"):
        condition_holds("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z", {"aws:CurrentTime": ["x"]})


SESSION = Caller("role", "222222222222", "lambda-promoter-target", "promoter")
USER = Caller("user", "111111111111", "alice")


@pytest.mark.parametrize(
    ("principal", "caller", "expected"),
    [
        ("*", USER, True),
        ({"AWS": "*"}, USER, True),
        ({"AWS": "111111111111"}, USER, True),
        ({"AWS": "arn:aws:iam::111111111111:root"}, USER, True),
        ({"AWS": "arn:aws:iam::111111111111:user/alice"}, USER, True),
        ({"AWS": "arn:aws:iam::111111111111:user/bob"}, USER, False),
        ({"AWS": "arn:aws:iam::333333333333:root"}, USER, False),
        ({"AWS": "arn:aws:iam::222222222222:role/lambda-promoter-target"}, SESSION, True),
        ({"AWS": "arn:aws:sts::222222222222:assumed-role/lambda-promoter-target/promoter"}, SESSION, True),
        ({"Service": "lambda.amazonaws.com"}, USER, False),
        ({"Service": "lambda.amazonaws.com"}, Caller("service", "", service="lambda.amazonaws.com"), True),
    ],
)
def test_principal_in_a_resource_or_trust_policy(principal: Any, caller: Caller, expected: bool) -> None:
    assert principal_matches(principal, caller) is expected
