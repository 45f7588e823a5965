"""Pure: how big a promotion may be, derived from AWS's limits with headroom. One place for all of it.

A request beyond these is refused up front (422 naming the field and the limit), because a
promotion that outgrows its execution fails half-way with the alias split and the target locked.

Step Functions Standard (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html):
an execution has at most 25,000 history events and runs at most one year.

**Steps.** Measured on the sandbox (real ASL and handlers) at commit 596127e: state transitions
with ``.venv/bin/python -m bench.transitions`` (canary 14, linear 10% 62, whatever the bake), and
GetExecutionHistory of executions with 1, 2, 10, 20 and 200 steps, with and without approval,
both hooks, an alarm and a watch window (``.venv/bin/python -m pytest tests/unit/test_limits.py
-k history`` re-measures the per-step and fixed counts and fails if they outgrow the budget):

    all-at-once (1 step)                          35 events
    canary (2 steps)                              55
    linear 10% (10 steps)                        231
    linear 5% (20 steps)                         451   -> 22 per weighted step (Shift, Hold, Check, 2 Choices, a Pass)
    linear 10%, approval + hooks + alarm + watch 248
    linear 5%,  approval + hooks + alarm + watch 468   -> 50 fixed, with every gate on
    linear 0.5% (200 steps), every gate on      4428   = 50 + 22 x 199 (record: 85 KB of JSON)

The protocol rework of issue 9 (ASL in progress on 2026-12-02: gates after every step, the watch
window as a Hold) measured 241 and 441 events for 10 and 20 steps with every gate on: 20 per
step, 61 fixed. The artifact carry (2026-12-04) added the NeedsCarry Choice (2 events: 63 fixed,
measured) and, when a pipeline carries a zip, the Carry Task (5 more). The budget takes the larger
of each: 22 per step, 68 fixed. Since Check shifts to the next step itself (no Shift Task per
step, also 2026-12-04), a step costs fewer events than that; the budget keeps 22.

Worst case per step adds every retry the ASL allows: each of the step's 3 Tasks retried 4 times,
3 events (TaskScheduled, TaskStarted, TaskFailed) each: 22 + 3 x 4 x 3 = 58. The fixed part
with all its retries: 68 + 10 Tasks x 5 retries x 3 = 218. With 2x headroom (pauses and resumes,
signals, alarm events, a later version of the ASL):
(25,000 / 2 - 218) / 58 = 211 steps -> MAX_STEPS = 200 (the final 100% step included).

**Duration.** The bakes, the watch window and the approval wait (the ASL's AwaitApproval times
out after 7 days) must fit in half of the one-year limit, leaving the other half for pauses
(each up to 7 days), retries and a slow approval: 365 days / 2 = 182.5 -> MAX_TOTAL_SECONDS =
180 days.
"""

from __future__ import annotations

import math

STEP_FUNCTIONS_MAX_HISTORY_EVENTS = 25_000
STEP_FUNCTIONS_MAX_EXECUTION_SECONDS = 365 * 86_400

EVENTS_PER_STEP = 22  # measured, see above
EVENTS_FIXED = 68  # measured with approval, both hooks, an alarm and a watch window, plus a carry
EVENTS_PER_STEP_WORST = EVENTS_PER_STEP + 3 * 4 * 3  # every Task of the step retried 4 times
EVENTS_FIXED_WORST = EVENTS_FIXED + 10 * 5 * 3  # the other 10 Tasks retried 5 times
HEADROOM = 2

MAX_STEPS = 200  # traffic steps, the final 100% one included: (25,000 / 2 - 218) / 58 = 211, rounded down
MIN_LINEAR_STEP = 1 / MAX_STEPS  # 0.005: 200 steps
MAX_BAKE_SECONDS = 86_400  # one step's bake (and the watch window): a day
APPROVAL_WAIT_SECONDS = 7 * 86_400  # AwaitApproval's TimeoutSeconds in statemachines/promotion.asl.json
MAX_TOTAL_SECONDS = 180 * 86_400  # bakes + watch + approval wait: under half of Step Functions' year

# Canary analysis ("analysis" on a request): a judged step runs HasJudgedHold and Judge, then JudgeMove
# (9 more events, measured on the sandbox by tests/workflow/test_judge.py's executions), and each
# extension of its bake a HoldJudged and a Judge again (12 more). Worst case adds their retries.
JUDGE_EVENTS_PER_STEP = 9
JUDGE_EVENTS_PER_EXTENSION = 12
TASK_RETRY_EVENTS = 4 * 3  # a Task retried 4 times, 3 events each


def max_judged_steps(max_extensions: int) -> int:
    """Weighted steps that fit one execution's history when each is judged and may be extended
    ``max_extensions`` times: the same budget as MAX_STEPS, with the Judge's events per step."""
    per_step = (
        EVENTS_PER_STEP_WORST
        + JUDGE_EVENTS_PER_STEP
        + TASK_RETRY_EVENTS
        + max_extensions * (JUDGE_EVENTS_PER_EXTENSION + 2 * TASK_RETRY_EVENTS)
    )
    return int((STEP_FUNCTIONS_MAX_HISTORY_EVENTS / HEADROOM - EVENTS_FIXED_WORST) // per_step)


MAX_ALARMS = 20
DYNAMODB_MAX_ITEM_BYTES = 400 * 1024  # an item, its attribute names and values together
# The record item (events are items of their own): 83 KB measured with 200 steps, 200 signals from
# long role-session ARNs and 20 alarms of 255 characters (tests/unit/test_record_budget.py); the
# budget is half of DynamoDB's limit.
RECORD_BUDGET_BYTES = 200_000
# No request body is deeper than 6 levels (a schedule's promotion's custom steps); 32 leaves room and
# stays far below Python's recursion limit, which a body nested 1,000 levels deep hits in json.loads.
MAX_JSON_DEPTH = 32
ALARM_NAME_MAX_LENGTH = 255  # CloudWatch AlarmName: 1 to 255 characters


def linear_step_count(step: float) -> int:
    """How many traffic steps ``{"type": "linear", "step": step}`` makes, the final 100% included,
    without building them (``promoter.strategies.steps_for`` builds the same number)."""
    ratio = round(1 / step, 9) if step > 0 else math.inf
    return math.ceil(ratio) if math.isfinite(ratio) else STEP_FUNCTIONS_MAX_HISTORY_EVENTS  # more than fit


def duration_days(seconds: int) -> str:
    return f"{seconds / 86_400:g} days"
