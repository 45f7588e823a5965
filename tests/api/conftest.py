"""Fixtures for the HTTP API: API-Gateway-shaped events in process, and the local server."""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, HttpResolverLocal

from promoter.api import build_app
from promoter.service import PromoterService
from promoter.settings import Settings
from sandbox import Sandbox

EVENTS = Path(__file__).resolve().parents[2] / "events" / "api"
ALICE = "arn:aws:sts::123456789012:assumed-role/release-engineer/alice"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def api_settings(sandbox: Sandbox) -> Settings:
    return sandbox.settings.model_copy(update={"idempotency_table": sandbox.outputs["IdempotencyTableName"]})


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def error(self) -> str | None:
        return self.body.get("error") if isinstance(self.body, dict) else None


class FakeLambdaContext:
    function_name = "lambda-promoter-ApiFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:lambda-promoter-ApiFunction"
    aws_request_id = "c0ffee00-0000-4000-8000-00000000beef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class ApiGateway:
    """Sends events shaped as API Gateway (REST, AWS_IAM, stage ``dev``) sends them to the app."""

    app: APIGatewayRestResolver
    sent: list[dict] = field(default_factory=list)

    def event(
        self,
        name: str,
        *,
        path: str | None = None,
        body: Any = ...,
        query: dict[str, str] | None | Any = ...,
        headers: dict[str, str] | None = None,
        identity: dict[str, Any] | None | Any = ...,
        raw_body: str | None | Any = ...,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """The sample event ``name`` with changes. The sample's Idempotency-Key is dropped unless
        ``idempotency_key`` is given, so that tests choose when a request is a retry."""
        event = copy.deepcopy(load_event(name))
        event["headers"].pop("Idempotency-Key", None)
        if idempotency_key is not None:
            event["headers"]["Idempotency-Key"] = idempotency_key
        if path is not None:
            event["path"] = path
            event["pathParameters"] = {"proxy": path.lstrip("/")}
            event["requestContext"]["path"] = f"/{event['requestContext']['stage']}{path}"
        if body is not ...:
            event["body"] = json.dumps(body)
            event["headers"]["Content-Type"] = "application/json"
        if raw_body is not ...:
            event["body"] = raw_body
        if query is not ...:
            event["queryStringParameters"] = query
            event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
        for key, value in (headers or {}).items():
            event["headers"][key] = value
        if identity is not ...:
            event["requestContext"]["identity"] = identity
        event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
        return event

    def send(self, name: str, **changes: Any) -> Answer:
        event = self.event(name, **changes)
        self.sent.append(event)
        raw = self.app.resolve(event, FakeLambdaContext())
        headers = dict(raw.get("headers") or {})
        for key, values in (raw.get("multiValueHeaders") or {}).items():
            headers.setdefault(key, values[-1])
        body = json.loads(raw["body"]) if raw.get("body") else None
        return Answer(raw["statusCode"], headers, body)


@pytest.fixture
def api_service(sandbox: Sandbox) -> PromoterService:
    return PromoterService(api_settings(sandbox))


@pytest.fixture
def gateway(api_service: PromoterService) -> ApiGateway:
    return ApiGateway(build_app(APIGatewayRestResolver(enable_validation=True), api_service))


# --- the local server: HttpResolverLocal under uvicorn, on a free port of 127.0.0.1 --------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def local_api(api_service: PromoterService) -> Iterator[str]:
    import uvicorn

    app = build_app(HttpResolverLocal(enable_validation=True), api_service)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="promoter-api-test")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the local API server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def executions(sandbox: Sandbox) -> list[dict]:
    sfn = sandbox.client("stepfunctions")
    arn = sandbox.outputs["StateMachineArn"]
    return sfn.list_executions(stateMachineArn=arn, maxResults=1000)["executions"]
