"""One JSON error body for every failure, and the OpenAPI entries that document it.

``{"error": <name>, "message": ..., "field": <field or null>, ...details}``

- PromoterError subclasses answer their own ``status_code`` with ``to_dict()`` (a NotFound
  raised while checking a request body is about the body, so the route turns it into 422).
- pydantic validation (Powertools ``RequestValidationError``) -> 422 naming the field and rule.
- AWS errors are recognised by their error code (no botocore import here): access denied -> 403,
  throttling -> 429, any other 4xx (AWS refused the caller's input) -> 422, each with a plain
  message that keeps AWS's error code (AWS's own text only when it is one line of plain text,
  never HTML) and the field the failed call was about. botocore's own parameter validation
  (before any call) -> 422 naming the field. Anything else -> 500, logged.
- A body nested deeper than ``MAX_JSON_DEPTH`` is refused before it is parsed (Python's json
  recursion would otherwise make it a 500); a RecursionError anywhere is the same 422.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar, get_args

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyKeyError,
    IdempotencyValidationError,
)
from pydantic import BaseModel, Tag

from ..aws.errors import ACCESS_DENIED, code_of, http_status_of, plain_message, plain_text, raw_message
from ..errors import PromoterError, RecordConflict
from ..limits import MAX_JSON_DEPTH
from ..models import FreezeWindow, StrategySpec
from .models import ErrorBody

logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)
ErrorT = TypeVar("ErrorT", bound=Exception)


def union_tags(union: Any) -> frozenset[str]:
    """The Tag names of a discriminated union ``Annotated[A | B, Discriminator(...)]``."""
    members = get_args(get_args(union)[0])
    return frozenset(meta.tag for member in members for meta in member.__metadata__ if isinstance(meta, Tag))


# Discriminator tags: pydantic puts them in the error location, the field path leaves them out.
_UNION_TAGS = union_tags(StrategySpec)
_FREEZE_TAGS = union_tags(FreezeWindow)
_LOCATIONS = {"query", "path", "header", "cookie"}
_THROTTLED = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
}
_RETRYABLE = {"Throttled", "RecordConflict", "IdempotencyInProgress"}
_REFUSED_INPUT = {"ValidationException", "InvalidParameterValueException", "InvalidParameterCombination"}
# Which request field an AWS call was about, by operation (the control plane's calls on a request).
_FIELD_OF_OPERATION = {
    "GetFunction": "function",
    "GetFunctionConfiguration": "function",
    "ListAliases": "function",
    "ListVersionsByFunction": "function",
    "ListTags": "function",
    "PublishVersion": "function",
    "UpdateFunctionCode": "function",
    "GetAlias": "alias",
    "UpdateAlias": "alias",
    "Invoke": "hooks",
    "DescribeAlarms": "alarms",
    "AssumeRole": "role_arn",
    "CreateSchedule": "body",
}
# And by the SDK parameter botocore's own validation names.
_FIELD_OF_PARAMETER = {
    "FunctionName": "function",
    "Name": "alias",
    "FunctionVersion": "version",
    "Qualifier": "version",
    "CodeSha256": "code_sha256",
    "AlarmNames": "alarms",
    "RoleArn": "role_arn",
    "ExternalId": "external_id",
    "ScheduleExpression": "cron",
    "ScheduleExpressionTimezone": "timezone",
}
# AWS's message names the parameter more precisely than the operation does (checked first).
_FIELD_OF_MESSAGE = [
    (re.compile(r"CodeSha256", re.IGNORECASE), "code_sha256"),
    (re.compile(r"at '(?:functionVersion|qualifier)'"), "version"),
    (re.compile(r"at 'alarmNames"), "alarms"),
    (re.compile(r"at 'roleArn'"), "role_arn"),
    (re.compile(r"at 'externalId'"), "external_id"),
]
_PARAMETER = re.compile(r"parameter ([A-Za-z]+)(?:\[(\d+)\])?")
_JSON_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKETS = re.compile(r"[\[\]{}]")


def model_response(status: int, model: ModelT, headers: dict[str, str] | None = None) -> Response[ModelT]:
    """``model`` as the body of a route that documents it (its return annotation ``Response[Model]``)."""
    body: Any = model.model_dump(mode="json")  # the model's JSON form, which Powertools sends as is
    return Response(status, content_types.APPLICATION_JSON, body, headers=headers)


def error_response(status: int, error: str, message: str, field: str | None = None, **details: Any) -> Response[Any]:
    body = {"error": error, "message": message, "field": field} | {k: v for k, v in details.items() if v is not None}
    headers = {"Retry-After": "1"} if error in _RETRYABLE else None
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def promoter_error_response(error: PromoterError, status: int | None = None) -> Response[Any]:
    body = error.to_dict()
    return error_response(
        status or error.status_code,
        body.pop("error"),
        body.pop("message"),
        body.pop("field", None),
        **body,
    )


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """('body', 'strategy', 'canary', 'weight') -> 'strategy.weight'; ('query', 'limit') -> 'query.limit'."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    kept = [
        p
        for i, p in enumerate(parts)
        if not (p in _UNION_TAGS and i > 0 and parts[i - 1] == "strategy")
        and not (p in _FREEZE_TAGS and i > 1 and parts[i - 2] == "freeze_windows")  # pipelines
    ]
    return ".".join(kept) or "body"


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg") or error.get("type") or "invalid")
    return message.removeprefix("Value error, ")


