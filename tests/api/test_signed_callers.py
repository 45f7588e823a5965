"""Who is calling: the sandbox's API Gateway verifies SigV4 signatures of sandbox IAM users and role
sessions and passes the caller as ``requestContext.identity``, as API Gateway's AWS_IAM auth does.

The first tests drive ``sandbox.server.api_gateway.ApiGateway`` in front of an app that echoes what it
received; the last one runs ``python -m sandbox.server`` and the ``promoter`` CLI as two users.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from moto import mock_aws

from promoter.api.local import REQUEST_CONTEXT
from sandbox.fixtures.targets import Targets
from sandbox.server import ServerProcess, client_environment, endpoint_session, promoter_command
from sandbox.server.api_gateway import INVALID_TOKEN, SIGNATURE_MISMATCH, ApiGateway
from tests.sandbox.conftest import wait_until

ACCOUNT = "123456789012"
BASE = "http://apigw.local"
TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    ],
})  # fmt: skip
INVOKE_API = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}
)


@dataclass(frozen=True)
class Keys:
    access_key: str
    secret_key: str
    token: str | None = None


async def echo(scope: dict, receive: Any, send: Any) -> None:
    """An integration that answers with the request context it was given, and the body it read."""
    message = await receive()
    body = json.dumps({"context": scope.get(REQUEST_CONTEXT), "body": message.get("body", b"").decode()})
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body.encode()})


def signed_headers(method: str, url: str, body: bytes, keys: Keys) -> dict[str, str]:
    """What the promoter CLI sends (promoter_cli.client.sign): botocore SigV4 for execute-api."""
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(ReadOnlyCredentials(keys.access_key, keys.secret_key, keys.token), "execute-api", "us-east-1").add_auth(
        request
    )
    return dict(request.headers.items())


def call(method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=ApiGateway(echo))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return await client.request(method, path, content=body, headers=headers or {})

    return asyncio.run(go())


def signed_call(method: str, path: str, keys: Keys, body: bytes = b"", **tamper: str) -> httpx.Response:
    headers = signed_headers(method, BASE + path, body, keys) | tamper
    return call(method, path, body=body, headers=headers)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("iam")


def user_keys(iam: Any, name: str) -> Keys:
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


def test_a_signed_user_reaches_the_api_with_its_identity(aws):
    alice = user_keys(aws, "alice")

    answer = signed_call("POST", "/promotions?dry_run=1", alice, b'{"function": "orders"}')

    assert answer.status_code == 200, answer.text
    identity = answer.json()["context"]["identity"]
    assert identity["userArn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert identity["accessKey"] == alice.access_key
    assert identity["accountId"] == ACCOUNT
    assert identity["caller"] == aws.get_user(UserName="alice")["User"]["UserId"]
    assert answer.json()["body"] == '{"function": "orders"}'  # the integration gets the body it was signed with


def test_a_role_session_is_its_assumed_role_arn(aws):
    role = aws.create_role(RoleName="release-manager", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    creds = boto3.client("sts").assume_role(RoleArn=role, RoleSessionName="carol")["Credentials"]
    session = Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    answer = signed_call("GET", "/promotions", session)

    assert answer.status_code == 200, answer.text
    assert answer.json()["context"]["identity"]["userArn"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/release-manager/carol"
    )


def test_a_session_without_its_token_is_refused(aws):
    role = aws.create_role(RoleName="release-manager", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    creds = boto3.client("sts").assume_role(RoleArn=role, RoleSessionName="carol")["Credentials"]

    answer = signed_call("GET", "/promotions", Keys(creds["AccessKeyId"], creds["SecretAccessKey"]))

    assert answer.status_code == 403
    assert answer.json() == {"message": INVALID_TOKEN}


@pytest.mark.parametrize(
    "tamper",
    [
        {"wrong secret": True},
        {"body": b'{"function": "billing"}'},
        {"path": "/promotions/other"},
        {"header": {"Content-Type": "text/plain"}},
    ],
    ids=lambda t: next(iter(t)),
)
def test_a_signature_that_does_not_match_the_request_is_403(aws, tamper):
    alice = user_keys(aws, "alice")
    body, path = b'{"function": "orders"}', "/promotions"
    keys = Keys(alice.access_key, "not-" + alice.secret_key) if "wrong secret" in tamper else alice
    headers = signed_headers("POST", BASE + path, body, keys) | tamper.get("header", {})

    answer = call("POST", tamper.get("path", path), body=tamper.get("body", body), headers=headers)

    assert answer.status_code == 403
    assert answer.json() == {"message": SIGNATURE_MISMATCH}
    assert answer.headers["x-amzn-errortype"] == "InvalidSignatureException"


def test_an_authorization_header_without_its_parts_is_403(aws):
    answer = call("GET", "/promotions", headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/x"})

    assert answer.status_code == 403
    assert "requires 'Signature' parameter" in answer.json()["message"]


def test_unsigned_and_unknown_keys_stay_local(aws):
    unsigned = call("GET", "/promotions")
    with_testing_keys = signed_call("GET", "/promotions", Keys("testing", "testing", "testing"))

    assert unsigned.status_code == 200 and unsigned.json()["context"] is None
    assert with_testing_keys.status_code == 200 and with_testing_keys.json()["context"] is None


def test_a_caller_cannot_forge_its_identity_through_the_scope(aws):
    async def go() -> httpx.Response:
        async def forging_server(scope: dict, receive: Any, send: Any) -> None:
            scope = dict(scope, **{REQUEST_CONTEXT: {"identity": {"userArn": "arn:aws:iam::1:user/forged"}}})
            await ApiGateway(echo)(scope, receive, send)

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=forging_server), base_url=BASE) as client:
            return await client.get("/promotions")

    assert asyncio.run(go()).json()["context"] is None


# --- end to end: two sandbox users, one protected prod, the promoter CLI --------------------------------
PIPELINE = {
    "environments": [
        {
            "name": "prod",
            "function": "orders",
            "alias": "live",
            "protected": True,
            "approval_by_other": True,
            "strategy": {"type": "canary", "weight": 0.5, "bake_seconds": 1},
        }
    ]
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(time_scale=50.0, log=tmp_path_factory.mktemp("sandbox") / "server.log") as process:
        yield process


def promoter(server: ServerProcess, keys: Keys, *args: str) -> subprocess.CompletedProcess[str]:
    env = client_environment() | {
        "AWS_ACCESS_KEY_ID": keys.access_key,
        "AWS_SECRET_ACCESS_KEY": keys.secret_key,
        "PROMOTER_API": server.api_url,
    }
    env.pop("AWS_SESSION_TOKEN", None)  # long-term user keys have none
    return subprocess.run(
        [*promoter_command(), *args], env=env, capture_output=True, text=True, timeout=300, cwd=os.getcwd()
    )


def test_the_starter_of_a_protected_promotion_cannot_approve_it_and_another_user_can(server, tmp_path):
    session = endpoint_session(server.aws_url)
    Targets(session=session).function("orders")  # versions 1 and 2, live on 1
    iam = session.client("iam")
    alice, bob = (user_keys(iam, name) for name in ("alice", "bob"))
    for name in ("alice", "bob"):
        iam.put_user_policy(UserName=name, PolicyName="invoke-api", PolicyDocument=INVOKE_API)
    pipeline_file = tmp_path / "orders.json"
    pipeline_file.write_text(json.dumps(PIPELINE))

    applied = promoter(server, alice, "pipeline", "apply", str(pipeline_file), "--name", "orders")
    assert applied.returncode == 0, applied
    started = promoter(server, alice, "promote", "orders", "--to", "prod", "--version", "2", "--json")
    assert started.returncode == 0, started
    promotion_id = json.loads(started.stdout)["id"]

    def status() -> str:
        return json.loads(promoter(server, alice, "status", promotion_id, "--json").stdout)["status"]

    wait_until(lambda: status() == "AWAITING_APPROVAL", timeout=120, what="the promotion to wait for approval")
    refused = promoter(server, alice, "approve", promotion_id)
    approved = promoter(server, bob, "approve", promotion_id, "--reason", "four eyes")
    watched = promoter(server, bob, "watch", promotion_id, "--interval", "0.2")
    record = json.loads(promoter(server, bob, "status", promotion_id, "--json").stdout)

    assert refused.returncode == 4, refused  # 403: the CLI's exit code for a refusal
    assert "different principal" in refused.stderr
    assert approved.returncode == 0, approved
    assert watched.returncode == 0, watched
    assert record["status"] == "SUCCEEDED"
    alice_arn, bob_arn = (f"arn:aws:iam::{ACCOUNT}:user/{name}" for name in ("alice", "bob"))
    assert record["created_by"] == alice_arn
    actors = {event["type"]: event["actor"] for event in record["events"]}
    assert actors["created"] == alice_arn
    assert actors["approve"] == bob_arn
