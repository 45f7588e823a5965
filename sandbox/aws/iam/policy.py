"""IAM, enforced: every request to the sandbox is authorised as AWS authorises it.

Why our own evaluator and not moto's: ``moto/iam/access_control.py`` (switched on by
``INITIAL_NO_AUTH_ACTION_COUNT``) passes the resource ``"*"`` for every service but SQS, IAM and
STS, understands no condition operator but the few its trust-policy helper knows, turns a
``Deny`` whose condition does not hold into a deny, ignores resource policies and does not know
Lambda sessions. The libraries on PyPI that evaluate policies offline (iam-ape, aws-why, ...)
are young, one-maintainer projects without the request side (which ARN a request touches).
What the sandbox needs is small and must be exact, so it is written here, pinned by a table
of AWS's documented rules (tests/sandbox/test_iam_evaluation.py).

AWS behaviour reproduced (IAM User Guide, "Policy evaluation logic",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):

- "By default, all requests are implicitly denied with the exception of the AWS account root
  user, which has full access." An explicit ``Deny`` in any applicable policy overrides any
  ``Allow``.
- Identity policies: a user's inline and attached policies and its groups'; a role session's
  role's inline and attached policies (SAM's policy templates become inline policies).
- Statements: ``Action``/``NotAction``, ``Resource``/``NotResource`` with ``*`` and ``?``, and
  ``Condition`` with the operators of "IAM JSON policy elements: Condition operators"
  (String*, Arn*, Bool, Null, Numeric*, ``...IfExists``, ``ForAnyValue:``/``ForAllValues:``):
  "If the key that you specify in a policy condition is not present in the request context, the
  values do not match and the condition is false. If the policy condition requires that the key
  is not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the
  condition is true."
- Within one account an allow in the identity policy or in the resource policy suffices; across
  accounts both are needed ("Cross-account policy evaluation logic"). Resource policies used
  here: an event bus's policy (PutEvents) and a role's trust policy (AssumeRole, which is
  always checked, ``sts:ExternalId`` included).

Who calls (``principal_of``): the keys of an IAM user act as that user, the keys of an
``sts:AssumeRole`` session as that role's session, the keys a Lambda function gets from the
sandbox (``function_credentials``) as its execution role, a state machine's tasks
(``task_keys``) as its role, and any other keys (``testing``) as the account's root, so casual use
keeps working. What the sandbox delivers itself as a service would with a role (Scheduler's
targets) is checked against that role's policies (``service_may``).

Known differences from AWS (README): signatures are not verified; no SCPs, permission boundaries
or session policies; S3 is not checked.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from sandbox.patching import original_classmethod, replace_classmethod

ENFORCE_ENV = "SANDBOX_IAM"  # "off" switches enforcement off (the default is on)
ADMINISTRATOR_ROLE = "sandbox-administrator"  # an account's stand-in administrator (AccountSession)
PARTITION = "aws"

# ======================================================================================
# The policy language (pure functions over JSON documents)
# ======================================================================================


@dataclass(frozen=True)
class Request:
    """What one call asks: the IAM action, one resource ARN, and the request context keys."""

    action: str
    resource: str
    context: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    """The statement that decided (policy name, Sid or index)."""

    policy: str
    statement: str


@dataclass(frozen=True)
class Decision:
    effect: str  # "Allow", "Deny" (explicit) or "ImplicitDeny"
    match: Match | None = None
    allows: tuple[Match, ...] = ()  # every statement that allowed (the permission matrix)

    @property
    def allowed(self) -> bool:
        return self.effect == "Allow"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=4096)  # every request matches the same few policies' patterns
def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's ``*`` (any run, colons included) and ``?`` (one character)."""
    return _wildcard_regex(pattern, ignore_case).fullmatch(value) is not None


def action_matches(patterns: Any, action: str) -> bool:
    """Action names are case-insensitive ("IAM JSON policy elements: Action")."""
    return any(_wildcard(p, action, ignore_case=True) for p in _as_list(patterns))


