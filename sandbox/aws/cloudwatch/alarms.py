"""CloudWatch metric alarms that evaluate their metric and announce state changes, as AWS does.

Patches (moto 5.2.5, installed by sandbox/install.py):

- ``CloudWatchBackend.put_metric_data``: a datum without ``Timestamp`` gets the sandbox clock's
  time (sandbox/clock.py) instead of the real one, and aware timestamps are stored as naive UTC as
  moto's parser stores them; every datum is also indexed by metric
  (namespace, name, exact dimension set) for the evaluator, and its arrival triggers evaluation of
  the alarms on that metric.
- ``CloudWatchBackend.put_metric_alarm``: a new alarm starts in ``INSUFFICIENT_DATA`` ("Unchecked:
  Initial alarm creation") as in AWS (moto starts it in ``OK``); updating an existing alarm keeps
  its state, as AWS does (moto resets it). Either way the alarm is evaluated at once.
- ``CloudWatchBackend.set_alarm_state``: the state set by hand sticks until new data arrives for
  the alarm's metric (see "manual states" below).
- ``CloudWatchBackend.get_metric_statistics``: a datum counts only if its dimension set equals the
  requested one, as in AWS (moto also counted data with more dimensions, so ``{FunctionName}``
  summed the ``Resource`` and ``ExecutedVersion`` series too).
- ``Alarm.update_state``: when the state value really changes (``OK -> ALARM``, not ``ALARM ->
  ALARM``), put a "CloudWatch Alarm State Change" event (source ``aws.cloudwatch``) on the default
  bus of the alarm's account and region, with AWS's detail: ``alarmName``, ``state`` and
  ``previousState`` (``value, reason, reasonData, timestamp``), ``configuration`` (``description``,
  ``metrics[].metricStat{metric{namespace,name,dimensions},period,stat}``) and ``resources =
  [alarm ARN]``. Rules route it like any event (sandbox/aws/events/delivery.py). The state timestamp is the
  sandbox clock's.

Evaluation (``evaluate()``, a pure function; ``EVALUATOR`` runs it):

- Periods are aligned to multiples of ``Period`` on the sandbox clock. The evaluation range is the
  ``EvaluationPeriods + 2`` most recent periods **including the current, still open one**, so an
  alarm reacts as soon as a breaching datapoint arrives (AWS evaluates closed periods, typically
  a minute or more later).
- Each period's value is the alarm's ``Statistic`` (``SampleCount, Average, Sum, Minimum, Maximum``)
  or ``ExtendedStatistic`` ``pNN`` (nearest rank over raw values) of the data with exactly the
  alarm's dimensions (and ``Unit``, if the alarm has one).
- A value breaches per ``ComparisonOperator``: ``GreaterThanOrEqualToThreshold,
  GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold``. The anomaly-detection
  operators (``LessThanLowerOrGreaterThanUpperThreshold`` and co.) and metric-math alarms
  (``Metrics=[...]``) are not evaluated: such alarms keep whatever state they have.
- Missing data follows AWS's documented rules ("How alarm state is evaluated when data is
  missing"): with N = EvaluationPeriods and M = DatapointsToAlarm (default N):

  * no datapoint in the range: ``missing`` -> INSUFFICIENT_DATA, ``breaching`` -> ALARM,
    ``notBreaching`` -> OK, ``ignore`` -> state kept;
  * at least N real datapoints in the range: the N most recent real ones decide (ALARM if at
    least M breach, else OK); TreatMissingData plays no part;
  * fewer than N: the real ones plus N - r filled ones decide: filled ones breach for
    ``breaching``, do not for ``notBreaching``, and do not count for ``missing``/``ignore``, where
    the premature-alarm rule applies instead: ALARM when the oldest breaching datapoint within the
    last N periods is at least M periods old and every newer one breaches or is missing; for
    ``ignore`` that case keeps the state.

When it runs: when data for the alarm's metric arrives, when the alarm is created or updated,
when a new period starts on the sandbox clock, and on ``evaluate_now()`` (tests). Evaluation runs
on the evaluator's own thread, never the caller's, except ``evaluate_now()``.

Manual states: ``SetAlarmState`` (the API, used by tests and the demo to "fire" an alarm) sticks
until the evaluator sees *new data* for that alarm's metric, i.e. a datum put after the call.
Period ticks do not override it. In AWS the next evaluation (about a minute later) would; the
sandbox keeps it because nothing feeds most sandbox metrics, and a test that fires an alarm by
hand means it.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from ...clock import CLOCK

log = logging.getLogger("sandbox.alarms")

COMPARISONS = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}
EXTRA_PERIODS = 2  # the evaluation range looks this many periods further back than N
DETAIL_TYPE = "CloudWatch Alarm State Change"


# --- the metric index ------------------------------------------------------------------------------
MetricKey = tuple[str, str, str, str, frozenset]  # account, region, namespace, name, dimensions


class Sample:
    """One datum: raw values (Value/Values) or a statistic set, at a time, with a unit."""

    __slots__ = ("at", "count", "sum", "min", "max", "raw", "unit")

    def __init__(self, at: float, unit: str | None, *, raw: list[float] | None = None, stats: dict | None = None):
        self.at = at
        self.unit = unit
        self.raw = raw
        if raw is not None:
            self.count, self.sum = float(len(raw)), float(sum(raw))
            self.min, self.max = min(raw), max(raw)
        else:
            stats = stats or {}
            self.count, self.sum = float(stats["SampleCount"]), float(stats["Sum"])
            self.min, self.max = float(stats["Minimum"]), float(stats["Maximum"])


def epoch(value: Any) -> float:
    if value is None:
        return CLOCK.now()
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    try:
        return float(text)
    except ValueError:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def dimension_key(dimensions: Any) -> frozenset:
    pairs = []
    for dimension in dimensions or []:
        if isinstance(dimension, dict):
            pairs.append((dimension.get("Name"), dimension.get("Value")))
        else:  # moto's Dimension
            pairs.append((dimension.name, dimension.value))
    return frozenset(pairs)


class MetricIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[MetricKey, list[Sample]] = defaultdict(list)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def add(self, key: MetricKey, sample: Sample) -> None:
        with self._lock:
            self._data[key].append(sample)

    def samples(self, key: MetricKey, start: float, end: float) -> list[Sample]:
        with self._lock:
            return [s for s in self._data.get(key, ()) if start <= s.at < end]


INDEX = MetricIndex()


def samples_from(datum: dict[str, Any]) -> list[Sample]:
    at = epoch(datum.get("Timestamp"))
    unit = datum.get("Unit")
    if datum.get("Values"):
        counts = datum.get("Counts") or [1] * len(datum["Values"])
        raw = [float(v) for v, c in zip(datum["Values"], counts, strict=False) for _ in range(int(float(c)))]
        return [Sample(at, unit, raw=raw)] if raw else []
    if datum.get("StatisticValues"):
        return [Sample(at, unit, stats=datum["StatisticValues"])]
    return [Sample(at, unit, raw=[float(datum.get("Value", 0))])]


# --- evaluation ----------------------------------------------------------------------------------------
def statistic(samples: list[Sample], stat: str | None, extended: str | None) -> float | None:
    if not samples:
        return None
    if extended:
        raw = sorted(v for s in samples if s.raw for v in s.raw)
        if not raw:
            return None
        percent = float(extended[1:])
        rank = max(1, math.ceil(percent / 100.0 * len(raw)))
        return raw[rank - 1]
    count = sum(s.count for s in samples)
    total = sum(s.sum for s in samples)
    if stat == "SampleCount":
        return count
    if stat == "Sum":
        return total
    if stat == "Average":
        return total / count if count else None
    if stat == "Minimum":
        return min(s.min for s in samples)
    if stat == "Maximum":
        return max(s.max for s in samples)
    return None


def _fmt(value: float) -> str:
    return repr(float(value))


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).strftime("%d/%m/%y %H:%M:%S")


def _iso_ms(at: float) -> str:
    moment = datetime.fromtimestamp(at, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def evaluate(
    *,
    values: list[tuple[float, float | None]],
    threshold: float,
    comparison: str,
    evaluation_periods: int,
    datapoints_to_alarm: int | None,
    treat_missing_data: str | None,
    current_state: str,
    statistic_name: str = "",
    period: int = 60,
    now: float | None = None,
) -> tuple[str, str, dict[str, Any]]:
    """The next state of an alarm from its per-period values (oldest first, ``None`` = missing).

    Returns ``(state, reason, reason_data)``; ``state == current_state`` means no change.
    """
    compare, phrase = COMPARISONS[comparison]
    n = int(evaluation_periods)
    m = int(datapoints_to_alarm or n)
    mode = treat_missing_data or "missing"
    real = [(at, v) for at, v in values if v is not None]
    data = {
        "version": "1.0",
        "queryDate": _iso_ms(now if now is not None else CLOCK.now()),
        "statistic": statistic_name,
        "period": period,
        "recentDatapoints": [v for _, v in real[-n:]],
        "threshold": threshold,
    }
    if real:
        data["startDate"] = _iso_ms(real[-n:][0][0])

    def plural(k: int, word: str) -> str:
        return f"{k} {word}{'' if k == 1 else 's'}"

    if not real:
        told = {"breaching": "Breaching", "notBreaching": "NonBreaching"}.get(mode)
        if mode == "missing":
            return (
                "INSUFFICIENT_DATA",
                f"Insufficient Data: {plural(n, 'datapoint')} {'was' if n == 1 else 'were'} unknown.",
                data,
            )
        if mode == "ignore":
            return current_state, "", data
        new = "ALARM" if mode == "breaching" else "OK"
        reason = (
            f"Threshold Crossed: no datapoints were received for {plural(n, 'period')} and "
            f"{plural(n, 'missing datapoint')} {'was' if n == 1 else 'were'} treated as [{told}]."
        )
        return new, reason, data

    def crossed(points: list[tuple[float, float]], breaching: int, total: int, new: str) -> str:
        shown = ", ".join(f"{_fmt(v)} ({_when(at)})" for at, v in reversed(points))
        verb = "was" if new == "ALARM" else "was not"
        return (
            f"Threshold Crossed: {breaching} out of the last {total} datapoints [{shown}] {verb} {phrase} "
            f"the threshold ({_fmt(threshold)}) (minimum {plural(m, 'datapoint')} for "
            f"{'OK' if new == 'ALARM' else 'ALARM'} -> {new} transition)."
        )

    if len(real) >= n:
        recent = real[-n:]
        breaching = sum(1 for _, v in recent if compare(v, threshold))
        new = "ALARM" if breaching >= m else "OK"
        return new, crossed(recent, breaching, n, new), data

    breaching = sum(1 for _, v in real if compare(v, threshold))
    if mode == "breaching":
        breaching += n - len(real)
    if breaching >= m:
        return "ALARM", crossed(real, breaching, n, "ALARM"), data
    if mode in ("missing", "ignore"):
        window = values[-n:]  # the last N periods, missing ones included
        flags = [None if v is None else compare(v, threshold) for _, v in window]
        oldest = next((i for i, flag in enumerate(flags) if flag), None)
        if oldest is not None and len(window) - oldest >= m and all(f is not False for f in flags[oldest:]):
            if mode == "ignore":
                return current_state, "", data
            reason = crossed(real, breaching, len(real), "ALARM").replace(
                f"(minimum {plural(m, 'datapoint')} for", "(premature alarm: missing datapoints;"
            )
            return "ALARM", reason, data
    return "OK", crossed(real, breaching, n if mode == "breaching" else len(real), "OK"), data


def period_values(alarm: Any, account: str, region: str, now: float) -> list[tuple[float, float | None]]:
    period = int(alarm.period)
    current = math.floor(now / period) * period
    key: MetricKey = (account, region, alarm.namespace, alarm.metric_name, dimension_key(alarm.dimensions))
    count = int(alarm.evaluation_periods) + EXTRA_PERIODS
    first = current - (count - 1) * period
    samples = INDEX.samples(key, first, current + period)
    if alarm.unit:
        samples = [s for s in samples if s.unit == alarm.unit]
    buckets: dict[float, list[Sample]] = defaultdict(list)
    for sample in samples:
        buckets[math.floor(sample.at / period) * period].append(sample)
    starts = [first + i * period for i in range(count)]
    return [(start, statistic(buckets.get(start, []), alarm.statistic, alarm.extended_statistic)) for start in starts]


def evaluable(alarm: Any) -> bool:
    return bool(
        alarm.rule is None
        and not alarm.metric_data_queries
        and alarm.metric_name
        and alarm.period
        and alarm.evaluation_periods
        and alarm.comparison_operator in COMPARISONS
        and (alarm.statistic or alarm.extended_statistic)
    )


def _account_region(alarm: Any) -> tuple[str, str]:
    parts = alarm.alarm_arn.split(":")
    return parts[4], parts[3]


# --- the evaluator -------------------------------------------------------------------------------------
class Evaluator:
    """Evaluates alarms on data arrival and period ticks of the sandbox clock, on its own thread."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seq = 0  # counts data arrivals
        self._held: dict[str, int] = {}  # alarm ARN set by hand -> arrival count at that moment
        self._arrivals: dict[MetricKey, int] = {}  # metric -> arrival count of its latest datum
        self._dirty: set[str] = set()  # ARNs to evaluate at the next pass
        self._dirty_metrics: set[MetricKey] = set()
        self._last_period: dict[str, int] = {}

    # lifecycle
    def start(self) -> None:
        self.stop()
        with self._lock:
            self._held.clear()
            self._arrivals.clear()
            self._dirty.clear()
            self._dirty_metrics.clear()
            self._last_period.clear()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sandbox-alarm-evaluator", daemon=True)
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

    # signals from the patches
    def data_arrived(self, keys: set[MetricKey]) -> None:
        with self._lock:
            self._seq += 1
            for key in keys:
                self._arrivals[key] = self._seq
            self._dirty_metrics |= keys
        self._wake.set()

    def hold(self, alarm_arn: str) -> None:
        with self._lock:
            self._held[alarm_arn] = self._seq

    def changed(self, alarm_arn: str) -> None:
        """Created or updated: evaluate now, and a manual state no longer holds."""
        with self._lock:
            self._held.pop(alarm_arn, None)
            self._dirty.add(alarm_arn)
        self._wake.set()

    # evaluation
    def _backends(self) -> list[tuple[str, str, Any]]:
        from moto.cloudwatch.models import cloudwatch_backends

        found = []
        for account, regions in list(cloudwatch_backends.items()):
            for region, backend in list(regions.items()):
                found.append((account, region, backend))
        return found

    def evaluate_now(self) -> None:
        """Evaluate every alarm that is not held by a manual state, in this thread (tests)."""
        self._pass(everything=True)

    def _pass(self, everything: bool = False) -> float:
        """One evaluation pass; returns sandbox seconds until the next period boundary."""
        now = CLOCK.now()
        next_boundary = math.inf
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            metrics, self._dirty_metrics = self._dirty_metrics, set()
            for account, region, backend in self._backends():
                for alarm in list(backend.alarms.values()):
                    if not evaluable(alarm):
                        continue
                    arn = alarm.alarm_arn
                    key = (
                        account,
                        region,
                        alarm.namespace,
                        alarm.metric_name,
                        dimension_key(alarm.dimensions),
                    )
                    fresh = key in metrics
                    if arn in self._held and self._arrivals.get(key, 0) > self._held[arn]:
                        del self._held[arn]  # new data since the manual state: evaluate again
                    period = int(alarm.period)
                    index = math.floor(now / period)
                    next_boundary = min(next_boundary, (index + 1) * period - now)
                    if arn in self._held:
                        continue
                    if not (everything or fresh or arn in dirty or self._last_period.get(arn) != index):
                        continue
                    self._last_period[arn] = index
                    try:
                        self._evaluate(alarm, account, region, now)
                    except Exception:  # noqa: BLE001 - one bad alarm must not stop the others
                        log.exception("evaluating alarm %s failed", alarm.name)
        return next_boundary

    def _evaluate(self, alarm: Any, account: str, region: str, now: float) -> None:
        values = period_values(alarm, account, region, now)
        state, reason, data = evaluate(
            values=values,
            threshold=float(alarm.threshold),
            comparison=alarm.comparison_operator,
            evaluation_periods=int(alarm.evaluation_periods),
            datapoints_to_alarm=alarm.datapoints_to_alarm,
            treat_missing_data=alarm.treat_missing_data,
            current_state=alarm.state_value,
            statistic_name=alarm.statistic or alarm.extended_statistic or "",
            period=int(alarm.period),
            now=now,
        )
        if state != alarm.state_value:
            alarm.update_state(reason, json.dumps(data), state)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                until_boundary = self._pass()
            except Exception:  # noqa: BLE001
                log.exception("alarm evaluation pass failed")
                until_boundary = math.inf
            timeout = min(0.5, max(0.005, CLOCK.real_seconds(until_boundary) + 0.001))
            self._wake.wait(timeout)
            self._wake.clear()


