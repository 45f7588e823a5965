"""Step Functions' execution limits, applied as AWS applies them (moto 5.2.5's ASL interpreter).

Patches (installed by sandbox/install.py):

- **25,000 history events per execution.** A Standard workflow's history holds at most 25,000
  events; "if the execution history reaches this quota, the execution will fail" ("Step Functions
  service quotas", quotas related to state machine executions,
  https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html; "Using a Lambda
  function to continue a new execution", https://docs.aws.amazon.com/step-functions/latest/dg/tutorial-continue-new.html).
  On AWS event 25,000 is the failure itself: ``ExecutionFailed`` with error ``States.Runtime`` and
  cause "The execution reached the maximum number of history events (25000).", and event 24,999
  is the last one the machine produced. moto's ``EventManager.add_event`` counts without a limit,
  so a loop that never ends runs forever; here the event that would be number 25,000 is that
  failure, nothing is recorded after it, the state that asked for the event is unwound with that
  (uncatchable) ``States.Runtime``, the execution and every Map or Parallel branch of it stop, and
  DescribeExecution says FAILED with that error and cause.
- **``States.ALL`` does not catch ``States.DataLimitExceeded`` or ``States.Runtime``.** AWS: "This
  error type can't catch the States.DataLimitExceeded terminal error type and runtime error
  types", and "A States.Runtime error isn't retriable, and will always cause the execution to
  fail" ("Handling errors in Step Functions workflows", error names,
  https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html). moto's
  ``ErrorEqualsDecl`` lets ``States.ALL`` match every error, so a Catch would swallow a state
  whose output is over 256 KB. Here ``States.ALL`` matches neither, in a Catch or a Retry, and
  ``States.Runtime`` is not matched even by name. moto itself already raises
  ``States.DataLimitExceeded`` when a state's, a Lambda task's or a service task's result is over
  256 KB ("Maximum input or output size for a task, state, or execution: 256 KiB of data as a
  UTF-8 encoded string", the quotas page above; ``moto/stepfunctions/parser/quotas.py``).
- **256 KB of input after ``Parameters``.** AWS reports ``States.DataLimitExceeded`` "when, after
  Parameters processing, the input of a state is larger than the payload size quota" (the error
  handling page above). moto checks results and outputs only; here a Task's parameters (a Lambda
  task's payload, a service task's request) over 256 KB fail the task with that error before it
  runs. The cause text is moto's (AWS does not document the exact wording for inputs).
- **A Parallel state fails with its branch's error.** AWS: "If any branch fails, because of an
  unhandled error or by transitioning to a Fail state, the entire Parallel state fails" with that
  error, which its Catch can match ("Parallel workflow state",
  https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html). moto's
  ``BranchesDecl`` wraps the branch's error name in a ``CustomErrorName``, which refuses names
  beginning with ``States.``: a branch ending in ``States.DataLimitExceeded``, ``States.Timeout`` or
  ``States.TaskFailed`` crashed the interpreter into ``States.Runtime``. Here such a name stays a
  ``States.`` error name.
"""

from __future__ import annotations

import threading
from typing import Any

HISTORY_LIMIT = 25_000
HISTORY_LIMIT_ERROR = "States.Runtime"
HISTORY_LIMIT_CAUSE = f"The execution reached the maximum number of history events ({HISTORY_LIMIT})."
NOT_CAUGHT_BY_STATES_ALL = frozenset({"States.DataLimitExceeded", "States.Runtime"})
NEVER_CAUGHT = frozenset({"States.Runtime"})


# --- 25,000 events ------------------------------------------------------------------------------------
def _history_limit_details() -> Any:
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails

    return ExecutionFailedEventDetails(error=HISTORY_LIMIT_ERROR, cause=HISTORY_LIMIT_CAUSE)