def resource_matches(patterns: Any, resource: str) -> bool:
    return any(p == "*" or _wildcard(p, resource) for p in _as_list(patterns))


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike: each of the six colon-separated parts matches on its own."""
    p_parts, v_parts = pattern.split(":", 5), value.split(":", 5)
    if len(p_parts) != 6 or len(v_parts) != 6:
        return False
    return all(_wildcard(p, v) for p, v in zip(p_parts, v_parts, strict=True))


def _numeric(op: str, actual: str, expected: str) -> bool:
    try:
        a, e = float(actual), float(expected)
    except ValueError:
        return False
    return {
        "Equals": a == e,
        "LessThan": a < e,
        "LessThanEquals": a <= e,
        "GreaterThan": a > e,
        "GreaterThanEquals": a >= e,
    }[op]


def _value_matches(base: str, actual: str, expected: str) -> bool:
    """One context value against one policy value, for a positive operator."""
    if base == "StringEquals":
        return actual == expected
    if base == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if base == "StringLike":
        return _wildcard(expected, actual)
    if base == "ArnEquals" or base == "ArnLike":
        return _arn_like(expected, actual)
    if base == "Bool":
        return actual.lower() == str(expected).lower()
    if base.startswith("Numeric"):
        return _numeric(base[len("Numeric") :], actual, expected)
    raise ValueError(f"condition operator {base} is not supported by the sandbox")


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
}


def _context_values(context: dict[str, list[str]], key: str) -> list[str] | None:
    """Condition keys are case-insensitive; values are not."""
    for name, values in context.items():
        if name.lower() == key.lower():
            return [str(v) for v in values]
    return None


def condition_holds(operator: str, key: str, expected: Any, context: dict[str, list[str]]) -> bool:
    """One operator, one key, its policy values: AND over keys is the caller's job."""
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    base = op.removesuffix("IfExists")
    expected_values = [str(v) for v in _as_list(expected)]
    actual = _context_values(context, key)
    if base == "Null":
        absent = actual is None or actual == []
        return all((v.lower() == "true") == absent for v in expected_values)
    if actual is None:  # absent: false, except IfExists, negated operators and ForAllValues
        return if_exists or base in _NEGATED or qualifier == "ForAllValues"
    negated = base in _NEGATED
    positive = _NEGATED.get(base, base)

    def one(value: str) -> bool:
        hit = any(_value_matches(positive, value, e) for e in expected_values)
        return not hit if negated else hit  # negated: NOR over the policy values

    if qualifier == "ForAllValues":
        return all(one(v) for v in actual)
    return any(one(v) for v in actual)  # ForAnyValue, or a single-valued key


def conditions_hold(conditions: dict[str, dict[str, Any]] | None, context: dict[str, list[str]]) -> bool:
    return all(
        condition_holds(operator, key, expected, context)
        for operator, keys in (conditions or {}).items()
        for key, expected in keys.items()
    )


def principal_matches(principal: Any, caller: Caller | None) -> bool:
    """A resource or trust policy's ``Principal``: ``*``, AWS ARNs or account ids, services."""
    if principal is None:
        return True  # identity policies name no principal
    if caller is None:
        return False
    if principal == "*":
        return True
    for kind, values in principal.items():
        for value in _as_list(values):
            if kind == "AWS" and (value == "*" or caller.is_named_by(str(value))):
                return True
            if kind == "Service" and caller.service == value:
                return True
    return False


def statement_applies(statement: dict[str, Any], request: Request, caller: Caller | None = None) -> bool:
    if "NotAction" in statement:
        if action_matches(statement["NotAction"], request.action):
            return False
    elif not action_matches(statement.get("Action"), request.action):
        return False
    if "NotResource" in statement:
        if resource_matches(statement["NotResource"], request.resource):
            return False
    elif "Resource" in statement and not resource_matches(statement["Resource"], request.resource):
        return False
    if "Principal" in statement and not principal_matches(statement["Principal"], caller):
        return False
    if "NotPrincipal" in statement and principal_matches(statement["NotPrincipal"], caller):
        return False
    return conditions_hold(statement.get("Condition"), request.context)


def evaluate(policies: list[tuple[str, dict[str, Any]]], request: Request, caller: Caller | None = None) -> Decision:
    """AWS's order: any applicable Deny decides; else any applicable Allow; else implicit deny."""
    allows: list[Match] = []
    for name, document in policies:
        for index, statement in enumerate(_as_list(document.get("Statement"))):
            if not statement_applies(statement, request, caller):
                continue
            match = Match(name, str(statement.get("Sid") or index))
            if statement.get("Effect") == "Deny":
                return Decision("Deny", match)
            allows.append(match)
    return Decision("Allow", allows[0], tuple(allows)) if allows else Decision("ImplicitDeny")


# ======================================================================================
# Who is calling
# ======================================================================================


@dataclass(frozen=True)
class Caller:
    """A principal: ``root`` of an account, an IAM ``user``, a ``role`` session, or a service."""

    kind: str
    account: str
    name: str = ""  # user or role name
    session: str = ""
    service: str = ""

    @property
    def arn(self) -> str:
        if self.kind == "user":
            return f"arn:{PARTITION}:iam::{self.account}:user/{self.name}"
        if self.kind == "role":
            return f"arn:{PARTITION}:sts::{self.account}:assumed-role/{self.name}/{self.session}"
        return f"arn:{PARTITION}:iam::{self.account}:root"

    @property
    def principal_arn(self) -> str:
        """``aws:PrincipalArn``: for a role session, the role's ARN."""
        if self.kind == "role":
            return f"arn:{PARTITION}:iam::{self.account}:role/{self.name}"
        return self.arn

    def is_named_by(self, value: str) -> bool:
        """An ``AWS`` principal value names this caller: its account (id or root ARN), its own
        ARN, or (for a session) its role's ARN."""
        if value in (self.account, f"arn:{PARTITION}:iam::{self.account}:root"):
            return True
        return value in (self.arn, self.principal_arn)

    def names_exactly(self, principal: Any) -> bool:
        """The policy names this user or role itself (not only its account)."""
        if not isinstance(principal, dict):
            return False
        return any(v in (self.arn, self.principal_arn) for v in _as_list(principal.get("AWS")))


