"""Lambda's Invoke path: which version runs, on which thread, with what environment and errors.

The patches here (installed by sandbox/install.py) make an invoke behave as Lambda's: alias
routing weights and ``ExecutedVersion`` (``route_invokes``), the function's own code run in this
process (``run_own_code``, the sandbox's replacement for Docker), AWS's error header
(``report_unhandled_errors``) and function-name rules (``resolve_function_names``).
"""

from __future__ import annotations

import json
import random
import re
import time
from typing import Any

from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.moto_api._internal import mock_random

from ...clock import CLOCK
from ...dispatch import DISPATCHER, INLINE
from .. import logs as log_groups
from ..iam import policy
from . import metrics, runtime

_random = random.Random()
# Added to every function's environment by install() (the endpoint, tracing off, ...).
FUNCTION_ENV: dict[str, str] = {}
_PARTIAL_ARN = re.compile(r"^\d{12}:function:(?P<rest>[^:]+(:[^:]+)?)$")


# --- which version an alias runs --------------------------------------------------------------------
def choose_version(alias: Any) -> str:
    """The version an alias routes one request to, by its weights."""
    weights = (alias.routing_config or {}).get("AdditionalVersionWeights") or {}
    draw = _random.random()
    for version, weight in weights.items():
        if draw < float(weight):
            return str(version)
        draw -= float(weight)
    return str(alias.function_version)


def _split(name_or_arn: str, qualifier: str | None) -> tuple[str, str | None]:
    """(function name, qualifier) from a name, ``name:qualifier``, a partial ARN or an ARN."""
    rest = name_or_arn.split(":function:", 1)[1] if ":function:" in name_or_arn else name_or_arn
    name, _, in_name = rest.partition(":")
    return name, (in_name or qualifier or None)


