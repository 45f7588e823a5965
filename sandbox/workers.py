"""The sandbox's background threads, started and stopped together.

Three kinds of threads do what AWS does on its own time: the delivery workers (sandbox/dispatch.py:
asynchronous invokes, EventBridge deliveries), the alarm evaluator (sandbox/aws/cloudwatch/alarms.py)
and the scheduler (sandbox/aws/scheduler.py). ``start(time_scale)`` (called by every
``sandbox.install.install``) restarts the clock (sandbox/clock.py) at ``time_scale`` and starts them;
``stop()`` ends them all: queued deliveries are dropped, running ones are waited for, so nothing
fires into a stopped mock. ``Sandbox.stop()`` and the server call it before stopping moto.
"""

from __future__ import annotations

import threading

from .aws.cloudwatch import alarms
from .aws.scheduler import SCHEDULER
from .clock import CLOCK
from .dispatch import DISPATCHER

_lock = threading.RLock()
_running = False


def start(time_scale: float = 1.0) -> None:
    global _running
    with _lock:
        stop()
        CLOCK.reset(time_scale)
        alarms.INDEX.clear()
        DISPATCHER.start()
        alarms.EVALUATOR.start()
        SCHEDULER.start()
        _running = True


def stop() -> None:
    """Stop the threads; queued deliveries are dropped, running ones finish first."""
    global _running
    with _lock:
        SCHEDULER.stop()
        alarms.EVALUATOR.stop()
        DISPATCHER.stop()
        _running = False


def running() -> bool:
    return _running


def _wake() -> None:
    alarms.EVALUATOR.wake()
    SCHEDULER.wake()


CLOCK.subscribe(_wake)


def advance(seconds: float) -> float:
    """Move the sandbox clock forward; due schedules fire and alarm periods roll at once."""
    return CLOCK.advance(seconds)


def settle(timeout: float = 30.0) -> bool:
    """Fire what is due, evaluate alarms, and wait for the deliveries that caused (tests)."""
    SCHEDULER.run_due()
    alarms.EVALUATOR.evaluate_now()
    return DISPATCHER.drain(timeout)