def _iam_backend(account: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account][PARTITION]


def caller_for_key(access_key: str, default_account: str) -> Caller:
    """The principal whose keys signed the request (sandbox/aws/iam/identity.py); unknown keys are the
    root of the account the request is for."""
    from .identity import principal_for_access_key

    principal = principal_for_access_key(access_key)
    if principal.kind == "user":
        return Caller("user", principal.account_id, principal.arn.rsplit("/", 1)[-1])
    if principal.kind == "assumed-role" and principal.role_arn:
        role_account = principal.role_arn.split(":")[4]
        role_name = principal.role_arn.rsplit("/", 1)[-1]
        if role_name == ADMINISTRATOR_ROLE:
            return Caller("root", role_account)
        return Caller("role", role_account, role_name, principal.session_name or "session")
    return Caller("root", default_account)


_FUNCTION_KEYS: dict[str, str] = {}  # access key -> function name, for keys handed to functions
_ROLE_SESSIONS: dict[tuple[str, str], dict[str, str]] = {}  # (role, session name) -> its keys
TASK_SESSION = "StepFunctions"  # the session name of a state machine's tasks


def role_session(role: str, session_name: str, region: str) -> dict[str, str]:
    """The keys of a session of ``role`` that a service holds for what it runs as that role (one
    session per role and name, kept while the sandbox lives). The role's trust policy for the
    service is not re-checked here."""
    key = (role, session_name)
    cached = _ROLE_SESSIONS.get(key)
    if cached and cached["AWS_ACCESS_KEY_ID"] in _iam_backend(role.split(":")[4]).access_keys:
        return cached
    from moto.sts.models import sts_backends

    session = sts_backends[role.split(":")[4]][PARTITION].assume_role(
        region_name=region,
        role_session_name=session_name,
        role_arn=role,
        policy=None,  # type: ignore[arg-type]  # moto takes None for "no session policy"
        duration=3600,
        external_id=None,  # type: ignore[arg-type]  # and for "no external id"
    )
    _ROLE_SESSIONS[key] = {
        "AWS_ACCESS_KEY_ID": session.access_key_id,
        "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
        "AWS_SESSION_TOKEN": session.session_token,
    }
    return _ROLE_SESSIONS[key]


def function_credentials(fn: Any) -> dict[str, str]:
    """What Lambda puts in a function's environment: a session of its execution role.

    "Lambda ... obtains temporary security credentials for the function's execution role" and
    sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (Lambda Developer Guide,
    "Defining Lambda function permissions with an execution role"; "Defined runtime environment
    variables"). One session per function and role, as an execution environment keeps its
    credentials.
    """
    role = getattr(fn, "role", None)
    if not enforcing() or not role or role.count(":") < 5:
        return {}
    keys = role_session(role, fn.function_name[:64], fn.region)
    _FUNCTION_KEYS[keys["AWS_ACCESS_KEY_ID"]] = fn.function_name[:64]
    return keys


def task_keys(state_credentials: Any, region: str) -> tuple[str, str, str] | None:
    """The keys a state machine's task calls AWS with: a session of the state machine's role.
    "Step Functions ... assumes the IAM role" given to the state machine to call other services,
    and a call the role's policies do not allow is refused (Step Functions Developer Guide, "How
    Step Functions works with IAM"; "Creating an IAM role for your state machine":
    https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html). None
    with enforcement off (moto's own keys, the account's root)."""
    role = getattr(state_credentials, "role_arn", None)
    if not enforcing() or not role or role.count(":") < 5:
        return None
    keys = role_session(role, TASK_SESSION, region)
    return keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"], keys["AWS_SESSION_TOKEN"]


def principal_of(access_key: str, default_account: str) -> Caller:
    """The caller of a request signed with ``access_key``.

    The sandbox runs every function in one process: a client that one function cached in a layer
    module can be reused by another, and ``boto3.client()`` uses boto3's default session, whose
    credentials were resolved once for the whole process. On AWS each function has its own
    process and its own environment. So a request made on the thread of a running function (whose
    environment is its own) with another function's keys, or with keys the sandbox does not know,
    is attributed to the function running there, as it would be on AWS.
    """
    caller = caller_for_key(access_key, default_account)
    running = os.environ.get("AWS_ACCESS_KEY_ID", "")
    if running in _FUNCTION_KEYS and running != access_key and (access_key in _FUNCTION_KEYS or caller.kind == "root"):
        return caller_for_key(running, default_account)
    return caller


# ======================================================================================
# Whose policies
# ======================================================================================


def _documents(policy: Any) -> dict[str, Any]:
    text = policy if isinstance(policy, str) else policy
    document = json.loads(unquote(text)) if isinstance(text, str) else text
    return document