def _field_of(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":  # its location is a character offset, not a field
        return "body"
    return field_path(error.get("loc", ()))


def validation_response(errors: list[dict[str, Any]]) -> Response[Any]:
    problems = [{"field": _field_of(e), "rule": str(e.get("type", "invalid")), "message": _message(e)} for e in errors]
    first = problems[0] if problems else {"field": "body", "rule": "invalid", "message": "invalid request"}
    return error_response(
        422,
        "InvalidRequest",
        f"{first['field']}: {first['message']}",
        first["field"],
        rule=first["rule"],
        errors=problems,
    )


def reject_non_object_bodies(app: ApiGatewayResolver, next_middleware: Callable[..., Response[Any]]) -> Response[Any]:
    """Powertools validates a JSON array body ``[x]`` as if it were ``x``; the OpenAPI document says
    an object, so an array is refused here, before the route runs."""
    body = app.current_event.body
    if body and body.lstrip().startswith("["):
        return error_response(
            422,
            "InvalidRequest",
            "body: the body must be a JSON object",
            "body",
            rule="model_attributes_type",
            errors=[
                {
                    "field": "body",
                    "rule": "model_attributes_type",
                    "message": "the body must be a JSON object",
                }
            ],
        )
    return next_middleware(app)


def json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep ``text``'s arrays and objects nest (brackets inside strings do not count), without
    parsing it; stops counting past ``limit``."""
    depth = deepest = 0
    for bracket in _JSON_BRACKETS.findall(_JSON_STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > limit:
            break
    return deepest


def _too_deep() -> Response[Any]:
    message = f"the body nests deeper than {MAX_JSON_DEPTH} levels; no request of this API needs that many"
    return error_response(
        422,
        "InvalidRequest",
        f"body: {message}",
        "body",
        rule="json_too_deep",
        errors=[{"field": "body", "rule": "json_too_deep", "message": message}],
    )


def refuse_deep_bodies(app: ApiGatewayResolver, next_middleware: Callable[..., Response[Any]]) -> Response[Any]:
    """A body nested 1,000 levels deep makes Python's json.loads (in Powertools' validation) raise
    RecursionError; refuse it before anything parses it."""
    try:
        body = app.current_event.decoded_body if app.current_event.body else None
    except ValueError:  # bytes that do not decode: the validation that follows answers for them
        body = None
    if body and json_depth(body) > MAX_JSON_DEPTH:
        return _too_deep()
    return next_middleware(app)


def _aws_error(error: Exception) -> tuple[str | None, int]:
    """(error code, HTTP status) of an AWS SDK ClientError; (None, 0) for anything else."""
    return code_of(error) or None, http_status_of(error)


def aws_refusal(error: Exception) -> tuple[str, str]:
    """(plain message, request field) for an AWS ClientError: names the call and keeps AWS's error code."""
    code, _ = _aws_error(error)
    operation = str(getattr(error, "operation_name", "") or "the AWS call")
    raw_text = raw_message(error)
    message = plain_message(error)
    named = next((field for pattern, field in _FIELD_OF_MESSAGE if pattern.search(raw_text)), None)
    return message, named or _FIELD_OF_OPERATION.get(operation, "body")


def _sdk_refusal(error: Exception) -> tuple[str, str] | None:
    """(message, field) for botocore's ParamValidationError (the SDK refused the input before any call)."""
    if type(error).__name__ != "ParamValidationError":
        return None
    report = str(getattr(error, "kwargs", {}).get("report") or error)
    line = next((part.strip() for part in report.splitlines() if part.strip()), "invalid parameter")
    match = _PARAMETER.search(line)
    field = "body"
    if match and match[1] in _FIELD_OF_PARAMETER:
        field = _FIELD_OF_PARAMETER[match[1]] + (f".{match[2]}" if match[2] else "")
    return f"AWS's SDK refused the input: {plain_text(line) or 'invalid parameter'}", field


def _handler(
    app: ApiGatewayResolver, error: type[ErrorT]
) -> Callable[[Callable[[ErrorT], Response[Any]]], Callable[[ErrorT], Response[Any]]]:
    """``app.exception_handler(error)`` with its types kept (Powertools' decorator is untyped)."""

    def register(handle: Callable[[ErrorT], Response[Any]]) -> Callable[[ErrorT], Response[Any]]:
        app.exception_handler(error)(handle)
        return handle

    return register


