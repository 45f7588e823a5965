"""Which AWS calls a promotion made, as the sandbox received them (for the benches).

``CALLS`` holds every request moto answered while ``recording()`` is on: (principal, service,
action). Calls the sandbox makes to its own backends (routing an invoke, an alarm's evaluation)
do not go through a request and are not counted, as AWS would not bill them to the caller.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.aws.iam.policy import caller_of

Call = tuple[str, str, str]  # (principal ARN, service, action), e.g. (".../AlarmListenerRole", "lambda", "UpdateAlias")
CALLS: list[Call] = []
_ON = threading.Event()
_LOCK = threading.Lock()
_INSTALLED: list[bool] = []
_ONLY_THREAD: list[int] = []  # when set, the one thread whose calls count

# Lambda's control plane: every Lambda API call but invoking a function (the data plane).
DATA_PLANE = {"Invoke", "InvokeAsync", "InvokeWithResponseStream"}


def _install() -> None:
    if _INSTALLED:
        return
    from moto.core.responses import BaseResponse

    original = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        counted_thread = not _ONLY_THREAD or _ONLY_THREAD[0] == threading.get_ident()
        if _ON.is_set() and counted_thread and getattr(self, "service_name", None):
            try:
                principal = caller_of(self).principal_arn
            except Exception:  # a call no principal signed (the sandbox's own set-up)
                principal = ""
            service = {"awslambda": "lambda"}.get(self.service_name, self.service_name)
            with _LOCK:
                CALLS.append((principal, service, self._get_action()))
        return original(self)

    BaseResponse.call_action = call_action
    _INSTALLED.append(True)


@contextmanager
def recording(this_thread_only: bool = False) -> Iterator[list[Call]]:
    """Record the calls made inside the block; yields the list, which fills as calls come in.
    ``this_thread_only``: only the calls this thread makes (in process, moto answers a call on the
    thread that made it), not those of the workflow or the listeners running meanwhile."""
    _install()
    with _LOCK:
        CALLS.clear()
        _ONLY_THREAD[:] = [threading.get_ident()] if this_thread_only else []
    _ON.set()
    try:
        yield CALLS
    finally:
        _ON.clear()


def lambda_control_plane(calls: list[Call]) -> list[str]:
    return [action for _, service, action in calls if service == "lambda" and action not in DATA_PLANE]


def before_first(calls: list[Call], principal_part: str, service: str, action: str) -> list[str] | None:
    """The calls ``principal_part``'s principal made before its first ``service`` ``action``
    (None if it made none)."""
    mine = [(s, a) for p, s, a in calls if principal_part in p]
    if (service, action) not in mine:
        return None
    return [f"{s}:{a}" for s, a in mine[: mine.index((service, action))]]
