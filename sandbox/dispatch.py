"""The delivery workers: where the sandbox does what AWS does asynchronously.

Lambda's asynchronous invocations (``InvocationType=Event``) and EventBridge's deliveries to its
targets run on these threads, never on the caller's thread: the caller gets its answer (202,
``PutEvents``' result) before the work runs, as on AWS
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger("sandbox.dispatch")
INLINE = "x-sandbox-inline"  # header: run an Event invoke on this thread (already a worker's)


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
