"""EventBridge delivers to Lambda and Step Functions targets, as AWS does (DESIGN.md §7.5).

Patches (moto 5.2.5, applied once by ``engine.apply()``):

- ``moto.events.models.Rule.send_to_targets``: moto raises ``NotImplementedError`` for a target that
  is a Lambda function or a state machine. The patched method matches the event with moto's own
  ``EventPattern``, skips a rule whose State is DISABLED (moto delivers for disabled rules too),
  hands Lambda and Step Functions targets to ``DISPATCHER`` and leaves every other target (SQS,
  logs, buses, archives, API destinations) to moto's original code. This covers the default bus,
  custom buses, rules made by CloudFormation (template.yaml) and rules made through the API, in
  ``mock_aws`` and in server mode alike.

Delivery, as AWS does it:

- the target receives the whole event (``version, id, detail-type, source, account, time, region,
  resources, detail``, ``time`` as ``YYYY-MM-DDTHH:MM:SSZ``), or the target's ``Input`` (constant
  JSON), or the part of the event its ``InputPath`` selects, or its ``InputTransformer`` output;
- a Lambda target is invoked asynchronously (``InvocationType=Event``) through the Lambda backend,
  so alias routing, metrics and the function's real code (sandbox/runner.py) apply, on a worker
  thread: ``PutEvents``/``SetAlarmState`` return before the function runs;
- a Step Functions target gets ``StartExecution`` with a generated name (a uuid) and the event as
  input, on a worker thread too.

- ``moto.events.responses.EventsHandler.put_events``: EventBridge reserves the ``aws.`` sources for
  AWS services. A caller's PutEvents entry with such a source fails on its own, with the entry
  ``{"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": "Not authorized for the
  source."}`` and ``FailedEntryCount`` counting it, while the other entries go through
  (``PutEventsResultEntry``, https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html;
  "Amazon EventBridge events", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events.html).
  moto accepts them, so anyone could forge a "CloudWatch Alarm State Change" and roll a
  promotion back. The sandbox's own service events (``put_event`` below: alarms, schedules) go to
  the backend directly and are delivered as before.

Not modelled: the target's RetryPolicy and dead-letter queue (a failed delivery is logged, not
retried), the resource policy check (AWS needs ``lambda:AddPermission`` for events.amazonaws.com;
the sandbox delivers without it), and the target's RoleArn.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("sandbox.eventbus")


class Dispatcher:
    """Background work (async invokes, executions) that ``stop()`` cancels and waits for.

    Lambda's asynchronous invocations run on these threads, never on the caller's.
    """

    def __init__(self, workers: int = 4) -> None:
        self._workers = workers
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: set[Future] = set()
        self.errors: list[tuple[str, BaseException]] = []

    def start(self) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="sandbox-delivery")

    @property
    def running(self) -> bool:
        return self._pool is not None

    def submit(self, label: str, work: Callable[[], Any]) -> Future | None:
        with self._lock:
            if self._pool is None:
                log.warning("sandbox stopped: dropped %s", label)
                return None

            def run() -> Any:
                try:
                    return work()
                except Exception as error:  # noqa: BLE001 - delivery failures are logged, as in AWS
                    log.warning("delivery failed: %s: %s", label, error)
                    self.errors.append((label, error))
                    return None

            future = self._pool.submit(run)
            self._pending.add(future)
            future.add_done_callback(self._pending.discard)
            return future

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until no delivery is queued or running (for tests); True if it got there."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._pending:
                return True
            time.sleep(0.01)
        return not self._pending

    def stop(self, timeout: float = 30.0) -> None:
        """Drop what is queued, wait for what runs: nothing fires into a stopped mock."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            self.drain(timeout)
        self._pending.clear()
        self.errors.clear()


DISPATCHER = Dispatcher()


# --- the event a target receives --------------------------------------------------------------------
def iso_time(value: Any) -> str:
    """EventBridge's ``time``: ``2026-11-20T10:00:00Z``."""
    if isinstance(value, int | float):
        moment = datetime.fromtimestamp(float(value), tz=UTC)
    elif isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        return str(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def aws_event(moto_event: dict[str, Any], account_id: str) -> dict[str, Any]:
    """moto's internal event message as AWS delivers it to a target."""
    return {
        "version": "0",
        "id": moto_event.get("id") or str(uuid.uuid4()),
        "detail-type": moto_event.get("detail-type"),
        "source": moto_event.get("source"),
        "account": moto_event.get("account") or account_id,
        "time": iso_time(moto_event.get("time")),
        "region": moto_event.get("region"),
        "resources": list(moto_event.get("resources") or []),
        "detail": moto_event.get("detail", {}),
    }


def target_input(target: dict[str, Any], event: dict[str, Any], moto_event: dict[str, Any]) -> Any:
    """What the target receives: Input, InputPath, InputTransformer, else the event."""
    if target.get("Input") is not None:
        return json.loads(target["Input"])
    if target.get("InputPath"):
        from jsonpath_ng.ext import parse

        matches = parse(target["InputPath"]).find(event)
        return matches[0].value if matches else None
    if target.get("InputTransformer"):
        from moto.events.utils import EventTemplateParser

        transformer = target["InputTransformer"]
        source = dict(event, **{"ingestion-time": moto_event.get("ingestion-time")})
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=source,
        )
    return event


