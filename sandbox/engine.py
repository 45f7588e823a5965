"""The sandbox's event-driven AWS: one entry point for the patches and the background threads.

``apply(time_scale)`` is called by ``patches.apply()`` whenever a sandbox (``Sandbox`` or
``SandboxServer``) starts. The first call patches moto (each module documents its patches):

- sandbox/eventbus.py: EventBridge rules deliver to Lambda and Step Functions targets;
- sandbox/sns_delivery.py: and to SNS topics, if the topic's KMS key lets EventBridge use it;
- sandbox/lambda_metrics.py: alias routing weights, ``ExecutedVersion`` and AWS/Lambda metrics on invoke;
- sandbox/alarms.py: metric alarms evaluated from their data, "CloudWatch Alarm State Change" events;
- sandbox/scheduler.py: EventBridge Scheduler schedules and schedule rules fire on the sandbox clock.

Every call then (re)starts the engine: the sandbox clock (sandbox/clock.py) restarts from the
real time at ``time_scale``, and three kinds of threads run: the alarm evaluator, the scheduler and
the delivery workers (asynchronous invokes and executions). ``stop()`` ends them all: queued
deliveries are dropped, running ones are waited for, so nothing fires into a stopped mock.
``Sandbox.stop()`` calls it before stopping moto. A process that patched moto without starting
the engine (e.g. a server started some other way) gets it started on first use.
"""

from __future__ import annotations

import threading

from . import alarms, eventbus, lambda_metrics, metric_data, scheduler, sns_delivery
from .clock import CLOCK

_lock = threading.RLock()
_patched = False
_running = False
_stopped_on_purpose = False


def _run_the_protocol_on_the_sandbox_clock() -> None:
    """Bakes and watch windows are Step Functions timeouts, which the sandbox speeds up; the
    promotion protocol measures how long a paused hold has held with ``promoter.clock.now``, so
    it reads the same scaled clock (on AWS both are real time)."""
    from promoter import clock

    clock.now = CLOCK.datetime


def apply(time_scale: float = 1.0) -> None:
    """Patch moto (once per process) and (re)start the engine at ``time_scale``."""
    global _patched
    with _lock:
        if not _patched:
            eventbus.apply()
            sns_delivery.apply()  # after eventbus: it wraps that patch for SNS targets
            lambda_metrics.apply()
            metric_data.apply()  # GetMetricData percentiles (the canary judge's Duration p50/p99)
            alarms.apply()
            scheduler.apply()
            _run_the_protocol_on_the_sandbox_clock()
            _patched = True
        start(time_scale)


def start(time_scale: float = 1.0) -> None:
    global _running, _stopped_on_purpose
    with _lock:
        stop()
        CLOCK.reset(time_scale)
        alarms.INDEX.clear()
        eventbus.DISPATCHER.start()
        alarms.EVALUATOR.start()
        scheduler.SCHEDULER.start()
        _running = True
        _stopped_on_purpose = False


def stop() -> None:
    """Stop the threads; queued deliveries are dropped, running ones finish first."""
    global _running, _stopped_on_purpose
    with _lock:
        scheduler.SCHEDULER.stop()
        alarms.EVALUATOR.stop()
        eventbus.DISPATCHER.stop()
        _running = False
        _stopped_on_purpose = True


def ensure_started() -> None:
    """Start on first use, unless a sandbox stopped the engine on purpose."""
    if _running or _stopped_on_purpose:
        return
    with _lock:
        if not _running and not _stopped_on_purpose:
            start(CLOCK.scale)


def running() -> bool:
    return _running


def _wake() -> None:
    alarms.EVALUATOR.wake()
    scheduler.SCHEDULER.wake()


CLOCK.subscribe(_wake)


def advance(seconds: float) -> float:
    """Move the sandbox clock forward; due schedules fire and alarm periods roll at once."""
    return CLOCK.advance(seconds)


def settle(timeout: float = 30.0) -> bool:
    """Fire what is due, evaluate alarms, and wait for the deliveries that caused (tests)."""
    scheduler.SCHEDULER.run_due()
    alarms.EVALUATOR.evaluate_now()
    return eventbus.DISPATCHER.drain(timeout)