EVALUATOR = Evaluator()


# --- the state change event ------------------------------------------------------------------------
def _state(value: str, reason: str, reason_data: str | None, at: float) -> dict[str, Any]:
    state = {"value": value, "reason": reason, "timestamp": _iso_ms(at)}
    if reason_data and reason_data != "{}":
        state["reasonData"] = reason_data
    return state


def _configuration(alarm: Any) -> dict[str, Any]:
    configuration: dict[str, Any] = {}
    if alarm.description:
        configuration["description"] = alarm.description
    metrics = []
    if alarm.metric_name:
        metrics.append(
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, alarm.alarm_arn)),
                "metricStat": {
                    "metric": {
                        "namespace": alarm.namespace,
                        "name": alarm.metric_name,
                        "dimensions": {d.name: d.value for d in alarm.dimensions},
                    },
                    "period": int(alarm.period or 0),
                    "stat": alarm.statistic or alarm.extended_statistic,
                },
                "returnData": True,
            }
        )
    for query in alarm.metric_data_queries or []:
        entry: dict[str, Any] = {"id": query.id, "returnData": query.return_data in (True, "true", None)}
        if query.expression:
            entry["expression"] = query.expression
        if query.label:
            entry["label"] = query.label
        metrics.append(entry)
    configuration["metrics"] = metrics
    if alarm.rule:
        configuration["alarmRule"] = alarm.rule
    return configuration


