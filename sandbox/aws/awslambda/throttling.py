"""Lambda's control-plane request rates, as AWS enforces them per account and Region.

Lambda quotas, "Lambda API requests" (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests):
GetFunction 100 requests per second, GetPolicy 15 per second, and "the remainder of the control
plane API requests (excludes invocation, GetFunction, and GetPolicy requests)" 15 per second
across all APIs, none of which can be increased. Past them Lambda answers HTTP 429
TooManyRequestsException ("The request throughput limit was exceeded", with a Retry-After header:
https://docs.aws.amazon.com/lambda/latest/api/API_UpdateAlias.html#API_UpdateAlias_Errors).
moto answers every request.

Each rate holds in any one second (a sliding window per account and Region) of real (monotonic)
time, as the documentation reads literally. AWS counts real seconds, and the sandbox's scaled
waits only bring a promotion's calls closer together, so the same promotions press the limit at
least as hard here as on AWS. ``counts()`` tells how many requests were refused, for benches.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

# What `_get_action()` names an invocation: the data plane, outside these quotas.
INVOCATIONS = frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"})
RATES = {"GetFunction": 100.0, "GetPolicy": 15.0}  # requests per second; any other: CONTROL_PLANE_RATE
CONTROL_PLANE_RATE = 15.0
THROTTLE_ENV = "SANDBOX_LAMBDA_RATE_LIMITS"  # "off" lifts them (a bench's reference run only)


@dataclass
class Window:
    """The requests accepted in the last second: at most ``rate`` of them, in any one second."""

    rate: float
    accepted: deque[float] = field(default_factory=deque)

    def take(self, now: float) -> bool:
        while self.accepted and self.accepted[0] <= now - 1.0:
            self.accepted.popleft()
        if len(self.accepted) >= self.rate:
            return False
        self.accepted.append(now)
        return True


@dataclass
class Counts:
    accepted: int = 0
    refused: int = 0
    control_plane: int = 0  # of those accepted, the ones the 15/s remainder counts
    # the most requests of the 15/s remainder accepted within one second
    peak_per_second: int = 0


_lock = threading.Lock()
_windows: dict[tuple[str, str, str], Window] = {}
_counts = Counts()


def limits_on() -> bool:
    return os.environ.get(THROTTLE_ENV, "on").lower() not in ("off", "0", "false", "no")


def admit(account: str, region: str, operation: str, now: float | None = None) -> bool:
    """Whether Lambda takes this request now, or refuses it with a 429."""
    if operation in INVOCATIONS or not limits_on():
        return True
    group = operation if operation in RATES else "ControlPlane"
    rate = RATES.get(operation, CONTROL_PLANE_RATE)
    now = time.monotonic() if now is None else now
    with _lock:
        window = _windows.setdefault((account, region, group), Window(rate=rate))
        if not window.take(now):
            _counts.refused += 1
            return False
        _counts.accepted += 1
        if group == "ControlPlane":
            _counts.control_plane += 1
            _counts.peak_per_second = max(_counts.peak_per_second, len(window.accepted))
        return True


def counts() -> Counts:
    with _lock:
        return Counts(_counts.accepted, _counts.refused, _counts.control_plane, _counts.peak_per_second)


def reset() -> None:
    """Empty windows and zero counts (each sandbox start, and a bench between runs)."""
    with _lock:
        _windows.clear()
        _counts.accepted = _counts.refused = _counts.control_plane = _counts.peak_per_second = 0


def _too_many_requests() -> tuple[int, dict[str, str], str]:
    body = {"Type": "User", "message": "Rate exceeded", "Reason": "CallerRateLimitExceeded"}
    headers = {"x-amzn-errortype": "TooManyRequestsException", "Retry-After": "1", "status": "429"}
    return 429, headers, json.dumps(body)


def limit_control_plane_rates() -> None:
    """Lambda's control-plane requests past the account's rates are refused with 429
    TooManyRequestsException (the module's docstring); invocations are not counted.
    https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests"""
    from moto.awslambda.responses import LambdaResponse

    def call_action(self: Any) -> Any:
        if not admit(self.current_account, self.region, self._get_action()):
            return _too_many_requests()
        # looked up at each call: IAM's patch of BaseResponse.call_action still authorises it
        return super(LambdaResponse, self).call_action()

    LambdaResponse.call_action = call_action
