"""Runs a Lambda function's own code in this process: the sandbox's replacement for Docker.

The function's zip (and its layers' zips) are unpacked once per CodeSha256, its module is
imported under a name of its own, and the handler runs on a worker thread of its own with the
function's environment variables and a Lambda-like context, as Lambda runs each invocation in an
execution environment of its own (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html):

- Invocations run concurrently, nested ones included (a handler that invokes another function, in
  this process or over HTTP on another thread of the sandbox server). Nothing serializes them.
- Each invocation sees its own environment: ``os.environ`` is replaced once (``install``) by a
  mapping that reads and writes a per-thread overlay while a handler runs (``ThreadEnviron``).
- The function's ``Timeout`` ends the invocation with AWS's "Task timed out" error; the hung
  handler's thread is abandoned (a daemon), so it holds no caller.
- An exception becomes ``{"errorType", "errorMessage", ...}``, as in Lambda, so that an ASL ``Catch``
  matches it by class name; ``sys.exit`` and other BaseExceptions become ``Runtime.ExitError``
  (https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import sys
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_CACHE = Path(tempfile.gettempdir()) / "lambda-promoter-sandbox-code"
_MODULES: dict[tuple[str, str, str], Any] = {}  # (execution environment, code folder, module)
# Importing mutates sys.path (the code's folder first): one import at a time, so that two functions'
# modules of the same name never see each other's folder. Held only while a module loads.
_IMPORTS = threading.RLock()


class _Hold:
    """``with HOLD:`` keeps handlers of other threads from starting until the block ends (tests use
    it to show that work happens on another thread). Re-entrant: the holding thread's own
    invocations run. Invocations never hold it themselves, so they never wait for each other."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> _Hold:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._lock.release()

    def wait(self) -> None:
        with self._lock:
            pass


HOLD = _Hold()


@dataclass
class Context:
    """The parts of the Lambda context object that handlers and Powertools read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: float
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    _deadline: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# --- stdout: each handler's prints go to its own invocation's log ----------------------------------
class _ThreadStdout(io.TextIOBase):
    """sys.stdout that sends a thread's writes to its capture buffer while it runs a handler."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.local = threading.local()

    def write(self, text: str) -> int:
        target = getattr(self.local, "buffer", None) or self.real
        if getattr(target, "closed", False):  # a capture that replaced stdout, since closed (capsys)
            target = sys.__stdout__
        return target.write(text)

    def flush(self) -> None:
        self.real.flush()

    @contextlib.contextmanager
    def capture(self, buffer: io.StringIO | None = None) -> Any:
        self.local.buffer = buffer if buffer is not None else io.StringIO()
        try:
            yield self.local.buffer
        finally:
            self.local.buffer = None


STDOUT: _ThreadStdout | None = None


def install_stdout_capture() -> None:
    """Put the per-thread capture in front of ``sys.stdout``, again if something replaced it since:
    pytest's capture sets ``sys.stdout`` anew at every test phase, and a handler's prints must
    still reach its log. Called before every invocation. Lambda sends each invocation's output to
    its own log stream: https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html"""
    global STDOUT
    if STDOUT is None:
        STDOUT = _ThreadStdout(sys.stdout)
    if sys.stdout is not STDOUT:
        STDOUT.real = sys.stdout
        sys.stdout = STDOUT


def _capture(buffer: io.StringIO) -> Any:
    """Send the calling thread's prints to ``buffer`` (a worker's own log) while the block runs."""
    return STDOUT.capture(buffer) if STDOUT else contextlib.nullcontext(buffer)


# --- environment: each invocation's variables, on its own thread -----------------------------------
@dataclass
class _Overlay:
    values: dict[str, str]
    removed: set[str] = field(default_factory=set)


