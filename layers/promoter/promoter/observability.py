"""What the control plane tells about itself: logs, metrics and traces, built once per process.

- **Log keys.** Every log line written while a promotion is handled carries ``promotion_id`` and
  its target (``target_function_arn``, ``target_alias``; ``function_arn`` is Powertools' key for
  the Lambda function that logs). The keys are the invocation's own (Powertools'
  thread-safe keys live in a ContextVar), so concurrent invocations in one process never share
  them. The protocol binds them whenever it reads or writes a record (``bound``, ``written``).
- **Metrics** (CloudWatch EMF on stdout, namespace ``POWERTOOLS_METRICS_NAMESPACE``): one EMF
  document per data point with its own dimensions, flushed at once, so nothing is shared between
  invocations and no handler has to flush a metric set it did not fill.

  ``PromotionsStarted``; ``PromotionsFinished`` by ``Status`` and by ``Status`` and ``Cause``
  (``cause_of``), once per promotion, by whoever made the record final; ``RollbackLatency`` (ms
  from the alarm's state change to the listener's alias write back to stable); ``StepDuration``
  (seconds a traffic step held, pauses excluded).
- **Traces** (X-Ray, ``Tracing: Active``): ``tracer`` builds Powertools' ``Tracer`` (which imports
  aws_xray_sdk and patches botocore) only when tracing is on; with it off, its decorators hand the
  function back untouched and X-Ray is never imported (bench.import_time prints both costs).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from aws_lambda_powertools.shared.functions import strtobool

from . import clock
from .errors import AlarmFired, HookFailed, PromoterError
from .models import Ending, Promotion, Status

# The service on every line and every metric. Named here, not read from POWERTOOLS_SERVICE_NAME when
# the module is imported: a process may import the layer before any function's environment is set.
SERVICE = "lambda-promoter"
DEFAULT_NAMESPACE = "LambdaPromoter"  # the template sets POWERTOOLS_METRICS_NAMESPACE to the same
CAUSES = ("alarm", "hook", "abort", "drift", "error", "none")
LOG_KEYS = ("promotion_id", "target_function_arn", "target_alias")
_KNOWN_TARGETS = 512  # promotion id -> target, for lines logged after the record was read


class _Stdout:
    """Whatever ``sys.stdout`` is when a line is written (a test or a local runner may replace it)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


F = TypeVar("F", bound=Callable[..., Any])


def tracing_on() -> bool:
    """Powertools' own rule (Tracer._is_tracer_disabled): off when POWERTOOLS_TRACE_DISABLED is
    true, outside Lambda (no LAMBDA_TASK_ROOT), and under SAM local or Chalice."""
    if strtobool(os.getenv("POWERTOOLS_TRACE_DISABLED", "false")):
        return False
    return bool(os.getenv("LAMBDA_TASK_ROOT")) and not (os.getenv("AWS_SAM_LOCAL") or os.getenv("AWS_CHALICE_CLI_MODE"))


class LazyTracer:
    """Powertools' ``Tracer``, built the first time it is used, and only then: a disabled Tracer
    still imports aws_xray_sdk (150-180 ms of every cold start) to switch the SDK off.

    With tracing on, decorating a handler builds the Tracer at once (at import, as before: X-Ray
    patches botocore before any client is made) and the decorator is Powertools'. With it off the
    decorators return the function itself. Any other attribute (``put_annotation``, ``provider``...)
    is the real Tracer's, built on demand."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._tracer: Tracer | None = None
        self._lock = threading.Lock()

    def get(self) -> Tracer:
        with self._lock:
            if self._tracer is None:
                self._tracer = Tracer(service=self._service)
            return self._tracer

    def capture_lambda_handler(
        self, lambda_handler: F | None = None, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> Any:
        if lambda_handler is None:  # used as @tracer.capture_lambda_handler(capture_response=False)
            return functools.partial(
                self.capture_lambda_handler, capture_response=capture_response, capture_error=capture_error
            )
        if not tracing_on():
            return lambda_handler
        return self.get().capture_lambda_handler(
            lambda_handler, capture_response=capture_response, capture_error=capture_error
        )

    def capture_method(
        self, method: F | None = None, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> Any:
        if method is None:
            return functools.partial(
                self.capture_method, capture_response=capture_response, capture_error=capture_error
            )
        if not tracing_on():
            return method
        # Powertools takes the method and its options together at run time; its overloads do not say so.
        return self.get().capture_method(  # type: ignore[call-overload]
            method, capture_response=capture_response, capture_error=capture_error
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


logger = Logger(service=SERVICE, stream=_Stdout())  # type: ignore[arg-type]
tracer = LazyTracer(SERVICE)
_targets: OrderedDict[str, tuple[str, str]] = OrderedDict()
_targets_lock = threading.Lock()  # invocations may run on several threads of one process


# --- log keys ----------------------------------------------------------------------------------
def bind(promotion_id: str, function_arn: str | None = None, alias: str | None = None) -> None:
    """Put the promotion's keys on every later log line of this invocation."""
    if function_arn is None:
        with _targets_lock:
            function_arn, alias = _targets.get(promotion_id, (None, None))
    keys = dict(zip(LOG_KEYS, (promotion_id, function_arn, alias), strict=True))
    logger.thread_safe_clear_keys()  # a key left from another promotion would mislabel the line
    logger.thread_safe_append_keys(**{k: v for k, v in keys.items() if v is not None})


