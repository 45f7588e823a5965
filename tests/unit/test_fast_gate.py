"""The fast gate's pure parts: its filter pattern, the payload's decoding, what counts, the window."""

from __future__ import annotations

import pytest

from promoter import fast_gate
from promoter.fast_gate import FastGateSpec

CANDIDATE_STREAM = "2026/12/04/[7]0123456789abcdef0123456789abcdef"
STABLE_STREAM = "2026/12/04/[6]fedcba9876543210fedcba9876543210"


def delivery(stream: str, *messages: str, at_ms: int = 1_700_000_000_000, kind: str = "DATA_MESSAGE") -> dict:
    return {
        "messageType": kind,
        "owner": "123456789012",
        "logGroup": "/aws/lambda/orders",
        "logStream": stream,
        "subscriptionFilters": [fast_gate.filter_name_for("p-20261204T100000-abcd")],
        "logEvents": [
            {"id": f"{i:056d}", "timestamp": at_ms + i * 400, "message": message} for i, message in enumerate(messages)
        ],
    }


def test_the_filter_pattern_is_any_of_the_error_terms_and_the_requests_own():
    assert FastGateSpec().filter_pattern() == '?"[ERROR]" ?"Traceback" ?"Task timed out"'
    assert FastGateSpec(pattern="PaymentDeclined").filter_pattern().endswith(' ?"PaymentDeclined"')


def test_defaults_are_5_errors_in_60_seconds():
    spec = FastGateSpec()
    assert (spec.max_errors, spec.window_seconds, spec.pattern) == (5, 60, None)
    assert not fast_gate.over_threshold(5, spec) and fast_gate.over_threshold(6, spec)
    assert fast_gate.over_threshold(1, FastGateSpec(max_errors=0))


def test_a_payload_decodes_as_cloudwatch_logs_sends_it():
    raw = delivery(CANDIDATE_STREAM, "[ERROR] RuntimeError: boom")
    decoded = fast_gate.decode(fast_gate.encode(raw))
    assert decoded.version == "7"
    assert decoded.promotion_ids == ["p-20261204T100000-abcd"]
    assert decoded.logEvents[0].message == "[ERROR] RuntimeError: boom"


@pytest.mark.parametrize(
    "event", [{}, {"awslogs": {}}, {"awslogs": {"data": "not base64!"}}, {"awslogs": {"data": ""}}]
)
def test_anything_else_is_refused(event):
    with pytest.raises(ValueError, match="not a CloudWatch Logs subscription payload"):
        fast_gate.decode(event)


def test_only_the_candidates_streams_and_error_lines_count():
    spec = FastGateSpec(pattern="PaymentDeclined")
    lines = (
        "[ERROR] KeyError: 'id'",
        "all good",
        "PaymentDeclined for order 9",
        "... Task timed out after 3.00 seconds",
    )
    candidate = fast_gate.decode(fast_gate.encode(delivery(CANDIDATE_STREAM, *lines)))
    stable = fast_gate.decode(fast_gate.encode(delivery(STABLE_STREAM, *lines)))
    assert [e.message for e in fast_gate.counted_events(candidate, "7", spec)] == [lines[0], lines[2], lines[3]]
    assert fast_gate.counted_events(stable, "7", spec) == []
    assert fast_gate.counted_events(candidate, None, spec) == []  # no candidate yet
    control = fast_gate.decode(fast_gate.encode(delivery(CANDIDATE_STREAM, *lines, kind="CONTROL_MESSAGE")))
    assert fast_gate.counted_events(control, "7", spec) == []


def test_a_filter_of_someone_else_names_no_promotion():
    raw = delivery(CANDIDATE_STREAM, "[ERROR] x") | {"subscriptionFilters": ["their-own-filter"]}
    assert fast_gate.decode(fast_gate.encode(raw)).promotion_ids == []


def test_stream_names_give_the_version():
    assert fast_gate.version_of_stream(CANDIDATE_STREAM) == "7"
    assert fast_gate.version_of_stream("2026/12/04/[$LATEST]abc") == "$LATEST"
    assert fast_gate.version_of_stream("not-a-lambda-stream") is None


def test_events_are_bucketed_by_second_and_the_window_ends_at_the_latest():
    decoded = fast_gate.decode(fast_gate.encode(delivery(CANDIDATE_STREAM, "[ERROR] a", "[ERROR] b", "[ERROR] c")))
    buckets = fast_gate.seconds_of(decoded.logEvents)  # at +0, +400 and +800 ms of a whole second
    assert buckets == {1_700_000_000: [f"{0:056d}", f"{1:056d}", f"{2:056d}"]}
    assert fast_gate.window_of(1_700_000_000, 60) == (1_699_999_941, 1_700_000_000)  # 60 seconds, both ends