class ThreadEnviron(MutableMapping[str, str]):
    """``os.environ`` for a process that runs many functions at once.

    While a handler runs on a thread, that thread reads and writes an overlay holding the function's
    variables; keys the overlay lacks fall through to the real environment (credentials, endpoint),
    and keys the handler deletes stay deleted for it only. Every other thread (moto, the API server,
    the sandbox's workers) reads and writes the real environment, as before. Threads that a handler
    starts itself see the real environment, not the function's variables; so does a subprocess
    started with ``env=None`` (it inherits the process's C environment).
    """

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self.base = base
        self._local = threading.local()

    def _overlay(self) -> _Overlay | None:
        return getattr(self._local, "overlay", None)

    @contextlib.contextmanager
    def overlay(self, values: dict[str, str]) -> Iterator[None]:
        """Run the block with ``values`` as this thread's environment (over the real one)."""
        previous = self._overlay()
        self._local.overlay = _Overlay(dict(values))
        try:
            yield
        finally:
            self._local.overlay = previous

    def __getitem__(self, key: str) -> str:
        overlay = self._overlay()
        if overlay is None:
            return self.base[key]
        if key in overlay.values:
            return overlay.values[key]
        if key in overlay.removed:
            raise KeyError(key)
        return self.base[key]

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __setitem__(self, key: str, value: str) -> None:
        overlay = self._overlay()
        if overlay is None:
            self.base[key] = value
            return
        for item in (key, value):
            if not isinstance(item, str):
                raise TypeError(f"str expected, not {type(item).__name__}")
        overlay.values[key] = value
        overlay.removed.discard(key)

    def __delitem__(self, key: str) -> None:
        overlay = self._overlay()
        if overlay is None:
            del self.base[key]
            return
        if key not in self:
            raise KeyError(key)
        overlay.values.pop(key, None)
        overlay.removed.add(key)

    def __iter__(self) -> Iterator[str]:
        overlay = self._overlay()
        if overlay is None:
            yield from list(self.base)
            return
        yield from list(overlay.values)
        yield from (k for k in list(self.base) if k not in overlay.values and k not in overlay.removed)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def clear(self) -> None:
        if self._overlay() is None:
            self.base.clear()
        else:
            for key in list(self):
                del self[key]

    def copy(self) -> dict[str, str]:
        return dict(self)

    def __or__(self, other: Any) -> dict[str, str]:
        return dict(self) | dict(other)

    def __ror__(self, other: Any) -> dict[str, str]:
        return dict(other) | dict(self)

    def __ior__(self, other: Any) -> ThreadEnviron:
        self.update(other)
        return self

    def __repr__(self) -> str:
        return f"ThreadEnviron({dict(self)!r})"


ENVIRON: ThreadEnviron | None = None


def install_environ() -> None:
    """Replace ``os.environ`` (once) by a ``ThreadEnviron`` over the real one; ``os.getenv`` reads
    ``os.environ``, so it follows. boto3's default session is dropped so that it is rebuilt on the
    new mapping (botocore binds the environment it reads when a session is made). Each Lambda
    execution environment has its own variables:
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html"""
    global ENVIRON
    if ENVIRON is None:
        ENVIRON = ThreadEnviron(os.environ)
        os.environ = ENVIRON  # type: ignore[assignment]  # noqa: B003 - replaced on purpose, never cleared
        boto3 = sys.modules.get("boto3")
        if boto3 is not None:
            vars(boto3)["DEFAULT_SESSION"] = None  # not imported here if no one has yet


def _environment(values: dict[str, str]) -> Any:
    return ENVIRON.overlay(values) if ENVIRON else contextlib.nullcontext()


# --- code -------------------------------------------------------------------------------------------
def unpack(code: bytes, sha: str) -> Path:
    target = _CACHE / sha.replace("/", "_").replace("+", "-")
    if not target.exists():
        staging = Path(tempfile.mkdtemp(dir=_CACHE.parent if _CACHE.parent.exists() else None))
        with zipfile.ZipFile(io.BytesIO(code)) as archive:
            archive.extractall(staging)
        _CACHE.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # another thread unpacked it first
            staging.rename(target)
    return target


def _mount_layers(layer_dirs: list[Path]) -> None:
    """Lambda mounts layers at /opt, with python/ on the path."""
    with _IMPORTS:
        for layer in layer_dirs:
            for candidate in (layer / "python", layer):
                if candidate.exists() and str(candidate) not in sys.path:
                    sys.path.append(str(candidate))


def _load_handler(instance: str, code_dir: Path, handler: str) -> Any:
    """The handler of ``instance``'s module, imported on its first invocation (its init phase)."""
    module_path, _, function_name = handler.rpartition(".")
    key = (instance, str(code_dir), module_path)
    with _IMPORTS:
        module = _MODULES.get(key)
        if module is None:
            file = code_dir / (module_path.replace(".", "/") + ".py")
            if not file.exists():
                raise ImportError(f"Unable to import module '{module_path}': no {file.name} in the code")
            spec = importlib.util.spec_from_file_location(f"_lambda_{abs(hash(key))}_{module_path}", file)
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            sys.path.insert(0, str(code_dir))
            try:
                spec.loader.exec_module(module)  # type: ignore[union-attr]
            finally:
                sys.path.remove(str(code_dir))
            _MODULES[key] = module
    return getattr(module, function_name)


def _forget(instance: str, code_dir: Path, handler: str) -> None:
    """The execution environment is gone (exit, timeout): the next invocation initializes anew."""
    with _IMPORTS:
        _MODULES.pop((instance, str(code_dir), handler.rpartition(".")[0]), None)


# --- errors, as the Python runtime reports them -----------------------------------------------------
def _error_payload(error: Exception, context: Context) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": context.aws_request_id,
        "stackTrace": traceback.format_tb(error.__traceback__)[-5:],
    }


