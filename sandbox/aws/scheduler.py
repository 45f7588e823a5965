"""EventBridge Scheduler (and EventBridge schedule rules) fire on the sandbox clock, as AWS does.

Patches (moto 5.2.5, installed by sandbox/install.py):

- ``EventBridgeSchedulerBackend.create_schedule`` / ``update_schedule``: validate the expression
  and time zone as AWS does (``ValidationException: Invalid Schedule Expression <expr>.``; the
  wording of the time-zone error is the sandbox's own), and anchor the schedule at the sandbox
  clock's time (a rate schedule without StartDate fires at once, as in AWS).
- ``EventsBackend.put_rule``: a ``ScheduleExpression`` is validated (``Parameter
  ScheduleExpression is not valid.``) and anchored the same way.

Firing (``SCHEDULER``, a thread that sleeps until the next due instant of the sandbox clock, and
wakes at once when the clock is advanced):

- ``at(yyyy-mm-ddThh:mm:ss)`` in ``ScheduleExpressionTimezone`` (default UTC), once. An ``at`` already
  past on the sandbox clock when the schedule is created fires at once: at a time scale above 1 the
  sandbox clock runs ahead of the real clock callers pick times from (AWS not verified here).
- ``rate(N minute[s]|hour[s]|day[s])``, N >= 1 (singular and plural units are both accepted): at
  StartDate (or creation), then every N units; a day is 24 hours, as AWS documents.
- ``cron(min hour day-of-month month day-of-week year)`` in the time zone, with AWS's rules: one of
  day-of-month/day-of-week must be ``?``; day-of-week 1-7 = SUN-SAT or names; ``L`` (last day of
  month; ``nL`` last weekday n of the month), ``nW`` (nearest weekday), ``n#k`` (k-th weekday n).
  Evaluated with croniter on the local wall clock. Daylight saving time as AWS documents: a time
  that does not exist (spring forward) is skipped, a repeated one (fall back) fires once.
  Not supported (rejected as invalid): ``LW``, ``L-n``, ``L`` with a range or step.
- State ``DISABLED`` schedules do not fire (and do not catch up when enabled again); StartDate and
  EndDate bound recurring schedules (AWS ignores them for ``at``).
- FlexibleTimeWindow: ``OFF`` fires at the instant; ``FLEXIBLE`` also fires at the instant (AWS
  picks a random moment inside the window).
- The target: a Lambda function (async invoke with the target's ``Input``, default ``{}``, as the
  event), a state machine (``StartExecution``, generated name, ``Input`` as input) or an SQS queue
  (``SendMessage``). The context attributes ``<aws.scheduler.schedule-arn>``,
  ``<aws.scheduler.scheduled-time>``, ``<aws.scheduler.execution-id>`` and
  ``<aws.scheduler.attempt-number>`` in ``Input`` are replaced, as AWS does. Scheduler calls the
  target as the schedule's role: one whose policies do not allow the call (``lambda:InvokeFunction``,
  ``states:StartExecution``, ``sqs:SendMessage``) is not delivered, and the sandbox logs why. Other targets
  (universal ``aws-sdk`` targets, SNS, ...) are logged and skipped. RetryPolicy and DeadLetterConfig
  are not applied.
- ``ActionAfterCompletion: DELETE``: the schedule is deleted after its last invocation (an ``at``
  schedule after it fired; a recurring one once EndDate leaves no further instant).
- If the clock jumps over several instants, each fires once, in order (at most 1000 per pass).
- Schedule rules (EventBridge rules with ``ScheduleExpression``, UTC, default bus): a "Scheduled
  Event" (source ``aws.events``, ``resources`` = [rule ARN]) goes to the rule's targets at every
  instant after the rule's creation.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..clock import CLOCK
from ..dispatch import DISPATCHER
from .iam import policy

log = logging.getLogger("sandbox.scheduler")

MAX_FIRES_PER_PASS = 1000
_AT = re.compile(r"^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\(([^()]*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
# One item of a cron field: a value or *, an optional range end, an optional step.
_ITEM = r"(?:\*|{v})(?:-(?:{v}))?(?:/\d+)?"


class InvalidExpression(ValueError):
    pass


@dataclass(frozen=True)
class Expression:
    kind: str  # at | rate | cron
    zone: ZoneInfo
    at: float = 0.0  # epoch, for at()
    every: int = 0  # seconds, for rate()
    cron: str = ""  # croniter expression on the local wall clock


def _field(value: str, pattern: str, what: str) -> None:
    item = _ITEM.format(v=pattern)
    if not re.fullmatch(f"{item}(?:,{item})*", value, flags=re.IGNORECASE):
        raise InvalidExpression(f"{what}: {value}")


def _dow_number(token: str) -> int:
    upper = token.upper()
    if upper in _DAYS:
        return _DAYS.index(upper) + 1
    return int(token)


def _convert_dow(field: str) -> str:
    """AWS day-of-week (1-7 = SUN-SAT, nL, n#k) -> croniter (0-6 = SUN-SAT, Ln, n#k)."""
    if field in ("?", "*"):
        return "*"
    parts = []
    for part in field.split(","):
        upper = part.upper()
        if upper == "L":
            parts.append("6")  # the last day of the week: Saturday
        elif m := re.fullmatch(r"([1-7]|[A-Z]{3})L", upper):
            parts.append(f"L{_dow_number(m.group(1)) - 1}")
        elif m := re.fullmatch(r"([1-7]|[A-Z]{3})#([1-5])", upper):
            parts.append(f"{_dow_number(m.group(1)) - 1}#{m.group(2)}")
        elif m := re.fullmatch(r"(\*|[1-7]|[A-Z]{3})(?:-([1-7]|[A-Z]{3}))?(?:/(\d+))?", upper):
            start, end, step = m.groups()
            text = "*" if start == "*" else str(_dow_number(start) - 1)
            if end:
                text += f"-{_dow_number(end) - 1}"
            if step:
                text += f"/{step}"
            parts.append(text)
        else:
            raise InvalidExpression(f"day-of-week: {field}")
    return ",".join(parts)


def _cron(body: str) -> str:
    fields = body.split()
    if len(fields) != 6:
        raise InvalidExpression("cron needs 6 fields")
    minute, hour, dom, month, dow, year = fields
    _field(minute, r"[0-5]?\d", "minutes")
    _field(hour, r"[01]?\d|2[0-3]", "hours")
    _field(month, r"0?[1-9]|1[0-2]|" + "|".join(_MONTHS), "month")
    if year != "*":
        _field(year, r"19[7-9]\d|2[01]\d\d", "year")
    if (dom == "?") == (dow == "?"):
        raise InvalidExpression("exactly one of day-of-month and day-of-week must be ?")
    if dom != "?":
        if dom.upper() != "L" and not re.fullmatch(r"(?:[1-9]|[12]\d|3[01])W", dom, flags=re.IGNORECASE):
            _field(dom, r"0?[1-9]|[12]\d|3[01]", "day-of-month")
        dom_out = dom.upper()
    else:
        dom_out = "*"
    if dow != "?" and not re.fullmatch(
        r"(?:(?:[1-7]|[A-Za-z]{3})(?:L|#[1-5])?|L|\*)(?:-(?:[1-7]|[A-Za-z]{3}))?(?:/\d+)?"
        r"(?:,(?:(?:[1-7]|[A-Za-z]{3})(?:L|#[1-5])?|L|\*)(?:-(?:[1-7]|[A-Za-z]{3}))?(?:/\d+)?)*",
        dow,
    ):
        raise InvalidExpression(f"day-of-week: {dow}")
    names = {d.upper() for d in re.findall(r"[A-Za-z]{3}", dow)}
    if names - set(_DAYS):
        raise InvalidExpression(f"day-of-week: {dow}")
    expression = f"{minute} {hour} {dom_out} {month} {_convert_dow(dow)}"
    if year != "*":
        expression += f" 0 {year}"  # croniter's 7-field form: ... day-of-week second year
    from croniter import croniter

    if not croniter.is_valid(expression):
        raise InvalidExpression(expression)
    return expression


def parse(expression: str | None, timezone: str | None = None) -> Expression:
    """Parse an EventBridge Scheduler expression; raises InvalidExpression (or ZoneInfoNotFoundError)."""
    zone = ZoneInfo(timezone or "UTC")
    text = (expression or "").strip()
    if m := _AT.match(text):
        try:
            year, month, day, hour, minute, second = (int(g) for g in m.groups())
            local = datetime(year, month, day, hour, minute, second)
        except ValueError as error:
            raise InvalidExpression(str(error)) from None
        return Expression("at", zone, at=local.replace(tzinfo=zone).timestamp())
    if m := _RATE.match(text):
        value, unit = int(m.group(1)), m.group(2).rstrip("s")
        if value < 1:
            raise InvalidExpression("rate value")
        return Expression("rate", zone, every=value * _UNIT_SECONDS[unit])
    if m := _CRON.match(text):
        return Expression("cron", zone, cron=_cron(m.group(1)))
    raise InvalidExpression(text)


def _wall_clock_instants(expr: Expression, after: float) -> Any:
    """Instants (epoch) of a cron expression strictly after ``after``, DST handled as AWS does."""
    from croniter import CroniterBadDateError, croniter

    local_after = datetime.fromtimestamp(after, tz=expr.zone).replace(tzinfo=None)
    # start a little earlier on the wall clock: a fall-back hour maps later wall times to earlier instants
    iterator = croniter(expr.cron, local_after - timedelta(hours=3))
    for _ in range(100000):
        try:
            naive = iterator.get_next(datetime)
        except (CroniterBadDateError, StopIteration):
            return
        aware = naive.replace(tzinfo=expr.zone, fold=0)
        back = datetime.fromtimestamp(aware.timestamp(), tz=expr.zone).replace(tzinfo=None)
        if back != naive:
            continue  # does not exist on that day (spring forward): skipped
        instant = aware.timestamp()
        if instant > after:
            yield instant


def next_instant(expr: Expression, after: float, *, first: float) -> float | None:
    """The first instant of ``expr`` strictly after ``after``; a rate schedule starts at ``first``."""
    if expr.kind == "at":
        return expr.at if expr.at > after else None
    if expr.kind == "rate":
        if after < first:
            return first
        return first + (math.floor((after - first) / expr.every) + 1) * expr.every
    for instant in _wall_clock_instants(expr, after):
        return instant
    return None


# --- firing -------------------------------------------------------------------------------------------
@dataclass
class Fired:
    schedule_arn: str
    name: str
    group: str
    scheduled_time: float
    target_arn: str
    payload: Any


def _date(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    try:
        return float(value)
    except ValueError:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_input(text: str | None, *, schedule_arn: str, scheduled_time: float) -> str:
    body = text if text is not None else "{}"
    for key, value in {
        "<aws.scheduler.schedule-arn>": schedule_arn,
        "<aws.scheduler.scheduled-time>": _iso(scheduled_time),
        "<aws.scheduler.execution-id>": str(uuid.uuid4()),
        "<aws.scheduler.attempt-number>": "1",
    }.items():
        body = body.replace(key, value)
    return body


# What the schedule's role must allow for each kind of target (Scheduler calls it as that role).
TARGET_ACTIONS = {"lambda": "lambda:InvokeFunction", "states": "states:StartExecution", "sqs": "sqs:SendMessage"}


def invoke_target(target: dict[str, Any], payload: str, label: str) -> None:
    from .events import delivery

    arn = str(target.get("Arn", ""))
    parts = arn.split(":")
    if len(parts) < 6:
        log.warning("%s: target %s is not supported by the sandbox", label, arn)
        return
    service, region, account = parts[2], parts[3], parts[4]
    action = TARGET_ACTIONS.get(service)
    role = str(target.get("RoleArn", ""))
    if action and not policy.service_may(role, action, arn):
        log.warning("%s: not delivered: the schedule's role %s may not %s on %s", label, role, action, arn)
        return
    if service == "lambda":
        delivery.deliver("lambda", arn, payload, account, region, label)
    elif service == "states":
        delivery.deliver("states", arn, payload, account, region, label)
    elif service == "sqs":
        from moto.sqs.models import sqs_backends

        DISPATCHER.submit(
            label,
            lambda: sqs_backends[account][region].send_message(queue_name=parts[5], message_body=payload),
        )
    else:
        log.warning("%s: target %s is not supported by the sandbox", label, arn)


class Scheduler:
    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        self.fired: list[Fired] = []  # every schedule invocation, for tests and the demo

    def start(self) -> None:
        self.stop()
        self.fired = []
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sandbox-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                until = self.run_due()
            except Exception:  # noqa: BLE001
                log.exception("scheduler pass failed")
                until = math.inf
            self._wake.wait(min(0.5, max(0.005, CLOCK.real_seconds(until) + 0.001)))
            self._wake.clear()

    # one pass over every schedule and schedule rule --------------------------------------------------
    def run_due(self) -> float:
        """Fire everything due on the sandbox clock; returns sandbox seconds until the next instant."""
        with self._lock:
            now = CLOCK.now()
            soonest = math.inf
            for backend in _backends("scheduler"):
                for group in list(backend.schedule_groups.values()):
                    for schedule in list(group.schedules.values()):
                        soonest = min(soonest, self._schedule(backend, schedule, now) - now)
            for backend in _backends("events"):
                for bus in list(backend.event_buses.values()):
                    for rule in list(bus.rules.values()):
                        if rule.scheduled_expression:
                            soonest = min(soonest, self._rule(backend, rule, now) - now)
            return soonest

    def _schedule(self, backend: Any, schedule: Any, now: float) -> float:
        try:
            expr = parse(schedule.schedule_expression, schedule.schedule_expression_timezone)
        except (InvalidExpression, ZoneInfoNotFoundError, ValueError):
            return math.inf
        anchor = getattr(schedule, "_sandbox_anchor", None)
        if anchor is None:
            anchor = schedule._sandbox_anchor = now
        start = _date(schedule.start_date) if expr.kind != "at" else None
        end = _date(schedule.end_date) if expr.kind != "at" else None
        cursor = getattr(schedule, "_sandbox_cursor", None)
        if cursor is None:  # instants up to the cursor are done: a rate without StartDate fires at creation
            cursor = anchor - 1e-3 if expr.kind == "rate" and start is None else anchor
            if expr.kind == "at":
                # The sandbox clock runs ahead of real time at a time scale > 1, while callers pick
                # `at` from the real clock: a time already passed on the sandbox clock fires at once.
                cursor = min(cursor, expr.at - 1e-3)
        first = start if start is not None else anchor
        label = f"schedule {schedule.group_name}/{schedule.name}"
        fired = 0
        while fired < MAX_FIRES_PER_PASS:
            low = cursor if start is None else max(cursor, start - 1e-3)
            instant = next_instant(expr, low, first=first)
            if instant is None or (end is not None and instant > end):
                schedule._sandbox_cursor = max(cursor, now)
                if fired and schedule.action_after_completion == "DELETE":
                    self._delete(backend, schedule)
                return math.inf
            if instant > now:
                schedule._sandbox_cursor = cursor
                return instant
            cursor = schedule._sandbox_cursor = instant
            if schedule.state == "DISABLED":
                continue
            payload = render_input(schedule.target.get("Input"), schedule_arn=schedule.arn, scheduled_time=instant)
            self.fired.append(
                Fired(schedule.arn, schedule.name, schedule.group_name, instant, schedule.target["Arn"], payload)
            )
            invoke_target(schedule.target, payload, label)
            fired += 1
        return now

    def _delete(self, backend: Any, schedule: Any) -> None:
        with contextlib.suppress(Exception):  # deleted meanwhile
            backend.delete_schedule(schedule.group_name, schedule.name)

    def _rule(self, backend: Any, rule: Any, now: float) -> float:
        try:
            expr = parse(rule.scheduled_expression, "UTC")
        except (InvalidExpression, ValueError):
            return math.inf
        anchor = getattr(rule, "_sandbox_anchor", None)
        if anchor is None:
            anchor = rule._sandbox_anchor = now
        cursor = getattr(rule, "_sandbox_cursor", None) or anchor
        fired = 0
        while fired < MAX_FIRES_PER_PASS:
            instant = next_instant(expr, cursor, first=anchor + expr.every)
            if instant is None:
                rule._sandbox_cursor = now
                return math.inf
            if instant > now:
                rule._sandbox_cursor = cursor
                return instant
            cursor = rule._sandbox_cursor = instant
            if rule.state == "DISABLED":
                continue
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": rule.account_id,
                "time": instant,
                "region": rule.region_name,
                "resources": [rule.arn],
                "detail": {},
                "ingestion-time": instant,
            }
            rule.send_to_targets(event)
            fired += 1
        return now


def _backends(service: str) -> list[Any]:
    if service == "scheduler":
        from moto.scheduler.models import scheduler_backends as backends
    else:
        from moto.events.models import events_backends as backends  # type: ignore[assignment]  # both are BackendDicts
    found = []
    for _, regions in list(backends.items()):
        for _, backend in list(regions.items()):
            found.append(backend)
    return found


SCHEDULER = Scheduler()


# --- the patches -------------------------------------------------------------------------------------------
def _anchor(schedule: Any) -> None:
    schedule._sandbox_anchor = CLOCK.now()
    schedule._sandbox_cursor = None


def validate(expression: str | None, timezone: str | None) -> None:
    from moto.scheduler.exceptions import ValidationException

    try:
        ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationException(f"Invalid ScheduleExpressionTimezone {timezone}.") from None
    try:
        parse(expression, timezone)
    except (InvalidExpression, ValueError):
        raise ValidationException(f"Invalid Schedule Expression {expression}.") from None


def fire_schedules() -> None:
    """EventBridge Scheduler schedules and EventBridge schedule rules fire on the sandbox clock, their
    expressions validated as AWS validates them (see the module's docstring).
    https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html"""
    from moto.events import models as events_models
    from moto.scheduler import models as scheduler_models

    backend_class = scheduler_models.EventBridgeSchedulerBackend
    original_create = backend_class.create_schedule
    original_update = backend_class.update_schedule

    def create_schedule(self: Any, *args: Any, **kwargs: Any) -> Any:
        validate(kwargs.get("schedule_expression"), kwargs.get("schedule_expression_timezone"))
        schedule = original_create(self, *args, **kwargs)
        _anchor(schedule)
        SCHEDULER.wake()
        return schedule

    def update_schedule(self: Any, *args: Any, **kwargs: Any) -> Any:
        validate(kwargs.get("schedule_expression"), kwargs.get("schedule_expression_timezone"))
        schedule = original_update(self, *args, **kwargs)
        _anchor(schedule)
        SCHEDULER.wake()
        return schedule

    backend_class.create_schedule = create_schedule
    backend_class.update_schedule = update_schedule

    original_put_rule = events_models.EventsBackend.put_rule

    def put_rule(self: Any, name: str, **kwargs: Any) -> Any:
        expression = kwargs.get("scheduled_expression")
        if expression:
            try:
                parse(expression, "UTC")
                if expression.startswith("at("):
                    raise InvalidExpression(expression)
            except (InvalidExpression, ValueError):
                raise events_models.ValidationException("Parameter ScheduleExpression is not valid.") from None
        rule = original_put_rule(self, name, **kwargs)
        if expression:
            rule._sandbox_anchor = CLOCK.now()  # type: ignore[attr-defined]  # the schedule's own state, kept on moto's rule
            rule._sandbox_cursor = None  # type: ignore[attr-defined]
            SCHEDULER.wake()
        return rule

    events_models.EventsBackend.put_rule = put_rule  # type: ignore[assignment]  # same call, keyword arguments passed on