def _managed_document(policy: Any) -> dict[str, Any]:
    version = next((v for v in policy.versions if v.is_default), None)
    return _documents(version.document if version else policy.document)


def identity_policies(caller: Caller) -> list[tuple[str, dict[str, Any]]]:
    """Inline and attached policies of the user (and its groups) or of the session's role."""
    backend = _iam_backend(caller.account)
    found: list[tuple[str, dict[str, Any]]] = []
    if caller.kind == "role":
        role = backend.get_role(caller.name)
        found += [(name, _documents(doc)) for name, doc in role.policies.items()]
        found += [(p.name, _managed_document(p)) for p in role.managed_policies.values()]
    elif caller.kind == "user":
        user = backend.get_user(caller.name)
        found += [(name, _documents(doc)) for name, doc in user.policies.items()]
        found += [(p.name, _managed_document(p)) for p in user.managed_policies.values()]
        for group in backend.get_groups_for_user(caller.name):
            found += [(name, _documents(doc)) for name, doc in group.policies.items()]
            found += [(p.name, _managed_document(p)) for p in group.managed_policies.values()]
    return found


# ======================================================================================
# What a request asks (action, resources, context) for the services the product uses
# ======================================================================================

_LAMBDA_ACTIONS = {"Invoke": "InvokeFunction", "InvokeAsync": "InvokeAsync"}
_LAMBDA_PATH = re.compile(r"^/[0-9-]+/functions/(?P<name>[^/]+)(?P<rest>/.*)?$")
_LAYER_PATH = re.compile(r"^/[0-9-]+/layers/(?P<name>[^/]+)(/versions/(?P<version>\d+))?")
_TAGS_PATH = re.compile(r"^/[0-9-]+/tags/(?P<arn>.+)$")


@dataclass
class Call:
    """One incoming call, as the evaluator sees it."""

    service: str
    operation: str
    account: str
    region: str
    path: str
    params: dict[str, Any]

    @property
    def action(self) -> str:
        prefix = {"awslambda": "lambda", "stepfunctions": "states", "dynamodb": "dynamodb"}.get(
            self.service, self.service
        )
        name = _LAMBDA_ACTIONS.get(self.operation, self.operation) if prefix == "lambda" else self.operation
        return f"{prefix}:{name}"

    def arn(self, service: str, resource: str, account: str | None = None) -> str:
        return f"arn:{PARTITION}:{service}:{self.region}:{account or self.account}:{resource}"


def _function_arn(call: Call, name: str, qualifier: str | None) -> str:
    """A function name, partial ARN or ARN (with or without qualifier) as a full ARN."""
    name = unquote(name)
    if name.startswith("arn:"):
        return f"{name}:{qualifier}" if qualifier and name.count(":") == 6 else name
    if ":function:" in name:  # 123456789012:function:name[:qualifier]
        account, _, rest = name.partition(":function:")
        arn = call.arn("lambda", f"function:{rest}", account)
    else:
        arn = call.arn("lambda", f"function:{name}")
    return f"{arn}:{qualifier}" if qualifier and arn.count(":") == 6 else arn


def lambda_resources(call: Call) -> list[str]:
    """Lambda's resource per action ("Lambda resources and conditions" in the Lambda guide):
    the function ARN, qualified by the version or alias the request names; layers by version."""
    path = unquote(call.path)
    if tags := _TAGS_PATH.match(path):
        return [tags.group("arn")]
    if layer := _LAYER_PATH.match(path):
        version = layer.group("version")
        return [call.arn("lambda", f"layer:{layer.group('name')}" + (f":{version}" if version else ""))]
    match = _LAMBDA_PATH.match(call.path)
    if not match:
        return ["*"]
    qualifier = call.params.get("Qualifier")
    return [_function_arn(call, match.group("name"), qualifier)]


def _lambda_tags(arn: str) -> dict[str, str]:
    from moto.awslambda.models import lambda_backends

    parts = arn.split(":")
    if len(parts) < 7 or parts[5] != "function":
        return {}
    try:
        fn = lambda_backends[parts[4]][parts[3]].get_function(parts[6])
    except Exception:  # noqa: BLE001 - no such function: no tags (the call itself will say 404)
        return {}
    return dict(getattr(fn, "tags", None) or {})


def _table_arns(call: Call) -> list[str]:
    names = []
    if "TableName" in call.params:
        names.append(call.params["TableName"])
    for items in ("RequestItems",):
        names += list((call.params.get(items) or {}).keys())
    for item in call.params.get("TransactItems") or []:
        for part in item.values():
            if isinstance(part, dict) and "TableName" in part:
                names.append(part["TableName"])
    arns = []
    for name in dict.fromkeys(names):
        table = name if str(name).startswith("arn:") else call.arn("dynamodb", f"table/{name}")
        index = call.params.get("IndexName")
        arns.append(f"{table}/index/{index}" if index else table)
    return arns or ["*"]