# --- delivery to Lambda and Step Functions ------------------------------------------------------------
def invoke_async(function_arn: str, payload: Any, account_id: str, region: str) -> None:
    """Lambda ``Invoke`` with ``InvocationType=Event``, through the backend (routing and metrics apply)."""
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[account_id][region]
    body = payload if isinstance(payload, str) else json.dumps(payload)
    from .lambda_metrics import INLINE

    # already on a worker thread: run it here (the invoke patch would queue an Event invoke again)
    backend.invoke(function_arn, None, body, {"x-amz-invocation-type": "Event", INLINE: "1"}, {})


def start_execution(state_machine_arn: str, payload: Any, account_id: str, region: str) -> str:
    from moto.stepfunctions import responses as sfn_responses

    backend = sfn_responses.get_backend(account_id, region)
    body = payload if isinstance(payload, str) else json.dumps(payload)
    execution = backend.start_execution(state_machine_arn, str(uuid.uuid4()), body)
    return execution.execution_arn


def deliver(service: str, arn: str, payload: Any, account_id: str, region: str, label: str) -> Future | None:
    """Queue one delivery to a Lambda function or a state machine (``service`` lambda|states)."""
    if service == "lambda":
        return DISPATCHER.submit(label, lambda: invoke_async(arn, payload, account_id, region))
    return DISPATCHER.submit(label, lambda: start_execution(arn, payload, account_id, region))


def _is_ours(target: dict[str, Any]) -> str | None:
    arn = str(target.get("Arn", ""))
    parts = arn.split(":")
    if len(parts) > 5 and parts[2] == "lambda" and parts[5] == "function":
        return "lambda"
    if len(parts) > 5 and parts[2] == "states" and parts[5] == "stateMachine":
        return "states"
    return None


# --- PutEvents from callers: the aws.* sources are reserved --------------------------------------------
RESERVED_SOURCE_PREFIX = "aws."
NOT_AUTHORIZED_FOR_SOURCE = {
    "ErrorCode": "NotAuthorizedForSourceException",
    "ErrorMessage": "Not authorized for the source.",
}


def put_events_as_a_caller(backend: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """PutEvents' result entries, in request order: reserved sources refused, the rest put."""
    allowed = [e for e in entries if not str(e.get("Source") or "").startswith(RESERVED_SOURCE_PREFIX)]
    results = iter(backend.put_events(allowed) if allowed else [])
    return [
        dict(NOT_AUTHORIZED_FOR_SOURCE) if str(e.get("Source") or "").startswith(RESERVED_SOURCE_PREFIX)
        else next(results)
        for e in entries
    ]  # fmt: skip


def _refuse_reserved_sources() -> None:
    from moto.events.responses import EventsHandler

    def put_events(self: Any) -> str:
        entries = put_events_as_a_caller(self.events_backend, self._get_param("Entries") or [])
        failed = sum(1 for entry in entries if "ErrorCode" in entry)
        return json.dumps({"FailedEntryCount": failed, "Entries": entries})

    EventsHandler.put_events = put_events


# --- the patch ----------------------------------------------------------------------------------------
def apply() -> None:
    from moto.events import models as events_models

    _refuse_reserved_sources()

    original = events_models.Rule.send_to_targets

    def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
        if self.state == "DISABLED" or not self.event_pattern.matches_event(original_event):
            return
        ours = [t for t in self.targets if _is_ours(t)]
        others = [t for t in self.targets if not _is_ours(t)]
        if others:
            view = copy.copy(self)  # moto's code iterates self.targets: give it the rest only
            view.targets = others
            original(view, original_event, transform_input)
        if not ours:
            return
        event = aws_event(original_event, self.account_id)
        for target in ours:
            service = _is_ours(target)
            arn = target["Arn"]
            payload = target_input(target, event, original_event) if transform_input else event
            region = arn.split(":")[3] or self.region_name
            account = arn.split(":")[4] or self.account_id
            deliver(service, arn, payload, account, region, f"rule {self.name} -> {arn}")  # type: ignore[arg-type]

    events_models.Rule.send_to_targets = send_to_targets


def put_event(
    account_id: str,
    region: str,
    *,
    source: str,
    detail_type: str,
    detail: dict[str, Any],
    resources: list[str] | None = None,
    bus: str = "default",
    time: float | None = None,
) -> None:
    """Put an event on a bus as an AWS service does (rules route it; no PutEvents validation)."""
    from moto.events.models import events_backends

    entry: dict[str, Any] = {
        "Source": source,
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
        "Resources": resources or [],
        "EventBusName": bus,
    }
    if time is not None:
        entry["Time"] = time
    events_backends[account_id][region].put_events([entry])
