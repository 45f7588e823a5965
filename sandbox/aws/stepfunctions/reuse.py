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
import importlib
import sys
import threading
from typing import Any

_PROGRAMS = 8  # distinct definitions kept parsed: a sandbox deploys a few, and each start makes them anew
_PATHS = 4096  # distinct JSONPath expressions kept compiled
_CLIENTS = 64  # task clients kept: each sandbox's role sessions are new keys
_TASKS = "moto.stepfunctions.parser.asl.component.state.exec"
# Every module of moto 5.2.5 that makes a task's client with boto_client_for, imported by name.
_CLIENT_USERS = (
    f"{_TASKS}.state_task.lambda_eval_utils",
    *(
        f"{_TASKS}.state_task.service.state_task_service_{service}"
        for service in ("aws_sdk", "batch", "dynamodb", "ecs", "events", "glue", "sfn", "sns", "sqs", "unsupported")
    ),
    f"{_TASKS}.state_map.item_reader.eval.resource_eval_s3",
    f"{_TASKS}.state_map.result_writer.resource_eval.resource_eval_s3",
)


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
    Region, service, endpoint and keys, then shared. The keys are a session of the state machine's
    role (sandbox/aws/iam/policy.py, ``task_keys``), where moto's own client signs as the root."""
    import boto3
    from botocore.config import Config
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
    from moto.stepfunctions.parser.asl.utils import boto_client

    from ..iam.policy import task_keys

    for name in _CLIENT_USERS:  # imported first, so that each one's name for the function is replaced
        importlib.import_module(name)
    make = boto_client.boto_client_for
    # As moto's boto_client_for makes it, with the role's keys instead of its fixed ones.
    config = Config(
        parameter_validation=False,
        retries={"max_attempts": 0, "total_max_attempts": 1},
        connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
        read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
    )

    @functools.lru_cache(_CLIENTS)
    def cached(region: str, service: str, in_process: bool, port: int, keys: tuple[str, str, str] | None) -> Any:
        if keys is None:
            return make(region, service)
        access_key, secret_key, token = keys
        return boto3.client(  # type: ignore[call-overload]  # the service is named at run time
            service,
            endpoint_url=None if in_process else f"http://localhost:{port}",
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=token,
            config=config,
        )

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        keys = task_keys(state_credentials, region)
        return cached(region, service, botocore_stubber.enabled, moto_server_port(), keys)

    boto_client.boto_client_for = boto_client_for
    for module in list(sys.modules.values()):  # the modules that imported it by name
        if getattr(module, "__name__", "").startswith("moto.stepfunctions.parser") and (
            getattr(module, "boto_client_for", None) is make
        ):
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]
