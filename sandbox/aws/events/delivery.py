"""EventBridge: rules deliver to their targets as AWS delivers, and callers cannot forge AWS's events.

The one patch of ``Rule.send_to_targets`` (``deliver_to_targets``) matches the event with moto's
own ``EventPattern``, skips a rule whose State is DISABLED (moto delivered for disabled rules too),
and delivers by the target's kind:

- a Lambda function: invoked asynchronously (``InvocationType=Event``) through the Lambda backend,
  so alias routing, metrics and the function's real code apply, on a delivery worker
  (sandbox/dispatch.py): ``PutEvents``/``SetAlarmState`` return before the function runs;
- a state machine: ``StartExecution`` with a generated name and the event as input, on a worker;
- an SNS topic: published on a worker, if the topic's KMS key lets EventBridge use it
  (sandbox/aws/events/topics.py);
- an event bus in another account or region: the event as AWS forwards it, same ``id``,
  ``account`` (the source account), ``time``, ``resources`` and ``detail`` (moto re-put it as a new
  event of the receiving account and dropped ``resources``, so a listener could not tell where an
  alarm came from);
- anything else (SQS, logs, buses of this account, archives): moto's own code.

Each target receives the whole event (``version, id, detail-type, source, account, time, region,
resources, detail``, ``time`` as ``YYYY-MM-DDTHH:MM:SSZ``), or its ``Input``, or the part its
``InputPath`` selects, or its ``InputTransformer`` output
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html).

A Lambda target whose resource policy does not let events.amazonaws.com invoke it for the rule is
not invoked (AWS counts a failed invocation), and the sandbox logs why.

Not modelled: the target's RetryPolicy and dead-letter queue (a failed delivery is logged, not
retried), and the target's RoleArn.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import uuid
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from ...dispatch import DISPATCHER
from ..awslambda.invoke import INLINE
from ..awslambda.permissions import service_may_invoke
from .topics import publish_to_topic

log = logging.getLogger("sandbox.events")


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
        source: Any = dict(event, **{"ingestion-time": moto_event.get("ingestion-time")})  # moto's event shape
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=source,
        )
    return event


# --- delivery by the target's kind ------------------------------------------------------------------
def invoke_async(function_arn: str, payload: Any, account_id: str, region: str) -> None:
    """Lambda ``Invoke`` with ``InvocationType=Event``, through the backend (routing and metrics apply)."""
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[account_id][region]
    body = payload if isinstance(payload, str) else json.dumps(payload)
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


def target_kind(target: dict[str, Any], account: str, region: str) -> str | None:
    """``lambda``, ``states``, ``sns`` or ``bus`` (another account's or region's), else None (moto's)."""
    parts = str(target.get("Arn", "")).split(":")
    if len(parts) < 6:
        return None
    service, resource = parts[2], parts[5]
    if service == "lambda" and resource == "function":
        return "lambda"
    if service == "states" and resource == "stateMachine":
        return "states"
    if service == "sns" and len(parts) == 6:
        return "sns"
    if service == "events" and resource.startswith("event-bus/") and (parts[4], parts[3]) != (account, region):
        return "bus"
    return None


def forward_to_bus(bus_arn: str, original_event: Any) -> None:
    """The event on a bus in another account or region, as AWS forwards it (same id, account, time)."""
    from moto.core.utils import unix_time
    from moto.events.models import events_backends

    parts = bus_arn.split(":")
    bus = events_backends[parts[4]][parts[3]].event_buses.get(parts[5].split("/", 1)[1])
    if bus is None:
        return  # AWS drops it too (and counts a failed invocation)
    event = copy.deepcopy(original_event)
    event["ingestion-time"] = unix_time()
    for rule in list(bus.rules.values()):
        rule.send_to_targets(event)


def rule_may_invoke(rule: Any, function_arn: str, account: str, region: str) -> bool:
    """A Lambda target is invoked only if its resource policy lets events.amazonaws.com invoke it
    for this rule (SAM's EventBridgeRule event adds that permission; by hand, lambda:AddPermission).
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-lambda-permissions"""
    from moto.awslambda.utils import get_backend

    try:
        function = get_backend(account, region).get_function(function_arn)
    except Exception:  # noqa: BLE001 - no such function: the delivery fails and is logged as before
        return True
    return service_may_invoke(function, "events", rule.arn, rule.account_id)


def deliver_to_targets() -> None:
    """moto raised ``NotImplementedError`` for Lambda and Step Functions targets, delivered for
    disabled rules, and re-put forwarded events as new ones: deliver as described above.
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-targets.html"""
    from moto.events import models as events_models

    original = events_models.Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if self.state == "DISABLED" or not self.event_pattern.matches_event(original_event):
            return
        kinds = {id(t): target_kind(t, self.account_id, self.region_name) for t in self.targets}
        others = [t for t in self.targets if kinds[id(t)] is None]
        if others:
            view = copy.copy(self)  # moto's code iterates self.targets: give it the rest only
            view.targets = others
            original(view, original_event, transform_input)
        event = aws_event(original_event, self.account_id)
        for target in self.targets:
            kind, arn = kinds[id(target)], target.get("Arn", "")
            if kind is None:
                continue
            if kind == "bus":
                forward_to_bus(arn, original_event)
                continue
            payload = target_input(target, event, original_event) if transform_input else event
            label = f"rule {self.name} -> {arn}"
            region = arn.split(":")[3] or self.region_name
            account = arn.split(":")[4] or self.account_id
            if kind == "sns":
                DISPATCHER.submit(label, functools.partial(publish_to_topic, arn, payload))
            elif kind == "lambda" and not rule_may_invoke(self, arn, account, region):
                log.warning("%s: not delivered: the function's resource policy does not allow EventBridge", label)
            else:
                deliver(kind, arn, payload, account, region, label)

    events_models.Rule.send_to_targets = send_to_targets


# --- PutEvents from callers: the aws.* sources are reserved -----------------------------------------
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


def refuse_reserved_sources() -> None:
    """EventBridge reserves the ``aws.`` sources for AWS services. A caller's PutEvents entry with such
    a source fails on its own, with ``{"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage":
    "Not authorized for the source."}`` and ``FailedEntryCount`` counting it, while the other entries
    go through. moto accepted them, so anyone could forge a "CloudWatch Alarm State Change" and roll
    a promotion back. The sandbox's own service events (``put_event``: alarms, schedules) go to the
    backend directly.
    https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html,
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events.html"""
    from moto.events.responses import EventsHandler

    def put_events(self: Any) -> str:
        entries = put_events_as_a_caller(self.events_backend, self._get_param("Entries") or [])
        failed = sum(1 for entry in entries if "ErrorCode" in entry)
        return json.dumps({"FailedEntryCount": failed, "Entries": entries})

    EventsHandler.put_events = put_events


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