def _leading_keys(call: Call) -> list[str]:
    """``dynamodb:LeadingKeys``: the partition key value of the item a single-item call names.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html"""
    key = call.params.get("Key") or call.params.get("Item")
    name = call.params.get("TableName")
    if not isinstance(key, dict) or not name:
        return []
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[call.account][call.region].tables.get(str(name).split("/")[-1])
    value = key.get(table.hash_key_attr) if table is not None else None
    return [str(next(iter(value.values())))] if isinstance(value, dict) and value else []


def _states_resources(call: Call) -> list[str]:
    for key in ("executionArn", "stateMachineArn", "resourceArn"):
        if call.params.get(key):
            return [call.params[key]]
    return ["*"]  # SendTaskSuccess/Failure/Heartbeat, ListStateMachines: no resource


def _alarm_arns(call: Call) -> list[str]:
    names = _as_list(call.params.get("AlarmNames")) or _as_list(call.params.get("AlarmName"))
    return [call.arn("cloudwatch", f"alarm:{name}") for name in names] or ["*"]


def _bus_arn(call: Call, name: str | None) -> str:
    name = name or "default"
    return name if name.startswith("arn:") else call.arn("events", f"event-bus/{name}")


def _events_resources(call: Call) -> list[str]:
    if call.operation == "PutEvents":
        return list(dict.fromkeys(_bus_arn(call, e.get("EventBusName")) for e in call.params.get("Entries") or []))
    if "Rule" in call.operation or call.operation in ("PutTargets", "RemoveTargets", "ListTargetsByRule"):
        rule = call.params.get("Name") or call.params.get("Rule")
        bus = call.params.get("EventBusName")
        if rule:
            return [call.arn("events", f"rule/{bus + '/' if bus and bus != 'default' else ''}{rule}")]
    if call.params.get("Name") and "EventBus" in call.operation:
        return [_bus_arn(call, call.params["Name"])]
    return ["*"]


def _scheduler_resources(call: Call) -> list[str]:
    name = call.path.rstrip("/").rsplit("/", 1)[-1] if call.path.startswith("/schedules/") else None
    if name:
        group = call.params.get("GroupName") or call.params.get("groupName") or "default"
        return [call.arn("scheduler", f"schedule/{group}/{unquote(name)}")]
    if call.path.startswith("/schedule-groups/"):
        return [call.arn("scheduler", f"schedule-group/{unquote(call.path.rsplit('/', 1)[-1])}")]
    return ["*"]


def resources_of(call: Call, determined: str) -> list[str]:
    if call.service == "awslambda":
        return lambda_resources(call)
    if call.service == "dynamodb":
        return _table_arns(call)
    if call.service == "stepfunctions":
        return _states_resources(call)
    if call.service == "cloudwatch" and "Alarm" in call.operation:
        return _alarm_arns(call)
    if call.service == "events":
        return _events_resources(call)
    if call.service == "scheduler":
        return _scheduler_resources(call)
    if call.service == "sts" and call.operation == "AssumeRole":
        return [call.params.get("RoleArn", "*")]
    if call.service == "logs" and call.params.get("logGroupName"):
        # the log-group resource type: arn:...:log-group:<name>
        # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html)
        return [call.arn("logs", f"log-group:{call.params['logGroupName']}")]
    return [determined or "*"]


def context_of(call: Call, caller: Caller, resource: str) -> dict[str, list[str]]:
    """The request context: principal keys, resource tags, and the keys of the action itself."""
    context: dict[str, list[str]] = {
        "aws:PrincipalArn": [caller.principal_arn],
        "aws:PrincipalAccount": [caller.account],
        "aws:SecureTransport": ["false"],  # the sandbox speaks plain HTTP
    }
    parts = resource.split(":")
    if len(parts) >= 6 and parts[4]:
        context["aws:ResourceAccount"] = [parts[4]]  # the account that owns the resource
    if caller.kind == "user":
        context["aws:username"] = [caller.name]
    if call.service == "awslambda":
        for key, value in _lambda_tags(resource).items():
            context[f"aws:ResourceTag/{key}"] = [value]
    if call.service == "dynamodb" and (leading := _leading_keys(call)):
        context["dynamodb:LeadingKeys"] = leading
    if call.service == "sts" and call.params.get("ExternalId"):
        context["sts:ExternalId"] = [call.params["ExternalId"]]
    return context


# ======================================================================================
# The checks
# ======================================================================================


class Denied(Exception):
    def __init__(self, caller: Caller, action: str, resource: str, why: str) -> None:
        self.caller, self.action, self.resource = caller, action, resource
        on = f" on resource: {resource}" if resource != "*" else ""
        super().__init__(f"User: {caller.arn} is not authorized to perform: {action}{on} because {why}")


RECORD: list[tuple[str, str, str, tuple[Match, ...]]] = []  # (principal, action, resource, allowing statements)
_RECORDING = threading.Event()