def _exit_reason(error: BaseException) -> str:
    """What Lambda says when the runtime process ends (sys.exit, an uncaught BaseException)."""
    if isinstance(error, SystemExit):
        code = error.code
        if code is None or code == 0:
            return "Runtime exited without providing a reason"
        return f"Runtime exited with error: exit status {code if isinstance(code, int) else 1}"
    if isinstance(error, KeyboardInterrupt):
        return "Runtime exited with error: signal: interrupt"
    return "Runtime exited with error: exit status 1"


def exit_payload(error: BaseException, context: Context) -> dict[str, Any]:
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {context.aws_request_id} Error: {_exit_reason(error)}",
    }


# The log writer (sandbox/aws/logs.py) keeps lines joined with this as one event: a private-use
# character, which str.splitlines does not split on.
ONE_EVENT_NEWLINE = "\ue000"


def error_log_event(error: BaseException) -> str:
    """An uncaught exception as the Python runtime logs it: one event, ``[ERROR] Type: message``
    then the traceback (https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html).
    Its lines are joined with ``ONE_EVENT_NEWLINE`` so that the log writer keeps them one event."""
    lines = [f"[ERROR] {type(error).__name__}: {error}", *traceback.format_exc().rstrip("\n").splitlines()]
    return ONE_EVENT_NEWLINE.join(lines) + "\n"


def timeout_payload(context: Context) -> dict[str, Any]:
    return {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {context.aws_request_id} Error: "
        f"Task timed out after {context.timeout_seconds:.2f} seconds",
    }


# --- running ----------------------------------------------------------------------------------------
@dataclass
class _Outcome:
    payload: str = ""
    errored: bool = False
    logs: str = ""


def _run_handler(
    instance: str, code_dir: Path, handler: str, event: Any, env: dict[str, str], context: Context, logs: io.StringIO
) -> _Outcome:
    """On the worker thread: the function's environment, its own stdout buffer, its handler."""
    outcome = _Outcome()
    with _environment(env), _capture(logs):
        try:
            result = _load_handler(instance, code_dir, handler)(event, context)
            outcome.payload = json.dumps(result, default=str)
        except Exception as error:  # noqa: BLE001 - every error becomes Lambda's error payload
            logs.write(error_log_event(error))
            outcome.payload, outcome.errored = json.dumps(_error_payload(error, context)), True
        except BaseException as error:  # noqa: BLE001 - the runtime process would end: Runtime.ExitError
            logs.write(traceback.format_exc())
            outcome.payload, outcome.errored = json.dumps(exit_payload(error, context)), True
            _forget(instance, code_dir, handler)
        outcome.logs = logs.getvalue()
    return outcome


def run(
    *,
    code_dir: Path,
    layer_dirs: list[Path],
    handler: str,
    event: Any,
    env: dict[str, str],
    context: Context,
    timeout: float | None = None,
    instance: str = "",
) -> tuple[str, bool, str]:
    """Invoke ``handler`` on a worker thread and return (payload JSON, errored, logs).

    ``timeout`` is how long to wait in real seconds (default: the context's ``timeout_seconds``).
    A handler still running then is abandoned on its daemon thread: the invocation ends with AWS's
    ``Sandbox.Timedout`` error, and whatever the handler returns later is dropped. ``instance``
    names the function version's execution environment: its module is loaded once per instance.
    """
    HOLD.wait()
    if STDOUT is not None:
        install_stdout_capture()
    _mount_layers(layer_dirs)
    wait = context.timeout_seconds if timeout is None else timeout
    context._deadline = time.monotonic() + wait
    box: list[_Outcome] = []
    logs = io.StringIO()

    def work() -> None:
        box.append(_run_handler(instance, code_dir, handler, event, env, context, logs))

    worker = threading.Thread(target=work, name=f"lambda {context.function_name}", daemon=True)
    worker.start()
    worker.join(wait)
    if box:
        outcome = box[0]
        return outcome.payload, outcome.errored, outcome.logs
    _forget(instance, code_dir, handler)
    line = f"{_now_iso()} {context.aws_request_id} Task timed out after {context.timeout_seconds:.2f} seconds\n"
    return json.dumps(timeout_payload(context)), True, logs.getvalue() + line


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def log_stream_name(version: str, when: datetime | None = None) -> str:
    """AWS's stream name for an execution environment: ``YYYY/MM/DD/[VERSION]<32 hex>``
    (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html)."""
    day = (when or datetime.now(UTC)).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{uuid.uuid4().hex}"


def new_context(fn: Any) -> Context:
    return Context(
        function_name=fn.function_name,
        function_version=str(fn.version),
        invoked_function_arn=fn.function_arn,
        memory_limit_in_mb=int(fn.memory_size or 128),
        timeout_seconds=float(fn.timeout or 3),
        aws_request_id=str(uuid.uuid4()),
        log_group_name=f"/aws/lambda/{fn.function_name}",
        log_stream_name=log_stream_name(str(fn.version)),
    )
