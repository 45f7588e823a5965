"""The fast gate, pure parts: its spec, the filter pattern, the payload CloudWatch Logs delivers,
and which lines count.

A CloudWatch Logs subscription filter on the target's log group sends its error lines to the
FastGate function within seconds (promoter.promotions.fast_gate); an alarm on one-minute Lambda
metrics needs a minute or more to fire.

Defaults and bounds (the README's "The fast gate" repeats them):

- ``max_errors`` 5 (0 to 10,000): the candidate's errors in the window may reach it; one more rolls
  back. 0 rolls back on the first error.
- ``window_seconds`` 60 (10 to 3,600): the sliding window, on the log events' own timestamps.
- ``pattern`` (optional, 1 to 100 characters, no double quote or control character): one more
  literal term that counts as an error, matched case-sensitively as CloudWatch Logs matches a
  quoted term, e.g. ``PaymentDeclined``. Always counted: ``[ERROR]`` (the Python runtime's
  uncaught exception and ``logging.error`` lines), ``Traceback`` and ``Task timed out``.

A filter pattern cannot select a log stream, so the filter sends every version's error lines and
the receiver keeps those of the candidate's streams (``YYYY/MM/DD/[VERSION]id``).
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html,
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
"""

import base64
import gzip
import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field
from pydantic.types import Strict

from .model_base import Model

DEFAULT_MAX_ERRORS = 5
MAX_MAX_ERRORS = 10_000
DEFAULT_WINDOW_SECONDS = 60
MIN_WINDOW_SECONDS = 10
MAX_WINDOW_SECONDS = 3600
MAX_PATTERN_LENGTH = 100

# What an uncaught exception and a timeout write in a Lambda function's log (Python runtime).
ERROR_TERMS = ("[ERROR]", "Traceback", "Task timed out")
FILTER_NAME_PREFIX = "lambda-promoter-fast-gate-"  # + the promotion id: no colon or star, as AWS requires
ACTOR = "fast-gate"
_STREAM_VERSION = re.compile(r"^\d{4}/\d{2}/\d{2}/\[(?P<version>[^\]]+)\]")


def _plain_term(value: str) -> str:
    if '"' in value:
        raise ValueError('the pattern is one literal term: it cannot hold a double quote (")')
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError("the pattern cannot hold control characters")
    if not value.strip():
        raise ValueError("the pattern cannot be blank")
    return value


Count = Annotated[int, Strict()]
Seconds = Annotated[int, Strict()]
Term = Annotated[str, Field(min_length=1, max_length=MAX_PATTERN_LENGTH), AfterValidator(_plain_term)]


class FastGateSpec(Model):
    """``"fast_gate"`` on a promotion request or a pipeline environment."""

    model_config = ConfigDict(extra="forbid")

    max_errors: Count = Field(
        default=DEFAULT_MAX_ERRORS,
        ge=0,
        le=MAX_MAX_ERRORS,
        description="errors of the candidate allowed in the window; one more rolls back (0: the first)",
    )
    window_seconds: Seconds = Field(
        default=DEFAULT_WINDOW_SECONDS,
        ge=MIN_WINDOW_SECONDS,
        le=MAX_WINDOW_SECONDS,
        description="sliding window, on the log events' timestamps",
    )
    pattern: Term | None = Field(
        default=None,
        description="one more literal term that counts as an error (case-sensitive), besides "
        "[ERROR], Traceback and Task timed out",
    )

    def filter_pattern(self) -> str:
        """The subscription filter's pattern: any of the error terms (``?`` is OR in the syntax)."""
        terms = [*ERROR_TERMS, *([self.pattern] if self.pattern else [])]
        return " ".join(f'?"{term}"' for term in terms)


class FastGateTrip(Model):
    """What the fast gate saw when it rolled back."""

    errors: int = Field(description="the candidate's errors counted in the window")
    window_seconds: int
    first_error_at: datetime = Field(description="the earliest error counted (to the second)")
    last_error_at: datetime = Field(description="the latest error counted")
    at: datetime = Field(description="when the alias went back to stable")


class FastGateState(Model):
    """The subscription the workflow made for the promotion (Prepare) and removed (Finalize)."""

    filter_name: str
    log_group: str
    destination_arn: str = Field(default="", description="FastGateFunction ('' if Prepare never put it)")
    removed: bool = False
    trip: FastGateTrip | None = None


def filter_name_for(promotion_id: str) -> str:
    return f"{FILTER_NAME_PREFIX}{promotion_id}"