def recording(on: bool = True) -> None:
    """Keep, for the permission matrix, which statement allowed each call (bench/)."""
    RECORD.clear()
    (_RECORDING.set if on else _RECORDING.clear)()


def check(caller: Caller, request: Request, resource_policy: dict[str, Any] | None = None) -> Decision:
    """Identity policies plus, when given, the resource's policy, as AWS combines them."""
    if caller.kind == "root" and resource_policy is None:
        return Decision("Allow")
    resource_account = request.resource.split(":")[4] if request.resource.count(":") >= 5 else caller.account
    cross_account = bool(resource_account) and resource_account != caller.account
    identity = Decision("Allow") if caller.kind == "root" else evaluate(identity_policies(caller), request, caller)
    resource = evaluate([("resource policy", resource_policy)], request, caller) if resource_policy else None
    decision = _combine(identity, resource, cross_account)
    _record(caller, request, identity)
    if not decision.allowed:
        raise Denied(
            caller, request.action, request.resource, _why(decision, identity, resource, cross_account, request.action)
        )
    return decision


def _record(caller: Caller, request: Request, identity: Decision) -> None:
    if _RECORDING.is_set() and caller.kind != "root":
        RECORD.append((caller.principal_arn, request.action, request.resource, identity.allows))


def service_may(role_arn: str, action: str, resource: str) -> bool:
    """Would the policies of ``role_arn`` let an AWS service that runs as that role make this call?
    Recorded for the permission matrix while recording is on; with enforcement off, always. For the
    calls the sandbox makes itself, as the service would with the role: EventBridge Scheduler
    invoking a schedule's target ("EventBridge Scheduler assumes the role ... to invoke the target":
    https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role),
    EventBridge putting on another account's bus (recorded only: bench/iam_matrix.py)."""
    if role_arn.count(":") < 5 or "/" not in role_arn:
        return not enforcing()
    caller = Caller("role", role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1], "service")
    try:
        policies = identity_policies(caller)
    except Exception:  # noqa: BLE001 - moto's NoSuchEntity: a role that is gone allows nothing
        policies = []
    request = Request(action, resource, {"aws:PrincipalArn": [caller.principal_arn]})
    decision = evaluate(policies, request, caller)
    if _RECORDING.is_set():
        _record(caller, request, decision)
    return decision.allowed or not enforcing()


def _combine(identity: Decision, resource: Decision | None, cross_account: bool) -> Decision:
    if identity.effect == "Deny" or (resource and resource.effect == "Deny"):
        return identity if identity.effect == "Deny" else resource  # type: ignore[return-value]
    if resource is None:
        return identity if not cross_account or identity.allowed else identity
    if cross_account:
        return identity if identity.allowed and resource.allowed else Decision("ImplicitDeny")
    return identity if identity.allowed else resource


def _why(decision: Decision, identity: Decision, resource: Decision | None, cross_account: bool, action: str) -> str:
    if decision.effect == "Deny":
        kind = "identity-based" if identity.effect == "Deny" else "resource-based"
        return (
            f"of an explicit deny in an {kind} policy"
            if kind == "identity-based"
            else f"of an explicit deny in a {kind} policy"
        )
    if cross_account and identity.allowed:
        return f"no resource-based policy allows the {action} action"
    return f"no identity-based policy allows the {action} action"


def check_assume_role(caller: Caller, call: Call) -> None:
    """AssumeRole: the role must exist and its trust policy must allow the caller (principal,
    ``sts:ExternalId``); the caller's own policy must allow ``sts:AssumeRole`` too, unless the
    trust policy names the caller itself in the same account (IAM User Guide, "Cross-account
    policy evaluation logic"; "How to use an external ID")."""
    role_arn = call.params.get("RoleArn", "")
    request = Request("sts:AssumeRole", role_arn, context_of(call, caller, role_arn))
    role = _role(role_arn, creating_administrator=caller.kind == "root")
    if role is None:
        raise Denied(caller, request.action, role_arn, "the role does not exist")
    trust = _documents(role.assume_role_policy_document)
    same_account = role_arn.split(":")[4] == caller.account
    if same_account and any(
        s.get("Effect") == "Allow"
        and caller.names_exactly(s.get("Principal"))
        and statement_applies(s, request, caller)
        for s in _as_list(trust.get("Statement"))
    ):
        if evaluate(identity_policies(caller), request, caller).effect == "Deny":
            raise Denied(caller, request.action, role_arn, "of an explicit deny in an identity-based policy")
        return
    trusted = evaluate([("trust policy", trust)], request, caller)
    if not trusted.allowed:
        raise Denied(caller, request.action, role_arn, "the role's trust policy does not allow it")
    if caller.kind != "root":
        identity = evaluate(identity_policies(caller), request, caller)
        _record(caller, request, identity)
        if not identity.allowed:
            raise Denied(caller, request.action, role_arn, _why(identity, identity, None, False, request.action))