def register(app: ApiGatewayResolver) -> None:
    """Install the handlers on ``app`` (the resolver, so every router shares them)."""
    app.use([refuse_deep_bodies, reject_non_object_bodies])

    @_handler(app, RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[Any]:
        return validation_response(list(error.errors()))

    @_handler(app, RecursionError)
    def _recursion(error: RecursionError) -> Response[Any]:
        # A backstop: refuse_deep_bodies stops deep bodies first; anything else this deep is the body too.
        logger.warning("RecursionError on a request: %s", error)
        return _too_deep()

    @_handler(app, RequestUnsupportedContentType)
    def _media_type(error: RequestUnsupportedContentType) -> Response[Any]:
        return error_response(415, "UnsupportedMediaType", "send the body as application/json", "body")

    @_handler(app, RecordConflict)
    def _conflict(error: RecordConflict) -> Response[Any]:
        return promoter_error_response(error, 409)

    @_handler(app, PromoterError)
    def _promoter(error: PromoterError) -> Response[Any]:
        if error.status_code >= 500:
            logger.exception("unexpected %s", type(error).__name__, exc_info=error)
            return error_response(500, type(error).__name__, error.message, error.field)
        return promoter_error_response(error)

    @_handler(app, IdempotencyValidationError)
    def _key_reused(error: IdempotencyValidationError) -> Response[Any]:
        return error_response(
            422,
            "IdempotencyKeyReused",
            "this Idempotency-Key was already used with a different request",
            "Idempotency-Key",
        )

    @_handler(app, IdempotencyAlreadyInProgressError)
    def _key_in_flight(error: IdempotencyAlreadyInProgressError) -> Response[Any]:
        return error_response(
            409,
            "IdempotencyInProgress",
            "a request with this Idempotency-Key is still in progress; retry shortly",
            "Idempotency-Key",
        )

    @_handler(app, IdempotencyKeyError)
    def _key_missing(error: IdempotencyKeyError) -> Response[Any]:
        return error_response(422, "InvalidRequest", "Idempotency-Key is empty", "Idempotency-Key")

    @_handler(app, NotFoundError)  # what app.not_found registers
    def _no_route(error: NotFoundError) -> Response[Any]:
        event = app.current_event
        return error_response(404, "NotFound", f"no route for {event.http_method} {event.path}", "path")

    @_handler(app, Exception)
    def _unexpected(error: Exception) -> Response[Any]:
        if sdk := _sdk_refusal(error):
            message, field = sdk
            return error_response(422, "InvalidRequest", message, field, rule="aws_parameter_validation")
        code, status = _aws_error(error)
        if code in _THROTTLED:
            return error_response(429, "Throttled", "AWS throttled the control plane; retry with backoff", None)
        if code in ACCESS_DENIED:
            message, field = aws_refusal(error)
            return error_response(403, "AccessDenied", f"AWS denied the control plane: {message}", field, rule=code)
        if code in _REFUSED_INPUT or 400 <= status < 500:
            # every AWS call here carries the caller's input: AWS refusing it is a bad request
            message, field = aws_refusal(error)
            logger.info("AWS refused a request: %s", error)
            return error_response(422, "InvalidRequest", f"AWS refused the request: {message}", field, rule=code)
        logger.exception("unhandled error", exc_info=error)
        return error_response(500, "InternalError", "internal error; the control plane logged it", None)


# --- OpenAPI: what each route may answer --------------------------------------------------------
_DESCRIPTIONS = {
    403: "Not allowed: IAM denied the caller or the control plane",
    404: "Not found",
    409: "Conflict with the current state",
    415: "The body is not application/json",
    422: "Invalid request: names the field and the rule",
    429: "Throttled: retry with backoff",
    500: "Internal error",
}


def _error_doc(status: int, description: str | None = None) -> OpenAPIResponse:
    return {
        "description": description or _DESCRIPTIONS[status],
        "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
    }


def responses(
    success: int,
    model: type,
    description: str,
    *errors: int,
    headers: dict[str, OpenAPIResponseHeader] | None = None,
    notes: dict[int, str] | None = None,
) -> dict[int, OpenAPIResponse]:
    """The ``responses=`` of a route: its success (listed explicitly, or Powertools drops it) and
    every error it can answer, each with ``ErrorBody``."""
    docs: dict[int, OpenAPIResponse] = {
        success: {"description": description, "content": {content_types.APPLICATION_JSON: {"model": model}}}
    }
    if headers:
        docs[success]["headers"] = headers
    for status in sorted({*errors, 403, 422, 429, 500}):
        docs[status] = _error_doc(status, (notes or {}).get(status))
    return docs


TRANSITION_NOTE = (
    "The promotion's status does not allow this move (body has current_status), or a request "
    "with the same Idempotency-Key is in progress"
)
