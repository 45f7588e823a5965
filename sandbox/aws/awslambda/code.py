"""A function's code, as Lambda hands it out: GetFunction's download URL and an image's digest.

These carry one artifact between functions (pipelines): the control plane reads a version's code
from one function and writes it into another, in this account or in another.
"""

from __future__ import annotations

import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ...clock import CLOCK

URL_SECONDS = 600  # GetFunction's Code.Location is valid for 10 minutes in AWS (on the sandbox clock)


class CodeServer:
    """Serves function zips at ``/lambda-code/<sha256 hex>?expires=<epoch>`` on 127.0.0.1."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def url_for(self, code: bytes, digest: str) -> str:
        with self._lock:
            self._blobs[digest] = code
            if self._server is None:
                self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
                self._server.daemon_threads = True
                threading.Thread(target=self._server.serve_forever, daemon=True, name="sandbox-code-urls").start()
            port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/lambda-code/{digest}?expires={int(CLOCK.now()) + URL_SECONDS}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        blobs = self._blobs

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path, _, query = self.path.partition("?")
                digest = path.rsplit("/", 1)[-1]
                expires = dict(p.partition("=")[::2] for p in query.split("&") if p).get("expires", "0")
                if not expires.isdigit() or int(expires) < CLOCK.now():
                    self._answer(403, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
                elif digest not in blobs:
                    self._answer(404, b"<Error><Code>NoSuchKey</Code></Error>")
                else:
                    self._answer(200, blobs[digest], "application/zip")

            def _answer(self, status: int, body: bytes, kind: str = "application/xml") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        return Handler


CODE_SERVER = CodeServer()


def serve_code_locations() -> None:
    """GetFunction's ``Code.Location`` is a short-lived URL (10 minutes) that a plain HTTP GET without
    credentials fetches, as on AWS; moto answers an ``awslambda-<region>-tasks.s3`` URL that nothing
    serves. A small HTTP server on 127.0.0.1 in this process serves the version's zip, in
    ``mock_aws`` and in server mode, from boto3, ``aws lambda get-function`` or curl.
    https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCodeLocation.html"""
    import hashlib

    from moto.awslambda import models as lambda_models

    original = lambda_models.LambdaFunction.get_code

    def get_code(self: Any) -> dict[str, Any]:
        answer = original(self)
        code = getattr(self, "code_bytes", b"")
        if "Location" in answer.get("Code", {}) and code:
            answer["Code"]["Location"] = CODE_SERVER.url_for(code, hashlib.sha256(code).hexdigest())
        return answer

    lambda_models.LambdaFunction.get_code = get_code


def image_digests_as_code_sha() -> None:
    """An image function's CodeSha256 is its image digest, as on AWS: with moto's ECR stub it was the
    SHA-256 of the ImageUri *string*. An ImageUri pinned by digest (``repo@sha256:<hex>``) gets
    ``<hex>``, so the same image gives the same CodeSha256 in two functions.
    https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html#lambda-Type-FunctionConfiguration-CodeSha256"""
    from moto import settings
    from moto.awslambda import models as lambda_models

    original = lambda_models.LambdaFunction._set_function_code

    def set_function_code(self: Any, updated_spec: dict[str, Any]) -> None:
        original(self, updated_spec)
        uri = updated_spec.get("ImageUri") or ""
        if settings.lambda_stub_ecr() and "@sha256:" in uri and not updated_spec.get("DryRun"):
            self.code_sha_256 = uri.split("@sha256:", 1)[1]

    lambda_models.LambdaFunction._set_function_code = set_function_code


# AWS's request limit for CreateFunction and UpdateFunctionCode: a 50 MiB zip, base64-encoded in the JSON.
MAX_CODE_REQUEST_BYTES = 69905067