def _role(role_arn: str, *, creating_administrator: bool) -> Any:
    parts = role_arn.split(":")
    if len(parts) != 6 or "/" not in parts[5]:
        return None
    backend = _iam_backend(parts[4])
    name = parts[5].rsplit("/", 1)[-1]
    try:
        return backend.get_role(name)
    except Exception:  # noqa: BLE001 - moto's NoSuchEntity
        if creating_administrator and name == ADMINISTRATOR_ROLE:
            return _administrator_role(backend, parts[4])
        return None


def _administrator_role(backend: Any, account: str) -> Any:
    """Every sandbox account has ``sandbox-administrator``, trusted by every account's root (the
    sandbox's OrganizationAccountAccessRole): its sessions act as that account's root."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    return backend.create_role(
        role_name=ADMINISTRATOR_ROLE,
        assume_role_policy_document=json.dumps(trust),
        path="/",
        permissions_boundary=None,
        description="sandbox: the account's administrator",
        tags=[],
        max_session_duration=None,
        linked_service=None,
    )


def bus_policy(resource: str) -> dict[str, Any] | None:
    from moto.events.models import events_backends

    parts = resource.split(":")
    if len(parts) != 6 or not parts[5].startswith("event-bus/"):
        return None
    bus = events_backends[parts[4]][parts[3]].event_buses.get(parts[5].split("/", 1)[1])
    policy = getattr(bus, "policy", None) if bus else None
    return json.loads(policy) if policy else {"Statement": []}


def _pass_role_requests(call: Call, caller: Caller) -> list[Request]:
    """CreateSchedule/UpdateSchedule pass ``Target.RoleArn`` to scheduler.amazonaws.com: the
    caller needs ``iam:PassRole`` with ``iam:PassedToService`` ("Granting a user permissions to
    pass a role to an AWS service")."""
    if call.service != "scheduler" or call.operation not in ("CreateSchedule", "UpdateSchedule"):
        return []
    role = (call.params.get("Target") or {}).get("RoleArn")
    if not role:
        return []
    context = context_of(call, caller, role) | {"iam:PassedToService": ["scheduler.amazonaws.com"]}
    return [Request("iam:PassRole", role, context)]


ALWAYS_ALLOWED = {"sts:GetCallerIdentity"}  # "No permissions are required to perform this operation"


# DynamoDB transactions are authorised per item, by the item's own action: "Permissions for Put,
# Update, Delete, and Get actions are governed by the permissions used for the underlying PutItem,
# UpdateItem, DeleteItem, and GetItem operations. For the ConditionCheck action, you can use the
# dynamodb:ConditionCheckItem permission" (DynamoDB developer guide, "Using IAM with DynamoDB
# transactions"). There is no dynamodb:TransactWriteItems permission to grant.
_TRANSACTION_ITEM_ACTIONS = {"dynamodb:TransactWriteItems", "dynamodb:TransactGetItems"}
_TRANSACTION_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _transaction_requests(call: Call, caller: Caller) -> list[Request]:
    requests = []
    for item in call.params.get("TransactItems") or []:
        for kind, body in item.items():
            name = str((body or {}).get("TableName", ""))
            table = name if name.startswith("arn:") else call.arn("dynamodb", f"table/{name}")
            action = f"dynamodb:{_TRANSACTION_ITEMS.get(kind, kind)}"
            requests.append(Request(action, table, context_of(call, caller, table)))
    return requests


def authorize(call: Call, caller: Caller, determined_resource: str = "*") -> None:
    """Raise ``Denied`` unless AWS would let ``caller`` make ``call``."""
    action = call.action
    if action in ALWAYS_ALLOWED:
        return
    if action == "sts:AssumeRole":
        check_assume_role(caller, call)
        return
    if action in _TRANSACTION_ITEM_ACTIONS:
        for request in _transaction_requests(call, caller):
            check(caller, request)
        return
    for resource in resources_of(call, determined_resource):
        request = Request(action, resource, context_of(call, caller, resource))
        policy = bus_policy(resource) if action == "events:PutEvents" else None
        cross = policy is not None and resource.split(":")[4] != caller.account
        check(caller, request, policy if cross else None)
    for request in _pass_role_requests(call, caller):
        check(caller, request)


def may(caller: Caller, action: str, resource: str, call: Call) -> bool:
    """Would ``caller`` be allowed ``action`` on ``resource``? (for answers that depend on it)"""
    if caller.kind == "root":
        return True
    request = Request(action, resource, context_of(call, caller, resource))
    decision = evaluate(identity_policies(caller), request, caller)
    _record(caller, request, decision)  # lambda:ListTags is used through GetFunction's Tags
    return decision.allowed


def enforcing() -> bool:
    return os.environ.get(ENFORCE_ENV, "on").lower() not in ("off", "0", "false", "no")


# ======================================================================================
# Into moto (installed by sandbox/install.py)
# ======================================================================================

_QUERY_PROTOCOLS = {"query", "ec2", "rest-xml"}


def _params_of(response: Any) -> dict[str, Any]:
    """The request's parameters, whatever the protocol: JSON body, query string, URL parts."""
    params: dict[str, Any] = {}
    body = getattr(response, "body", None)
    if body:
        with contextlib.suppress(ValueError, TypeError):
            loaded = json.loads(body)
            if isinstance(loaded, dict):
                params.update(loaded)
    for key, values in (getattr(response, "querystring", None) or {}).items():
        if not str(key).startswith("{") and values:
            params.setdefault(key, values[0] if len(values) == 1 else values)
    parsed = getattr(response, "params", None)
    if isinstance(parsed, dict):
        params.update(parsed)
    params.update(getattr(response, "uri_match", None) or {})
    return params


def call_of(response: Any) -> Call:
    return Call(
        service=getattr(response, "service_name", "") or "",
        operation=response._get_action(),
        account=response.current_account,
        region=response.region,
        path=response.path or "/",
        params=_params_of(response),
    )


def caller_of(response: Any) -> Caller:
    return principal_of(response.get_access_key(), response.current_account)


def _service_error(code: str, message: str) -> Exception:
    """A moto ServiceException defined outside moto, so moto serialises it with the service's model."""
    from moto.core.exceptions import ServiceException

    class AccessDeniedError(ServiceException):
        pass

    return AccessDeniedError(code, message)


def _denied_response(response: Any, denied: Denied) -> tuple[int, dict[str, str], Any]:
    """AccessDenied in the service's own error format, HTTP 403."""
    from moto.core.responses import ActionResult
    from moto.core.utils import get_service_model
    from moto.moto_api._internal import mock_random

    service = {"awslambda": "lambda"}.get(response.service_name, response.service_name)
    metadata = get_service_model(service).metadata
    query = metadata.get("protocol") in _QUERY_PROTOCOLS or "awsQueryCompatible" in metadata
    code = "AccessDenied" if query else "AccessDeniedException"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no service model lists AccessDenied: moto warns, AWS sends it
        status, headers, body = response.serialized(ActionResult(_service_error(code, str(denied))))
    headers["status"] = 403
    headers.setdefault("x-amzn-RequestId", str(mock_random.uuid4()))  # as on every answer of AWS's
    return 403, headers, body


def enforce_on_every_call() -> None:
    """Every request to moto is authorised as AWS authorises it (the module's docstring), and a
    denied one is AccessDenied in the service's own error format, HTTP 403.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"""
    from moto.core.responses import BaseResponse

    original = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        if enforcing() and getattr(self, "service_name", None):
            try:
                authorize(
                    call_of(self),
                    caller_of(self),
                    self._determine_resource() if hasattr(self, "_determine_resource") else "*",
                )
            except Denied as denied:
                return _denied_response(self, denied)
        return original(self)

    BaseResponse.call_action = call_action


def tags_only_with_list_tags() -> None:
    """GetFunction answers ``Tags`` only to a caller allowed ``lambda:ListTags`` on the function:
    "The function's tags. Lambda returns tag data only if you have explicit allow permissions for
    lambda:ListTags." (Lambda API reference, GetFunction, response element Tags).
    https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html#API_GetFunction_ResponseSyntax"""
    from moto.awslambda import responses as lambda_responses

    original = lambda_responses.LambdaResponse.get_function

    def get_function(self: Any) -> Any:
        answer = original(self)
        if not enforcing() or not isinstance(answer, str):
            return answer
        body = json.loads(answer)
        arn = body.get("Configuration", {}).get("FunctionArn", "")
        unqualified = ":".join(arn.split(":")[:7])
        if "Tags" in body and not may(caller_of(self), "lambda:ListTags", unqualified, call_of(self)):
            body.pop("Tags")
            return json.dumps(body)
        return answer

    lambda_responses.LambdaResponse.get_function = get_function


def attach_managed_policy_arns() -> None:
    """moto's CloudFormation ignores a role's ``ManagedPolicyArns`` (SAM puts every ``!Ref`` policy
    of a function's ``Policies`` there): attach them, as AWS does ("AWS::IAM::Role",
    ManagedPolicyArns: "A list of Amazon Resource Names (ARNs) of the IAM managed policies that you
    want to attach to the role"). AWS managed policies that moto did not load are skipped.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-iam-role.html#cfn-iam-role-managedpolicyarns"""
    from moto.iam import models as iam_models

    original = original_classmethod(iam_models.Role, "create_from_cloudformation_json")

    def create(cls: Any, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kw: Any):
        role = original(cls, resource_name, cloudformation_json, account_id, region_name, **kw)
        backend = iam_models.iam_backends[account_id][PARTITION]
        for arn in cloudformation_json["Properties"].get("ManagedPolicyArns") or []:
            arn = getattr(arn, "arn", arn)
            with contextlib.suppress(Exception):  # an AWS managed policy moto does not know
                backend.attach_role_policy(arn, role.name)
        return role

    replace_classmethod(iam_models.Role, "create_from_cloudformation_json", create)
