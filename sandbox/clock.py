"""The sandbox clock: what "now" is for Lambda metrics, alarm evaluation and schedules.

It runs at ``scale`` times real time from the wall-clock time it was started at (scale 1 is real
time), and tests can move it: ``advance(seconds)`` jumps forward, ``pause()`` freezes it,
``resume()`` lets it run again, ``set(epoch)`` jumps to an instant. Everything that waits on it (the
alarm evaluator, the scheduler) subscribes and is woken by every jump, so it takes effect at once.

Step Functions Wait states, Retry intervals, task timeouts and function timeouts are real waits,
not instants on this clock: they last ``real(seconds)`` = ``seconds / scale`` real seconds
(``sleep``), whether or not a test has paused the clock, so a paused clock never hangs a workflow.
This is the sandbox's only clock: every faked service reads it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class SandboxClock:
    def __init__(self, scale: float = 1.0, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self.changed = threading.Condition(self._lock)  # notified whenever the clock jumps
        self._scale = float(scale)
        self._base = time.time() if start is None else float(start)  # sandbox epoch seconds at _mono
        self._mono = time.monotonic()
        self._paused = False
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every jump (advance, set, pause, resume, scale change)."""
        self._listeners.append(callback)

    def _notify(self) -> None:
        for callback in list(self._listeners):
            callback()

    # --- reading ----------------------------------------------------------------------------------
    def _now_locked(self) -> float:
        if self._paused:
            return self._base
        return self._base + (time.monotonic() - self._mono) * self._scale

    def now(self) -> float:
        """Sandbox time, seconds since the epoch (UTC)."""
        with self._lock:
            return self._now_locked()

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    @property
    def scale(self) -> float:
        return self._scale

    @property
    def paused(self) -> bool:
        return self._paused

    def real_seconds(self, sandbox_seconds: float) -> float:
        """How long ``sandbox_seconds`` of this clock take in real time (inf while paused)."""
        if self._paused or self._scale <= 0:
            return float("inf")
        return max(0.0, sandbox_seconds) / self._scale

    # --- moving it --------------------------------------------------------------------------------
    def reset(self, scale: float = 1.0) -> None:
        """Back to the real wall-clock time, running at ``scale`` (each sandbox start does this)."""
        with self._lock:
            self._scale = float(scale)
            self._base = time.time()
            self._mono = time.monotonic()
            self._paused = False
            self.changed.notify_all()
        self._notify()

    def _rebase_locked(self) -> None:
        self._base = self._now_locked()
        self._mono = time.monotonic()

    def advance(self, seconds: float) -> float:
        """Jump ``seconds`` forward (schedules and alarm periods due in between fire); returns now."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._rebase_locked()
            self._base += seconds
            self.changed.notify_all()
            now = self._base
        self._notify()
        return now

    def set(self, epoch_seconds: float) -> None:
        """Set the time (forward only), e.g. to just before a schedule's instant."""
        with self._lock:
            self._rebase_locked()
            if epoch_seconds < self._base:
                raise ValueError("the sandbox clock only moves forward")
            self._base = float(epoch_seconds)
            self.changed.notify_all()
        self._notify()

    def set_scale(self, scale: float) -> None:
        with self._lock:
            self._rebase_locked()
            self._scale = float(scale)
            self.changed.notify_all()
        self._notify()

    def pause(self) -> None:
        with self._lock:
            self._rebase_locked()
            self._paused = True
            self.changed.notify_all()
        self._notify()

    def resume(self) -> None:
        with self._lock:
            self._mono = time.monotonic()
            self._paused = False
            self.changed.notify_all()
        self._notify()

    # --- real waits at this clock's speed (Step Functions, function timeouts) -----------------------
    def real(self, seconds: float) -> float:
        """Real seconds that ``seconds`` of a Wait, Retry interval or timeout last: ``seconds / scale``."""
        return max(0.0, float(seconds)) / (self._scale if self._scale > 0 else 1.0)

    def real_timeout(self, seconds: float) -> float:
        """A timeout of real work, in real seconds: scaled like a wait, but never below
        ``min(seconds, MIN_REAL_TIMEOUT)``, so that real work (moto on a busy machine) is not cut short
        while a 1 s timeout still ends after 1 s."""
        return max(self.real(seconds), min(float(seconds), MIN_REAL_TIMEOUT))

    def sleep(self, seconds: float) -> None:
        time.sleep(self.real(seconds))

    def retry_wait(self, seconds: float) -> float:
        """A Retry interval, in real seconds: scaled like a wait, but never below
        ``min(seconds, MIN_REAL_RETRY)``: what a retry waits out (a second's throttling window, a
        concurrent writer) passes in real time, and a retry scaled to nothing meets it again."""
        return max(self.real(seconds), min(max(0.0, float(seconds)), MIN_REAL_RETRY))


MIN_REAL_TIMEOUT = 30.0
MIN_REAL_RETRY = 1.0  # Lambda's and DynamoDB's request rates are per second of real time
CLOCK = SandboxClock()