def refuse_oversized_zip_uploads() -> None:
    """CreateFunction and UpdateFunctionCode take a ``ZipFile`` of at most 50 MB in the request; a
    larger request is refused with HTTP 413 ``RequestEntityTooLargeException`` ("Request must be
    smaller than 69905067 bytes for the UpdateFunctionCode operation"), and the zip must go through
    S3 (``S3Bucket``/``S3Key``). moto took any size.
    https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-function-zip.html"""
    from moto.awslambda import responses as lambda_responses
    from moto.awslambda.exceptions import LambdaClientError

    class RequestEntityTooLarge(LambdaClientError):
        code = 413

        def __init__(self, operation: str) -> None:
            super().__init__(
                "RequestEntityTooLargeException",
                f"Request must be smaller than {MAX_CODE_REQUEST_BYTES} bytes for the {operation} operation",
            )

    for name, operation in (("create_function", "CreateFunction"), ("update_function_code", "UpdateFunctionCode")):
        original = getattr(lambda_responses.LambdaResponse, name)

        def limited(self: Any, __original: Any = original, __operation: str = operation) -> Any:
            if len(self.body or b"") > MAX_CODE_REQUEST_BYTES:
                raise RequestEntityTooLarge(__operation)
            return __original(self)

        setattr(lambda_responses.LambdaResponse, name, limited)


# Lambda's quota on a function's code and all its layers together, unzipped (250 MB).
MAX_UNZIPPED_BYTES = 262144000


def unzipped_size(code: bytes) -> int:
    """The size of a zip's files once unpacked, read from its central directory."""
    if not code:
        return 0
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        return sum(entry.file_size for entry in archive.infolist())


def refuse_code_over_the_unzipped_limit() -> None:
    """A function's code and its layers may hold at most 262144000 bytes unzipped. Past it,
    CreateFunction, UpdateFunctionCode and UpdateFunctionConfiguration (its Layers) are refused with
    400 ``InvalidParameterValueException``: "Unzipped size must be smaller than 262144000 bytes" for
    the code alone, "Function code combined with layers exceeds the maximum allowed size of
    262144000 bytes. The actual size is N bytes." with its layers; the function keeps what it had.
    PublishLayerVersion refuses a layer over it alone with the first message, and publishes nothing.
    moto took any size, so a deployment AWS refuses deployed here.
    https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"""
    from moto.awslambda import models as lambda_models
    from moto.awslambda.exceptions import InvalidParameterValueException

    def check(function: Any, layers: list[dict[str, Any]]) -> None:
        backend = lambda_models.get_backend(function.account_id, function.region)
        code = getattr(function, "code_bytes", b"")
        size = unzipped_size(code)
        if size > MAX_UNZIPPED_BYTES:
            raise InvalidParameterValueException(f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes")
        for layer in layers:
            version = backend.layers_versions_by_arn(layer["Arn"])
            size += unzipped_size(getattr(version, "code_bytes", b""))
        if size > MAX_UNZIPPED_BYTES:
            raise InvalidParameterValueException(
                "Function code combined with layers exceeds the maximum allowed size of "
                f"{MAX_UNZIPPED_BYTES} bytes. The actual size is {size} bytes."
            )

    original_set_code = lambda_models.LambdaFunction._set_function_code
    fields = ("code_bytes", "code_size", "code_sha_256", "code_digest")

    def set_function_code(self: Any, updated_spec: dict[str, Any]) -> None:
        before = {name: getattr(self, name) for name in fields if hasattr(self, name)}
        saved_code = dict(self.code)
        original_set_code(self, updated_spec)
        try:
            check(self, self.layers)
        except InvalidParameterValueException:
            for name, value in before.items():  # the function keeps the code it had
                setattr(self, name, value)
            self.code.clear()
            self.code.update(saved_code)
            raise

    original_update_configuration = lambda_models.LambdaFunction.update_configuration

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "Layers" in config_updates:  # checked before any setting changes
            layers = self._get_layers_data(config_updates["Layers"])
            check(self, layers)
        return original_update_configuration(self, config_updates)

    original_layer_init = lambda_models.LayerVersion.__init__

    def layer_init(self: Any, spec: dict[str, Any], account_id: str, region: str) -> None:
        original_layer_init(self, spec, account_id=account_id, region=region)
        if unzipped_size(getattr(self, "code_bytes", b"")) > MAX_UNZIPPED_BYTES:  # before it is stored
            raise InvalidParameterValueException(f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes")

    lambda_models.LayerVersion.__init__ = layer_init
    lambda_models.LambdaFunction._set_function_code = set_function_code
    lambda_models.LambdaFunction.update_configuration = update_configuration