def promotion_of_filter(name: str) -> str | None:
    return name[len(FILTER_NAME_PREFIX) :] if name.startswith(FILTER_NAME_PREFIX) else None


def log_group_of(function_name: str) -> str:
    """Lambda's default log group; a function with its own (LoggingConfig) is not watched yet."""
    return f"/aws/lambda/{function_name}"


def version_of_stream(stream: str) -> str | None:
    """``2026/12/04/[7]0a1b...`` -> ``"7"`` (``$LATEST`` for unpublished code)."""
    match = _STREAM_VERSION.match(stream)
    return match.group("version") if match else None


# --- the payload ------------------------------------------------------------------------------
class LogEvent(Model):
    id: str
    timestamp: int = Field(description="ms since the epoch, when the function wrote it")
    message: str


class LogsDelivery(Model):
    """What a subscription filter sends a Lambda function, once decoded.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample"""

    messageType: Literal["DATA_MESSAGE", "CONTROL_MESSAGE"]  # noqa: N815 - AWS's field names
    owner: str
    logGroup: str  # noqa: N815
    logStream: str  # noqa: N815
    subscriptionFilters: list[str]  # noqa: N815
    logEvents: list[LogEvent]  # noqa: N815

    @property
    def version(self) -> str | None:
        return version_of_stream(self.logStream)

    @property
    def promotion_ids(self) -> list[str]:
        return [p for p in (promotion_of_filter(name) for name in self.subscriptionFilters) if p]


def decode(event: dict[str, Any]) -> LogsDelivery:
    """``{"awslogs": {"data": base64(gzip(json))}}`` -> the delivery, decoded by Powertools' parser
    model. Raises ValueError on anything else."""
    # Imported here: Powertools' parser models load all of them (tens of ms), and every handler
    # imports this module for FastGateSpec; only the receiver decodes.
    from aws_lambda_powertools.utilities.parser.models import CloudWatchLogsModel

    try:
        decoded = CloudWatchLogsModel.model_validate(event).awslogs.decoded_data
    except ValueError as error:  # pydantic's ValidationError included
        raise ValueError(f"not a CloudWatch Logs subscription payload: {error}") from error
    return LogsDelivery(
        messageType=decoded.messageType,  # validated by LogsDelivery: DATA_MESSAGE or CONTROL_MESSAGE
        owner=decoded.owner,
        logGroup=decoded.logGroup,
        logStream=decoded.logStream,
        subscriptionFilters=decoded.subscriptionFilters,
        logEvents=[
            LogEvent(id=e.id, timestamp=round(e.timestamp.timestamp() * 1000), message=str(e.message))
            for e in decoded.logEvents
        ],
    )


def encode(delivery: dict[str, Any]) -> dict[str, Any]:
    """The inverse of ``decode`` (the sandbox and tests build payloads with it)."""
    raw = json.dumps(delivery, separators=(",", ":")).encode()
    return {"awslogs": {"data": base64.b64encode(gzip.compress(raw)).decode()}}


def is_error_line(message: str, spec: FastGateSpec) -> bool:
    """The filter already chose these lines; checked again so that a wider filter (or a payload
    from elsewhere) cannot count what the request did not ask for."""
    terms = [*ERROR_TERMS, *([spec.pattern] if spec.pattern else [])]
    return any(term in message for term in terms)


def counted_events(delivery: LogsDelivery, candidate: str | None, spec: FastGateSpec) -> list[LogEvent]:
    """The delivery's error lines that are the candidate's: its own streams only."""
    if delivery.messageType != "DATA_MESSAGE" or candidate is None or delivery.version != candidate:
        return []
    return [e for e in delivery.logEvents if is_error_line(e.message, spec)]


def seconds_of(events: list[LogEvent]) -> dict[int, list[str]]:
    """The events' ids by the second they were written in (the counter's buckets)."""
    buckets: dict[int, list[str]] = {}
    for event in events:
        buckets.setdefault(event.timestamp // 1000, []).append(event.id)
    return buckets


def window_of(latest_second: int, window_seconds: int) -> tuple[int, int]:
    """The seconds a window ending at ``latest_second`` covers, both ends included."""
    return latest_second - window_seconds + 1, latest_second


def at_second(second: int) -> datetime:
    return datetime.fromtimestamp(second, tz=UTC)


def over_threshold(errors: int, spec: FastGateSpec) -> bool:
    return errors > spec.max_errors
