"""Runs a Lambda function's own code in this process: the sandbox's replacement for Docker.

The function's zip (and its layers' zips) are unpacked once per CodeSha256, its module is
imported under a name of its own, and the handler runs with the function's environment
variables and a Lambda-like context. An exception becomes ``{"errorType", "errorMessage"}``,
as in Lambda, so that an ASL ``Catch`` matches it by class name.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LOCK = threading.RLock()  # os.environ is process-wide: one invocation at a time
_CACHE = Path(tempfile.gettempdir()) / "lambda-promoter-sandbox-code"
_MODULES: dict[tuple[str, str], Any] = {}


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


class _ThreadStdout(io.TextIOBase):
    """sys.stdout that sends a thread's writes to its capture buffer while it runs a handler."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.local = threading.local()

    def write(self, text: str) -> int:
        buffer = getattr(self.local, "buffer", None)
        return (buffer or self.real).write(text)

    def flush(self) -> None:
        self.real.flush()

    @contextlib.contextmanager
    def capture(self) -> Any:
        self.local.buffer = io.StringIO()
        try:
            yield self.local.buffer
        finally:
            self.local.buffer = None


STDOUT: _ThreadStdout | None = None


def install_stdout_capture() -> None:
    global STDOUT
    if STDOUT is None:
        STDOUT = _ThreadStdout(sys.stdout)
        sys.stdout = STDOUT


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


def _load_handler(code_dir: Path, handler: str) -> Any:
    module_path, _, function_name = handler.rpartition(".")
    key = (str(code_dir), module_path)
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


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Any:
    """Set the function's variables, then put back exactly what was there. Never clears the whole
    environment: other threads (the sandbox server's API, moto) read it meanwhile."""
    before = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        for key in [k for k in os.environ if k not in before]:
            os.environ.pop(key, None)
        for key, value in before.items():
            if os.environ.get(key) != value:
                os.environ[key] = value


def run(
    *,
    code_dir: Path,
    layer_dirs: list[Path],
    handler: str,
    event: Any,
    env: dict[str, str],
    context: Context,
) -> tuple[str, bool, str]:
    """Invoke ``handler`` and return (payload JSON, errored, logs)."""
    with _LOCK:
        for layer in layer_dirs:  # Lambda mounts layers at /opt; python/ is on the path
            for candidate in (layer / "python", layer):
                if candidate.exists() and str(candidate) not in sys.path:
                    sys.path.append(str(candidate))
        with _environment(env), STDOUT.capture() if STDOUT else contextlib.nullcontext(io.StringIO()) as logs:
            context._deadline = time.monotonic() + context.timeout_seconds
            try:
                result = _load_handler(code_dir, handler)(event, context)
                return json.dumps(result, default=str), False, logs.getvalue()
            except Exception as error:  # noqa: BLE001 - every error becomes Lambda's error payload
                logs.write(traceback.format_exc())
                payload = {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_tb(error.__traceback__)[-5:],
                }
                return json.dumps(payload), True, logs.getvalue()


def new_context(fn: Any) -> Context:
    return Context(
        function_name=fn.function_name,
        function_version=str(fn.version),
        invoked_function_arn=fn.function_arn,
        memory_limit_in_mb=int(fn.memory_size or 128),
        timeout_seconds=float(fn.timeout or 3),
        aws_request_id=str(uuid.uuid4()),
        log_group_name=f"/aws/lambda/{fn.function_name}",
        log_stream_name=f"sandbox/[{fn.version}]{uuid.uuid4().hex}",
    )
