"""Every AWS call the control plane makes fails in turn, once, at every call site; and, in a second
sweep, lands with its answer lost, so that the SDK sends it again.

A baseline promotion records the sequence of calls made through ``promoter/aws`` (start and
workflow). Then, for each call in that sequence, a fresh sandbox repeats the promotion with that
one call failing (or landing, its answer lost, and being sent again). Whatever happens, afterwards:

- the alias points at exactly one version with empty routing;
- the target's lock is released;
- the record is final, and its status tells the truth: SUCCEEDED exactly when the alias is on
  the candidate.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import botocore.client
import pytest
from botocore.exceptions import ClientError

from promoter.errors import PromoterError
from promoter.models import Status
from sandbox import Sandbox
from sandbox.fixtures.targets import Targets
from tests.conftest import TIME_SCALE
from tests.workflow.helpers import request

ADAPTERS = os.path.join("promoter", "aws", "")


class CallRecorder:
    """Counts AWS calls made from the adapters; optionally fails the N-th one, or has the SDK send
    it again after it landed, as after a lost answer (a timeout, a connection reset)."""

    def __init__(self, fail_at: int | None = None, resend_at: int | None = None) -> None:
        self.fail_at = fail_at
        self.resend_at = resend_at
        self.resent: list[str] = []  # the calls whose answer was dropped and that were sent again
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self.test_thread = threading.get_ident()
        self.starting = False  # the test thread's own calls count only inside start()

    def counts(self) -> bool:
        return (self.starting or threading.get_ident() != self.test_thread) and _called_from_adapter()

    def __call__(self, original):
        recorder = self

        def make_api_call(client, operation, params):
            if recorder.counts():
                with recorder.lock:
                    recorder.calls.append(f"{client.meta.service_model.service_name}.{operation}")
                    failing = len(recorder.calls) - 1 == recorder.fail_at
                    resending = len(recorder.calls) - 1 == recorder.resend_at
                if failing:
                    raise ClientError(
                        {"Error": {"Code": "InternalFailure", "Message": f"injected failure of {operation}"}},
                        operation,
                    )
                if resending:
                    return recorder.resent_once(operation, lambda: original(client, operation, params))
            return original(client, operation, params)

        return make_api_call

    def resent_once(self, operation: str, call):
        """The call lands, its answer is lost, and it is sent again unchanged, as the SDK's retry loop
        sends it: botocore fills the idempotency token (ClientRequestToken) into these same params on
        the first send, so the second carries it too, with the same RevisionId and execution name.
        Done here rather than through botocore's needs-retry event: registering a handler on a client
        that other threads are calling races with the emitter's lookup cache, and the handler can be
        skipped."""
        with suppress(ClientError):  # the answer is lost whatever it was
            call()
        self.resent.append(operation)
        return call()


def _called_from_adapter() -> bool:
    frame = sys._getframe(2)
    for _ in range(10):
        if frame is None:
            return False
        if ADAPTERS in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


@contextmanager
def recording(recorder: CallRecorder) -> Iterator[CallRecorder]:
    original = botocore.client.BaseClient._make_api_call
    botocore.client.BaseClient._make_api_call = recorder(original)
    try:
        yield recorder
    finally:
        botocore.client.BaseClient._make_api_call = original


def run_promotion(recorder: CallRecorder) -> dict:
    """One promotion covering every call site: alarms, both hooks, the fast gate's filter, a weighted
    step, promote."""
    with Sandbox(time_scale=TIME_SCALE) as box:
        targets = Targets(region=box.region)
        target = targets.function("orders")
        targets.alarm("orders-errors", "orders")
        hooks = {"pre_traffic": targets.hook("orders-pre"), "post_traffic": targets.hook("orders-post")}
        body = request(target, alarms=["orders-errors"], hooks=hooks, fast_gate={})
        service = box.service()
        outcome: dict = {"start_error": None}
        with recording(recorder):
            recorder.starting = True
            try:
                promotion_id = service.start(body, actor="fault-injector").id
            except (PromoterError, ClientError) as error:
                outcome["start_error"] = error
                records, _ = service.store.list(limit=5)
                promotion_id = records[0].id if records else None
            finally:
                recorder.starting = False
            final = box.wait_until_final(promotion_id, timeout=120) if promotion_id else None
        outcome["final"] = final
        outcome["alias"] = targets.alias_state("orders", "live")
        outcome["lock"] = service.store.lock_holder(f"{target_arn(box)}:live")
        outcome["resent"] = recorder.resent
        return outcome


def target_arn(box: Sandbox) -> str:
    return box.client("lambda").get_function(FunctionName="orders")["Configuration"]["FunctionArn"]


@pytest.fixture(scope="module")
def baseline() -> list[str]:
    recorder = CallRecorder()
    outcome = run_promotion(recorder)
    assert outcome["final"].status is Status.SUCCEEDED
    return recorder.calls


def test_baseline_covers_every_adapter_operation(baseline):
    operations = Counter(baseline)
    for expected in (
        "lambda.GetFunction",
        "lambda.GetAlias",
        "lambda.UpdateAlias",
        "lambda.Invoke",
        "cloudwatch.DescribeAlarms",
        "dynamodb.GetItem",
        "dynamodb.TransactWriteItems",
        "stepfunctions.StartExecution",
        "logs.PutSubscriptionFilter",
        "logs.DeleteSubscriptionFilter",
    ):
        assert operations[expected] > 0, f"baseline never called {expected}: {operations}"
    assert len(baseline) > 20  # the sweeps below really cover the calls
    written = {call for call in baseline if not is_read(call)}
    assert written >= {"lambda.UpdateAlias", "dynamodb.TransactWriteItems", "lambda.Invoke"}


def problems_of(outcome: dict) -> list[str]:
    """What breaks the promise: the alias on one version with empty routing, the target free, and
    a final record that tells the truth."""
    final, alias = outcome["final"], outcome["alias"]
    problems = []
    if alias["weights"]:
        problems.append(f"alias still routes {alias['weights']}")
    if outcome["lock"] is not None:
        problems.append(f"lock still held by {outcome['lock']}")
    if final is None:
        if outcome["start_error"] is None or alias["version"] != "1":
            problems.append(f"no record, and the alias moved to {alias['version']}")
    elif not final.status.is_final:
        problems.append(f"record left {final.status}")
    elif (final.status is Status.SUCCEEDED) != (alias["version"] == final.candidate_version):
        problems.append(f"record says {final.status} but the alias is on {alias['version']}")
    elif final.status is not Status.SUCCEEDED and alias["version"] != final.stable_version:
        problems.append(f"{final.status} but the alias is on {alias['version']}")
    return problems


# Each sweep is cut into parts (every PARTS-th call), so that make test's workers share it.
PARTS = 4


def part_of(calls: list[tuple[int, str]], part: int) -> list[tuple[int, str]]:
    chosen = calls[part::PARTS]
    assert chosen, f"part {part} of {PARTS} has no call to sweep"
    return chosen


@pytest.mark.parametrize("part", range(PARTS))
def test_each_call_failing_once_leaves_a_settled_alias_a_free_lock_and_a_true_record(baseline, part):
    problems = [
        f"call #{index} {call}: {problem}"
        for index, call in part_of(list(enumerate(baseline)), part)
        for problem in problems_of(run_promotion(CallRecorder(fail_at=index)))
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("part", range(PARTS))
def test_each_call_sent_again_after_its_answer_was_lost_still_succeeds(baseline, part):
    """A call that landed and whose answer was lost is sent again by the SDK, unchanged. AWS makes
    most of them harmless (TransactWriteItems' ClientRequestToken, StartExecution's name and input,
    PublishVersion's code); where it does not (UpdateAlias' RevisionId has moved on), the product
    tells its own landed write from drift. Either way the promotion ends as it would have. Reads are
    left out: one sent again changes nothing, and its second answer is only a later read (43 of the
    baseline's 77 calls, each a sandbox of its own)."""
    problems = []
    writes = [(index, call) for index, call in enumerate(baseline) if not is_read(call)]
    for index, call in part_of(writes, part):
        outcome = run_promotion(CallRecorder(resend_at=index))
        final, found = outcome["final"], problems_of(outcome)
        if not outcome["resent"]:
            found.append("it was never sent again")
        elif not found and (final is None or final.status is not Status.SUCCEEDED):
            reason = (final and final.outcome_reason) or outcome["start_error"]
            found.append(f"ended {final and final.status}: {reason}")
        problems += [f"call #{index} {call} sent again: {problem}" for problem in found]
    assert not problems, "\n".join(problems)


def is_read(call: str) -> bool:
    return call.split(".", 1)[1].startswith(("Get", "Describe", "List", "Query", "Scan"))
