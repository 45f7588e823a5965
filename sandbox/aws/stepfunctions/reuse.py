"""Step Functions: what does not change between executions is built once, not at every step.

moto parsed a state machine's whole definition (an ANTLR grammar) at the start of every execution,
built a new JSONPath parser (PLY tables) for every path it evaluated, and created a new boto3
client (a new Session: the service model read from disk again) for every Lambda task it ran. With
50 promotions at once these were a third of the sandbox's time. Nothing AWS does differs: the
parsed program keeps no state of its own between executions (each execution's attempts, variables
and results live in its own ``Environment``), a parsed JSONPath is never mutated, and a botocore
client is safe to share between threads
(https://boto3.amazonaws.com/v1/documentation/api/latest/guide/clients.html#multithreading-or-multiprocessing-with-clients).
"""

from __future__ import annotations

import functools
import sys
import threading
from typing import Any

_PROGRAMS = 8  # distinct definitions kept parsed: a sandbox deploys a few, and each start makes them anew
_PATHS = 4096  # distinct JSONPath expressions kept compiled


def parse_each_definition_once() -> None:
    """A definition is parsed once; executions of it share the program, as every execution of a
    state machine runs the definition it was created with
    (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-statemachines.html). A
    component's ``heap_key`` (where an execution keeps that component's state, such as a retrier's
    attempt count, in its own Environment) is made once under a lock, so two executions starting
    together agree on it."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.utils import long_uid

    AmazonStateLanguageParser.parse = staticmethod(functools.lru_cache(_PROGRAMS)(AmazonStateLanguageParser.parse))
    lock = threading.Lock()

    def heap_key(self: Any) -> str:
        key = self.__dict__.get("_EvalComponent__heap_key")
        if key is None:
            with lock:
                key = self.__dict__.setdefault("_EvalComponent__heap_key", long_uid())
        return str(key)

    EvalComponent.heap_key = property(heap_key)  # type: ignore[assignment]


def compile_each_json_path_once() -> None:
    """A JSONPath expression (``$.detail``, a ResultPath) is compiled once, not at every state
    (https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html)."""
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    json_path.parse = functools.lru_cache(_PATHS)(json_path.parse)
    result_path.parse = functools.lru_cache(_PATHS)(result_path.parse)


def one_client_per_service() -> None:
    """A task's AWS client (a Lambda task's invoke:
    https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html) is made once per
    Region, service and endpoint, then shared."""
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils  # noqa: F401
    from moto.stepfunctions.parser.asl.utils import boto_client

    make = boto_client.boto_client_for
    cached = functools.lru_cache(None)(lambda region, service, _in_process, _port: make(region, service))

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        return cached(region, service, botocore_stubber.enabled, moto_server_port())  # moto ignores the credentials

    boto_client.boto_client_for = boto_client_for
    for module in list(sys.modules.values()):  # the modules that imported it by name
        if getattr(module, "__name__", "").startswith("moto.stepfunctions.parser") and (
            getattr(module, "boto_client_for", None) is make
        ):
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]