def state_change_detail(alarm: Any, previous: tuple[str, str, str | None, float], at: float) -> dict[str, Any]:
    return {
        "alarmName": alarm.name,
        "state": _state(alarm.state_value, alarm.state_reason, alarm.state_reason_data, at),
        "previousState": _state(*previous),
        "configuration": _configuration(alarm),
    }


def _naive_utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, tz=UTC).replace(tzinfo=None)


def _naive(value: Any) -> Any:
    """moto compares naive UTC datetimes (as its request parser makes them)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _stamp(value: Any) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return CLOCK.now()


# --- the patches -----------------------------------------------------------------------------------------
def evaluate_alarms() -> None:
    """Metric alarms evaluated from their data as it arrives, with AWS's initial state
    (INSUFFICIENT_DATA), and each state change announced as a "CloudWatch Alarm State Change" event
    on the default bus; GetMetricStatistics matches dimensions exactly (see the module's docstring).
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html,
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html"""
    from moto.cloudwatch import models as cw

    from ..events import delivery

    original_update_state = cw.Alarm.update_state

    def update_state(self: Any, reason: str, reason_data: str, state_value: str) -> None:
        previous = (
            self.state_value,
            self.state_reason,
            self.state_reason_data,
            _stamp(self.state_updated_timestamp),
        )
        original_update_state(self, reason, reason_data, state_value)
        at = CLOCK.now()
        self.state_updated_timestamp = _naive_utc(at)
        if previous[0] == state_value:
            return
        account, region = _account_region(self)
        try:
            delivery.put_event(
                account,
                region,
                source="aws.cloudwatch",
                detail_type=DETAIL_TYPE,
                detail=state_change_detail(self, previous, at),
                resources=[self.alarm_arn],
                time=at,
            )
        except Exception:  # noqa: BLE001 - CloudWatch's state change stands even if delivery fails
            log.exception("alarm %s: the state change event was not delivered", self.name)

    cw.Alarm.update_state = update_state

    original_put_alarm = cw.CloudWatchBackend.put_metric_alarm

    def put_metric_alarm(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        existing = self.alarms.get(name)
        alarm = original_put_alarm(self, name, *args, **kwargs)
        if existing is not None and existing is not alarm:
            for attribute in (
                "state_value",
                "state_reason",
                "state_reason_data",
                "state_updated_timestamp",
                "history",
            ):
                setattr(alarm, attribute, getattr(existing, attribute))
        elif existing is None:
            alarm.state_value = "INSUFFICIENT_DATA"
            alarm.state_reason = "Unchecked: Initial alarm creation"
            alarm.state_updated_timestamp = _naive_utc(CLOCK.now())
        EVALUATOR.changed(alarm.alarm_arn)
        return alarm

    cw.CloudWatchBackend.put_metric_alarm = put_metric_alarm

    original_set_state = cw.CloudWatchBackend.set_alarm_state

    def set_alarm_state(self: Any, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
        existing = self.alarms.get(alarm_name)
        if existing is not None:  # first: waits for a pass in progress, so none overwrites this state
            EVALUATOR.hold(existing.alarm_arn)
        original_set_state(self, alarm_name, reason, reason_data, state_value)

    cw.CloudWatchBackend.set_alarm_state = set_alarm_state

    original_put_data = cw.CloudWatchBackend.put_metric_data

    def put_metric_data(self: Any, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        now = _naive_utc(CLOCK.now())
        stamped = [dict(datum, Timestamp=_naive(datum.get("Timestamp")) or now) for datum in metric_data]
        original_put_data(self, namespace, stamped)
        keys = set()
        for datum in stamped:
            key = (
                self.account_id,
                self.region_name,
                namespace,
                datum["MetricName"],
                dimension_key(datum.get("Dimensions")),
            )
            for sample in samples_from(datum):
                INDEX.add(key, sample)
            keys.add(key)
        EVALUATOR.data_arrived(keys)

    cw.CloudWatchBackend.put_metric_data = put_metric_data

    original_statistics = cw.CloudWatchBackend.get_metric_statistics
    original_all = cw.CloudWatchBackend.get_all_metrics
    exact = threading.local()

    def get_all_metrics(self: Any) -> Any:
        wanted = getattr(exact, "dimensions", None)
        data = original_all(self)
        return data if wanted is None else [d for d in data if dimension_key(d.dimensions) == wanted]

    def get_metric_statistics(self: Any, *args: Any, **kwargs: Any) -> Any:
        dimensions = kwargs.get("dimensions", args[6] if len(args) > 6 else None)
        exact.dimensions = dimension_key(dimensions)
        try:
            return original_statistics(self, *args, **kwargs)
        finally:
            exact.dimensions = None

    cw.CloudWatchBackend.get_all_metrics = get_all_metrics
    cw.CloudWatchBackend.get_metric_statistics = get_metric_statistics
