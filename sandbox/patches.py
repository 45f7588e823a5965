"""The few patches that make moto a faithful local AWS for lambda-promoter (DESIGN.md §7).

Each patch is small, named, and applied once per process by ``apply()``:

- ``_invoke_lambda``: run the function's own code (sandbox/runner.py) instead of Docker.
- Lambda aliases: a new RevisionId on every update, the ``RevisionId`` precondition, and AWS's
  rules for routing weights; ``PublishVersion`` honours its ``CodeSha256`` precondition.
- CloudFormation Lambda functions keep their Layers, Tags and Architectures; ``!Ref`` of an
  event bus or a layer version gives its name or ARN, not moto's object; AWS::Scheduler::ScheduleGroup
  is created (moto's CloudFormation lacks it).
- Step Functions: aws-sdk errors named ``Lambda.X`` as in AWS; ``start_execution`` always has a
  name; Wait, Retry and task timeouts run on a scaled clock (``TIME.scale``).
- API Gateway: a CloudFormation RestApi gets the methods of its OpenAPI ``Body`` (SAM's
  AWS::Serverless::Api), so its Deployment can be created.
- Lambda function names: a partial ARN (``123456789012:function:name``) resolves, and a name
  with colons that is no ARN is refused as by AWS, instead of crashing moto (a 500).
- DynamoDB: a conditional write is atomic, as in AWS (moto checks, then writes, with no lock, so
  two threads could both pass ``attribute_not_exists``: two holders of one target's lock).
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from moto.awslambda import models as lambda_models
from moto.awslambda import responses as lambda_responses
from moto.awslambda.exceptions import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ValidationException,
)
from moto.moto_api._internal import mock_random
from moto.stepfunctions import models as sfn_base
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser import models as sfn_models
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import Timeout, TimeoutSeconds
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

from . import engine, iam, multi_account, runner, sfn_limits


class ScaledClock:
    """Wait states, Retry intervals and task timeouts last ``seconds / scale`` real seconds."""

    def __init__(self) -> None:
        self.scale = 1.0

    def real(self, seconds: float) -> float:
        return max(0.0, float(seconds)) / self.scale

    def sleep(self, seconds: float) -> None:
        time.sleep(self.real(seconds))


TIME = ScaledClock()
MIN_REAL_TASK_TIMEOUT = 30.0
_APPLIED = threading.Lock()
_applied = False
EXTRA_ENV: dict[str, str] = {}
# Every alias write the sandbox accepted, as AWS saw it: (function, alias, version, weights).
ALIAS_WRITES: list[
    tuple[str, str, str, dict[str, float]]
] = []  # added to every function's environment (endpoint, trace off, ...)


def apply(time_scale: float = 1.0, extra_env: dict[str, str] | None = None) -> None:
    global _applied
    TIME.scale = time_scale
    EXTRA_ENV.clear()
    EXTRA_ENV.update(extra_env or {})
    engine.apply(time_scale)  # events, routing, metrics, alarms, schedules (sandbox/engine.py)
    with _APPLIED:
        if _applied:
            return
        runner.install()  # per-thread stdout and os.environ, before any function runs
        _patch_invoke()
        _patch_function_errors()
        _patch_aliases()
        _patch_alias_status_codes()
        _patch_publish_precondition()
        _patch_cloudformation_functions()
        _patch_cloudformation_refs()
        _patch_cloudformation_schedule_groups()
        _patch_step_functions()
        sfn_limits.install()  # 25,000 history events; States.ALL does not catch terminal errors
        _patch_api_gateway()
        _patch_function_names()
        _patch_dynamodb_atomic_writes()
        _patch_dynamodb_reads_beside_writes()
        multi_account.apply()  # code URLs, image digests, cross-account buses (sandbox/multi_account.py)
        iam.install()  # IAM enforced on every call, GetFunction Tags only with ListTags (sandbox/iam.py)
        _applied = True


# --- Lambda: run real code ------------------------------------------------------------------------
def _code_dirs(fn: Any) -> tuple[Any, list[Any]]:
    code_dir = runner.unpack(fn.code_bytes, fn.code_sha_256)
    layer_dirs = []
    for layer in fn.layers:
        version = _layer_version(fn, layer["Arn"])
        if version is not None and getattr(version, "code_bytes", b""):
            layer_dirs.append(runner.unpack(version.code_bytes, version.code_sha_256))
    return code_dir, layer_dirs


def _layer_version(fn: Any, arn: str) -> Any:
    backend = lambda_models.lambda_backends[fn.account_id][fn.region]
    try:
        return backend.get_layer_version_by_arn(arn)
    except Exception:  # noqa: BLE001 - a layer from elsewhere is simply not mounted
        return None


def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
    """Run the function's code with the variables Lambda defines, concurrently with any other
    invocation, within its Timeout (sandbox/runner.py).
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime"""
    self.logs_backend.ensure_log_group(self.logs_group_name)
    if isinstance(event, str | bytes):
        event = json.loads(event or "{}")
    if not getattr(self, "code_bytes", b""):
        return json.dumps({"errorType": "Runtime.InvalidEntrypoint", "errorMessage": "no zip code"}), True, ""
    code_dir, layer_dirs = _code_dirs(self)
    context = runner.new_context(self)
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(self.version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": context.log_group_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": context.log_stream_name,
        "AWS_REGION": self.region,
        "AWS_DEFAULT_REGION": self.region,
        "_HANDLER": self.handler or "",
        **EXTRA_ENV,
        **iam.function_credentials(self),  # its execution role's session, as Lambda gives it
        **{k: str(v) for k, v in (self.environment_vars or {}).items()},
    }
    started = time.monotonic()
    payload, errored, logs = runner.run(
        code_dir=code_dir,
        layer_dirs=layer_dirs,
        handler=self.handler,
        event=event if event is not None else {},
        env=env,
        context=context,
        timeout=real_function_timeout(context.timeout_seconds),
        instance=_instance(self),
    )
    _write_logs(self, context, logs, (time.monotonic() - started) * 1000.0)
    return payload, errored, logs


def _instance(fn: Any) -> str:
    """One execution environment per function version: module state is never shared between two
    functions (or two sandboxes) that happen to have the same code."""
    if not getattr(fn, "_sandbox_instance", None):
        fn._sandbox_instance = str(mock_random.uuid4())
    return f"{fn._sandbox_instance}:{fn.version}"


def real_function_timeout(seconds: float) -> float:
    """How long, in real seconds, a function may run before it times out.

    The function's ``Timeout`` is real run time on AWS. The sandbox's clock (``TIME.scale``) makes
    waits shorter, so a timeout scales with it too, but never below ``min(Timeout,
    MIN_REAL_TASK_TIMEOUT)`` real seconds, as for Step Functions task timeouts: real work (moto on a
    busy machine) is not cut short, and a 1 s Timeout still ends a handler after 1 s.
    """
    return max(TIME.real(seconds), min(seconds, MIN_REAL_TASK_TIMEOUT))


def _write_logs(fn: Any, context: runner.Context, logs: str, duration_ms: float) -> None:
    """The invocation's output, framed by START/END/REPORT, in ``/aws/lambda/<name>`` under the stream
    name AWS uses, ``YYYY/MM/DD/[VERSION]<id>`` (the context's ``log_stream_name``).
    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"""
    request = context.aws_request_id
    lines = [
        f"START RequestId: {request} Version: {context.function_version}",
        *logs.splitlines(),
        f"END RequestId: {request}",
        f"REPORT RequestId: {request}\tDuration: {duration_ms:.2f} ms\tMemory Size: {context.memory_limit_in_mb} MB",
    ]
    now = int(time.time() * 1000)
    backend = fn.logs_backend
    backend.create_log_stream(context.log_group_name, context.log_stream_name)
    events = [{"timestamp": now, "message": line} for line in lines]
    backend.put_log_events(context.log_group_name, context.log_stream_name, events)


def _patch_invoke() -> None:
    lambda_models.LambdaFunction._invoke_lambda = _invoke_lambda


def _patch_function_errors() -> None:
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


# --- Lambda: aliases as AWS does them --------------------------------------------------------------
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


def _patch_aliases() -> None:
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


def _patch_alias_status_codes() -> None:
    """GetAlias and UpdateAlias answer HTTP 200 (moto: 201, which only CreateAlias answers).
    https://docs.aws.amazon.com/lambda/latest/api/API_GetAlias.html#API_GetAlias_ResponseSyntax"""
    for name in ("get_alias", "update_alias"):
        original = getattr(lambda_responses.LambdaResponse, name)

        def ok(self: Any, __original: Any = original) -> Any:
            _status, headers, body = __original(self)
            return 200, {**headers, "status": 200}, body

        setattr(lambda_responses.LambdaResponse, name, ok)


def _patch_publish_precondition() -> None:
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


def _patch_cloudformation_functions() -> None:
    original = lambda_models.LambdaFunction.create_from_cloudformation_json.__func__

    def create(cls: Any, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kw: Any):
        fn = original(cls, resource_name, cloudformation_json, account_id, region_name, **kw)
        props = cloudformation_json["Properties"]
        if props.get("Layers"):
            arns = [layer if isinstance(layer, str) else layer.arn for layer in props["Layers"]]
            fn.layers = fn._get_layers_data(arns)
        if props.get("Architectures"):
            fn.architectures = props["Architectures"]
        tags = props.get("Tags") or []
        fn.tags = tags if isinstance(tags, dict) else {t["Key"]: t["Value"] for t in tags}
        return fn

    lambda_models.LambdaFunction.create_from_cloudformation_json = classmethod(create)


def _patch_cloudformation_schedule_groups() -> None:
    """moto's CloudFormation has no AWS::Scheduler::ScheduleGroup; create it in moto's Scheduler."""
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.scheduler.models import scheduler_backends

    class ScheduleGroupResource(CloudFormationModel):
        def __init__(self, group: Any) -> None:
            self.group = group

        @property
        def physical_resource_id(self) -> str:
            return self.group.name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Scheduler::ScheduleGroup"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.group.arn

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kw: Any
        ) -> ScheduleGroupResource:
            name = cloudformation_json.get("Properties", {}).get("Name", resource_name)
            return cls(scheduler_backends[account_id][region_name].create_schedule_group(name, tags=[]))

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def _patch_cloudformation_refs() -> None:
    """``!Ref`` gives the object itself for these types in moto; AWS gives the name or ARN."""
    from moto.events import models as events_models

    events_models.EventBus.physical_resource_id = property(lambda self: self.name)
    lambda_models.LayerVersion.physical_resource_id = property(lambda self: self.arn)