def _header(headers: Any, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def route_invokes() -> None:
    """Every invoke (the Invoke API in ``mock_aws`` and in server mode, Step Functions ``lambda:invoke``
    and aws-sdk tasks, EventBridge and Scheduler deliveries) goes through
    ``LambdaBackend.invoke``; here it behaves as Lambda's:

    1. **Routing.** An alias qualifier whose ``RoutingConfig`` has ``AdditionalVersionWeights {v: w}``
       runs version ``v`` with probability ``w`` and the alias's ``FunctionVersion`` otherwise (one draw
       per invoke, as Lambda's router does per request); the chosen version's own code runs and sees
       its own ``AWS_LAMBDA_FUNCTION_VERSION``. moto always ran the alias's primary version.
       https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html
    2. **ExecutedVersion.** A synchronous response carries ``X-Amz-Executed-Version``.
       https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_ResponseSyntax
    3. **Invocation types.** ``Event`` returns 202 at once and runs the function on a delivery worker
       (moto ran it on the caller's thread); ``DryRun`` runs nothing.
       https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
    4. **Metrics.** Each invoke that runs records AWS/Lambda metrics (sandbox/aws/awslambda/metrics.py).
    """

    def run(fn: Any, qualifier: str | None, alias: Any, body: Any, headers: Any, response_headers: Any) -> Any:
        started = time.perf_counter()
        payload = fn.invoke(body, headers, response_headers)
        duration_ms = (time.perf_counter() - started) * 1000.0
        executed = str(fn.version)
        resource = None if qualifier is None or qualifier.lower() == "$latest" else f"{fn.function_name}:{qualifier}"
        data = metrics.metric_data(
            fn.function_name,
            resource,
            executed if alias is not None else None,
            errored="x-amz-function-error" in response_headers,
            duration_ms=duration_ms,
        )
        metrics.record(fn.account_id, fn.region, data)
        return payload

    def invoke(
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> Any:
        name, qualifier = _split(function_name, qualifier)
        alias = None
        if qualifier and qualifier.lower() != "$latest" and not qualifier.isdigit():
            try:
                alias = self._lambdas._get_function_aliases(name).get(qualifier)
            except Exception:  # noqa: BLE001 - unknown function: moto raises its own error below
                alias = None
        version = choose_version(alias) if alias is not None else qualifier
        fn = self.get_function(name, version)
        kind = _header(headers, "x-amz-invocation-type") or "RequestResponse"
        if kind == "DryRun":  # permission and parameter check only: nothing runs, nothing is counted
            response_headers["Content-Length"] = "0"
            return b""
        if kind == "Event" and not _header(headers, INLINE):
            request = {k: v for k, v in (headers or {}).items()}
            DISPATCHER.submit(f"async invoke {fn.function_arn}", lambda: run(fn, qualifier, alias, body, request, {}))
            response_headers["Content-Length"] = "0"
            return b""
        payload = run(fn, qualifier, alias, body, headers, response_headers)
        response_headers["x-amz-executed-version"] = str(fn.version)
        response_headers["Content-Length"] = str(len(payload))
        return payload

    lambda_models.LambdaBackend.invoke = invoke


# --- the function's own code ------------------------------------------------------------------------
def _code_dirs(fn: Any) -> tuple[Any, list[Any]]:
    code_dir = runtime.unpack(fn.code_bytes, fn.code_sha_256)
    layer_dirs = []
    for layer in fn.layers:
        version = _layer_version(fn, layer["Arn"])
        if version is not None and version.code_bytes:
            layer_dirs.append(runtime.unpack(version.code_bytes, version.code_sha_256))
    return code_dir, layer_dirs


def _layer_version(fn: Any, arn: str) -> Any:
    """The function's layer version, or None for a layer this account's backend does not hold
    (one from elsewhere is simply not mounted)."""
    return lambda_models.lambda_backends[fn.account_id][fn.region].layers_versions_by_arn(arn)


def _run_own_code(self: Any, event: Any = None) -> tuple[str, bool, str]:
    """Run the function's code with the variables Lambda defines, concurrently with any other
    invocation, within its Timeout (sandbox/aws/awslambda/runtime.py).
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime"""
    self.logs_backend.ensure_log_group(self.logs_group_name)
    if isinstance(event, str | bytes):
        event = json.loads(event or "{}")
    if not getattr(self, "code_bytes", b""):
        return json.dumps({"errorType": "Runtime.InvalidEntrypoint", "errorMessage": "no zip code"}), True, ""
    code_dir, layer_dirs = _code_dirs(self)
    context = runtime.new_context(self)
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(self.version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": context.log_group_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": context.log_stream_name,
        "AWS_REGION": self.region,
        "AWS_DEFAULT_REGION": self.region,
        "_HANDLER": self.handler or "",
        **FUNCTION_ENV,
        **policy.function_credentials(self),  # its execution role's session, as Lambda gives it
        **{k: str(v) for k, v in (self.environment_vars or {}).items()},
    }
    started = time.monotonic()
    payload, errored, logs = runtime.run(
        code_dir=code_dir,
        layer_dirs=layer_dirs,
        handler=self.handler,
        event=event if event is not None else {},
        env=env,
        context=context,
        timeout=real_function_timeout(context.timeout_seconds),
        instance=_instance(self),
    )
    log_groups.write_invocation(self, context, logs, (time.monotonic() - started) * 1000.0)
    return payload, errored, logs


def _instance(fn: Any) -> str:
    """One execution environment per function version: module state is never shared between two
    functions (or two sandboxes) that happen to have the same code."""
    if not getattr(fn, "_sandbox_instance", None):
        fn._sandbox_instance = str(mock_random.uuid4())
    return f"{fn._sandbox_instance}:{fn.version}"


def real_function_timeout(seconds: float) -> float:
    """How long, in real seconds, a function may run before it times out: its ``Timeout`` is real run
    time on AWS; the sandbox's clock makes waits shorter, so a timeout scales with it too, with a
    floor (``SandboxClock.real_timeout``).
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html"""
    return CLOCK.real_timeout(seconds)


def run_own_code() -> None:
    """Run the function's own code (its zip and its layers' zips, sandbox/aws/awslambda/runtime.py)
    with the variables Lambda defines, where moto would start a Docker container.
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html"""
    lambda_models.LambdaFunction._invoke_lambda = _run_own_code


# --- errors and names as AWS reports them -----------------------------------------------------------
def report_unhandled_errors() -> None:
    """A function error is ``X-Amz-Function-Error: Unhandled``, as AWS reports every error a
    function raises (moto says ``Handled``).
    https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_ResponseSyntax"""
    original = lambda_models.LambdaFunction.invoke

    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
        payload = original(self, body, request_headers, response_headers)
        if "x-amz-function-error" in response_headers:
            response_headers["x-amz-function-error"] = "Unhandled"
        return payload

    lambda_models.LambdaFunction.invoke = invoke


def resolve_function_names() -> None:
    """A partial ARN (``123456789012:function:name``) names a function, and a name with colons that is
    no ARN is refused with InvalidParameterValueException, as by AWS (moto crashed: a 500).
    https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_RequestSyntax"""
    original = lambda_models.LambdaBackend.get_function

    def get_function(self: Any, function_name_or_arn: str, qualifier: str | None = None) -> Any:
        name = function_name_or_arn
        if not name.startswith("arn:aws") and name.count(":") >= 2:
            partial = _PARTIAL_ARN.match(name)
            if not partial:
                raise InvalidParameterValueException(
                    f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy "
                    "constraint: Member must satisfy the function name pattern"
                )
            name = partial.group("rest")
        return original(self, name, qualifier)

    lambda_models.LambdaBackend.get_function = get_function