def bound(promotion: Promotion) -> Promotion:
    """``bind`` a record's keys (and remember its target); returns the record."""
    with _targets_lock:
        _targets[promotion.id] = (promotion.function_arn, promotion.alias)
        _targets.move_to_end(promotion.id)
        while len(_targets) > _KNOWN_TARGETS:
            _targets.popitem(last=False)
    bind(promotion.id, promotion.function_arn, promotion.alias)
    return promotion


def unbind() -> None:
    logger.thread_safe_clear_keys()


@contextmanager
def keys_of(promotion_id: str) -> Iterator[None]:
    """The lines logged in the block carry ``promotion_id`` (and its target, if it was read)."""
    bind(promotion_id)
    try:
        yield
    finally:
        unbind()


def handler(name: str) -> Callable[[F], F]:
    """For a Lambda handler whose event names a promotion: its keys on every line, one line for
    the outcome. A refusal of the protocol (a ``PromoterError``, e.g. the promotion ended) is a
    warning: the workflow catches it by name. Anything else is logged with its traceback."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def run(event: Any, context: Any) -> Any:
            promotion_id = getattr(event, "promotion_id", None)
            if promotion_id is None and isinstance(event, dict):
                promotion_id = event.get("promotion_id")
            if promotion_id:
                bind(str(promotion_id))
            else:
                unbind()
            try:
                result = fn(event, context)
            except PromoterError as error:
                logger.warning(f"{name}: {type(error).__name__}", extra={"error": error.message})
                raise
            except Exception:
                logger.exception(f"{name} failed")
                raise
            else:
                logger.info(f"{name} done", extra={"result": result})
                return result
            finally:
                unbind()

        return run  # type: ignore[return-value]

    return wrap


# --- metrics -----------------------------------------------------------------------------------
def emit(
    name: str,
    unit: MetricUnit,
    value: float,
    dimensions: dict[str, str] | None = None,
    more_dimension_sets: list[dict[str, str]] | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """One EMF document for one data point (its own provider: nothing shared across threads)."""
    # the service on every dimension set (Powertools adds it to the first set only); the namespace
    # from POWERTOOLS_METRICS_NAMESPACE
    metric = AmazonCloudWatchEMFProvider(service=SERVICE, default_dimensions={"service": SERVICE})
    metric.namespace = metric.namespace or DEFAULT_NAMESPACE
    metric.add_metric(name=name, unit=unit, value=value)
    for key, dimension in (dimensions or {}).items():
        metric.add_dimension(name=key, value=dimension)
    for dimension_set in more_dimension_sets or []:
        metric.add_dimensions(**dimension_set)
    for key, item in (metadata or {}).items():
        metric.add_metadata(key=key, value=item)
    metric.flush_metrics()


def cause_of(ending: Ending | None) -> str:
    """Why a promotion ended, from its recorded ``Ending``: one of ``CAUSES``.

    A workflow rollback records the Catch's error as ``"<ErrorName>: <cause>"`` (tasks.error_of),
    so a failed gate is ``AlarmFired: ...`` and a failed hook ``HookFailed: ...``; the alarm
    listener ends as ``alarm:<name>``.
    """
    if ending is None:
        return "error"  # ended with no recorded cause
    if ending.status is Status.SUCCEEDED:
        return "none"
    if ending.leave_alias:
        return "drift"
    if ending.status is Status.ABORTED:
        return "abort"
    if ending.actor.startswith("alarm:") or ending.reason.startswith(AlarmFired.__name__):
        return "alarm"
    if ending.reason.startswith(HookFailed.__name__):
        return "hook"
    return "error"


def started(promotion: Promotion) -> None:
    """The workflow of ``promotion`` was started."""
    bound(promotion)
    emit("PromotionsStarted", MetricUnit.Count, 1, metadata={"promotion_id": promotion.id})


def written(promotion: Promotion, before: Status) -> Promotion:
    """A record write landed; when it made the record final, the promotion finished (once: the
    final write is conditional). Returns the record."""
    bound(promotion)
    if promotion.status.is_final and not before.is_final:
        status, cause = promotion.status.value, cause_of(promotion.ending)
        emit(
            "PromotionsFinished",
            MetricUnit.Count,
            1,
            dimensions={"Status": status},
            more_dimension_sets=[{"Status": status, "Cause": cause}],
            metadata={"promotion_id": promotion.id},
        )
    return promotion


def rolled_back_by_alarm(promotion: Promotion, actor: str, changed_at: datetime | None) -> None:
    """The listener's write back to stable landed: how long after the alarm changed state."""
    ending = promotion.ending
    on_stable = promotion.confirmed_alias is not None and promotion.confirmed_alias.same_routing(
        promotion.stable_version, {}
    )
    if changed_at is None or ending is None or ending.actor != actor or ending.leave_alias or not on_stable:
        return  # someone else ended it, or drift kept another alias state: not this rollback
    latency_ms = max(0.0, (clock.now() - changed_at).total_seconds() * 1000.0)
    emit("RollbackLatency", MetricUnit.Milliseconds, round(latency_ms, 1), metadata={"promotion_id": promotion.id})
    logger.info("rolled back on alarm", extra={"rollback_latency_ms": round(latency_ms, 1)})


def step_held(promotion: Promotion, step: int, move: str) -> None:
    """A check let a traffic step go: the seconds it held (pauses excluded, as recorded)."""
    if move not in ("next", "post_traffic") or not 0 <= step < len(promotion.steps):
        return
    record = promotion.steps[step]
    emit(
        "StepDuration",
        MetricUnit.Seconds,
        record.baked_seconds,
        metadata={"promotion_id": promotion.id, "step": step, "weight": record.weight},
    )