# --- Step Functions --------------------------------------------------------------------------------
def _patch_step_functions() -> None:
    # CloudFormation creates state machines in the backend that cannot execute, and ignores
    # DefinitionSubstitutions: use the backend that executes, and substitute as AWS does.
    def create_state_machine(
        cls: Any, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kw: Any
    ):
        props = cloudformation_json["Properties"]
        substitutions = props.get("DefinitionSubstitutions") or {}
        definition = re.sub(
            r"\$\{([A-Za-z0-9_]+)\}",
            lambda m: str(substitutions.get(m.group(1), m.group(0))),
            props.get("DefinitionString", ""),
        )
        return sfn_responses.get_backend(account_id, region_name).create_state_machine(
            props.get("StateMachineName", resource_name),
            definition,
            props.get("RoleArn", ""),
            tags=sfn_base.cfn_to_api_tags(props.get("Tags", [])),
        )

    sfn_base.StateMachine.create_from_cloudformation_json = classmethod(create_state_machine)

    state_task_service_aws_sdk._SERVICE_ERROR_NAMES.update(
        {"lambda": "Lambda", "cloudwatch": "CloudWatch", "eventbridge": "EventBridge", "sns": "Sns"}
    )

    original_start = sfn_models.StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any):
        return original_start(self, state_machine_arn, name or str(mock_random.uuid4()), *args, **kwargs)

    sfn_models.StepFunctionsParserBackend.start_execution = start_execution

    original_timeout = Timeout._eval_body

    def scaled_timeout(self: Any, env: Any) -> None:
        original_timeout(self, env)
        seconds = env.stack.pop()
        scaled = TIME.real(seconds)
        if isinstance(self, TimeoutSeconds):
            # A handler's real run time does not shrink with the clock: keep a floor for fixed
            # timeouts; bakes (TimeoutSecondsPath) scale fully.
            scaled = max(scaled, min(seconds, MIN_REAL_TASK_TIMEOUT))
        env.stack.append(scaled)

    Timeout._eval_body = scaled_timeout

    def wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
        deadline = time.monotonic() + TIME.real(wait_seconds)
        while env.is_running() and (left := deadline - time.monotonic()) > 0:
            env.program_state_event.wait(left)

    WaitFunction._wait_interval = wait_interval

    class _ScaledTimeModule:
        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            TIME.sleep(seconds)

    retrier_decl.time = _ScaledTimeModule()