def limit_history() -> None:
    """At most 25,000 history events per execution: the 25,000th is the failure (module docstring).
    https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"""
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    original_add_event = EventManager.add_event
    original_env_init = Environment.__init__
    original_set_error = Environment.set_error

    def env_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_env_init(self, *args, **kwargs)
        self.event_manager._sandbox_env = self  # frames (Map, Parallel) share the root's manager

    def set_error(self: Any, error: Any) -> None:
        if getattr(self.event_manager, "_sandbox_history_full", False):
            error = _history_limit_details()  # the limit is what ended it, whatever failed after
        original_set_error(self, error)

    def add_event(self: Any, context: Any, event_type: Any, *args: Any, **kwargs: Any) -> int:
        lock = self.__dict__.setdefault("_sandbox_lock", threading.RLock())
        with lock:
            if getattr(self, "_sandbox_history_full", False):
                return int(context.last_published_event_id)  # nothing is recorded after the failure
            if self._event_id_gen._next_id < HISTORY_LIMIT:
                return original_add_event(self, context, event_type, *args, **kwargs)
            self._sandbox_history_full = True
            details = _history_limit_details()
            event_id = original_add_event(
                self,
                context,
                HistoryEventType.ExecutionFailed,
                EventDetails(executionFailedEventDetails=details),  # type: ignore[typeddict-item]  # moto itself passes one key
            )
        env = getattr(self, "_sandbox_env", None)
        if env is None:
            return event_id
        env.set_error(details)  # stops the execution and its branches
        # and unwinds the state that asked for the event: States.Runtime, which nothing catches
        raise FailureEventException(
            FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=StatesErrorNameType.StatesRuntime),
                event_type=HistoryEventType.ExecutionFailed,
                event_details=EventDetails(executionFailedEventDetails=details),  # type: ignore[typeddict-item]  # moto itself passes one key
            )
        )

    Environment.__init__ = env_init
    Environment.set_error = set_error
    EventManager.add_event = add_event


# --- errors States.ALL does not catch -----------------------------------------------------------------
def terminal_errors() -> None:
    """``States.ALL`` catches neither ``States.DataLimitExceeded`` nor ``States.Runtime``.
    https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html"""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl

    original_eval_body = ErrorEqualsDecl._eval_body

    def eval_body(self: Any, env: Any) -> None:
        name = getattr(env.stack[-1], "error_name", None) if env.stack else None
        catches_all = ErrorEqualsDecl._STATE_ALL_ERROR in self.error_names
        if name in NEVER_CAUGHT or (catches_all and name in NOT_CAUGHT_BY_STATES_ALL):
            env.stack.pop()
            env.stack.append(False)
            return
        original_eval_body(self, env)

    ErrorEqualsDecl._eval_body = eval_body


# --- a Parallel state's branch error ---------------------------------------------------------------------
def parallel_branch_errors() -> None:
    """A Parallel state fails with its branch's error, ``States.`` names included.
    https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html"""
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

    def branch_error_name(error_name: str | None) -> Any:
        if error_name and error_name.startswith("States."):
            try:
                return StatesErrorName.from_name(error_name)
            except ValueError:  # a States. name the interpreter does not know
                pass
        return CustomErrorName(error_name=error_name)

    branches_decl.CustomErrorName = branch_error_name  # type: ignore[assignment,misc]


# --- a task's input after Parameters ---------------------------------------------------------------------
def limit_task_input() -> None:
    """A task's input after ``Parameters`` over 256 KB is ``States.DataLimitExceeded``.
    https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html"""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
        state_task,
        state_task_activitiy,
        state_task_lambda,
    )
    from moto.stepfunctions.parser.quotas import is_within_size_quota

    # service tasks inherit StateTask's; Lambda and activity tasks have their own
    for cls in (state_task.StateTask, state_task_lambda.StateTaskLambda, state_task_activitiy.StateTaskActivity):
        original = cls.__dict__["_eval_parameters"]

        def eval_parameters(self: Any, env: Any, _original: Any = original) -> dict:
            parameters = _original(self, env)
            if not is_within_size_quota(parameters):
                self._verify_size_quota(env, parameters)  # raises States.DataLimitExceeded for this task
            return parameters

        cls._eval_parameters = eval_parameters