# --- API Gateway -----------------------------------------------------------------------------------
def _patch_api_gateway() -> None:
    """moto creates a RestApi from CloudFormation without its ``Body``; the Deployment that SAM adds
    then fails with "The REST API doesn't contain any methods". Import the body as AWS does."""
    from moto.apigateway import models as apigateway_models

    original = apigateway_models.RestAPI.create_from_cloudformation_json.__func__

    def create(cls: Any, name: str, cloudformation_json: dict, account_id: str, region: str, **kw: Any):
        api = original(cls, name, cloudformation_json, account_id, region, **kw)
        body = cloudformation_json["Properties"].get("Body")
        if isinstance(body, dict) and str(body.get("openapi", "")).startswith("3"):
            backend = apigateway_models.apigateway_backends[account_id][region]
            backend.put_rest_api(api.id, body, fail_on_warnings=False, mode="overwrite")
        return api

    apigateway_models.RestAPI.create_from_cloudformation_json = classmethod(create)


_PARTIAL_ARN = re.compile(r"^\d{12}:function:(?P<rest>[^:]+(:[^:]+)?)$")


def _patch_function_names() -> None:
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


_DYNAMODB_WRITES = threading.RLock()


def _patch_dynamodb_atomic_writes() -> None:
    from moto.dynamodb import models as dynamodb_models

    backend = dynamodb_models.DynamoDBBackend
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(backend, name)

        def atomic(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _DYNAMODB_WRITES:
                return __original(self, *args, **kwargs)

        setattr(backend, name, atomic)


def _patch_dynamodb_reads_beside_writes() -> None:
    """Reads see a table between writes, never during one, as DynamoDB's item-level consistency
    gives (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html).
    Needed because moto's tables are plain dicts: ``get_item`` on a table with a sort key inserts an
    empty entry for a missing partition key (a defaultdict), and queries iterate the dict, so with
    invocations running concurrently a read beside ``transact_write_items``' deepcopy of the table
    raised "dictionary changed size during iteration"."""
    from moto.dynamodb import models as dynamodb_models

    backend = dynamodb_models.DynamoDBBackend
    for name in ("get_item", "query", "scan"):  # batch and transact gets go through get_item
        original = getattr(backend, name)

        def between_writes(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _DYNAMODB_WRITES:
                return __original(self, *args, **kwargs)

        setattr(backend, name, between_writes)
