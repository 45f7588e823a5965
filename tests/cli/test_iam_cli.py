"""IAM through the sandbox server and the stock AWS CLI, as a user of ``make sandbox`` sees it: an
IAM user allowed only ``lambda:GetFunction`` gets the function without its Tags, and is refused
``update-alias``."""

import json

from tests.cli.helpers import TRUST_POLICY, aws_command, handler_zip

GET_FUNCTION_ONLY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "*"}]}
)


def test_a_user_allowed_only_get_function_sees_no_tags_and_is_refused_update_alias(shell, tmp_path):
    role = shell.aws("iam", "create-role", "--role-name", "iam-cli-role", "--assume-role-policy-document", TRUST_POLICY)
    code = handler_zip(tmp_path / "app.zip", "def handler(event, context):\n    return 1\n")
    shell.aws(
        "lambda", "create-function", "--function-name", "iam-cli", "--runtime", "python3.13",
        "--handler", "app.handler", "--role", role.json["Role"]["Arn"], "--zip-file", f"fileb://{code}",
        "--tags", "promoter:managed=true",
    )  # fmt: skip
    shell.aws("lambda", "publish-version", "--function-name", "iam-cli")
    shell.aws("lambda", "create-alias", "--function-name", "iam-cli", "--name", "live", "--function-version", "1")
    assert shell.aws("lambda", "get-function", "--function-name", "iam-cli").json["Tags"] == {
        "promoter:managed": "true"
    }  # keys `testing` act as the account's root

    shell.aws("iam", "create-user", "--user-name", "reader")
    shell.aws(
        "iam", "put-user-policy", "--user-name", "reader", "--policy-name", "get-only",
        "--policy-document", GET_FUNCTION_ONLY,
    )  # fmt: skip
    key = shell.aws("iam", "create-access-key", "--user-name", "reader").json["AccessKey"]
    reader = {k: v for k, v in shell.env.items() if k != "AWS_SESSION_TOKEN"} | {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }
    aws = [*aws_command(), "--endpoint-url", shell.server.aws_url, "--output", "json"]

    got = shell.run([*aws, "lambda", "get-function", "--function-name", "iam-cli"], env=reader)
    assert got.code == 0, got
    assert got.json["Configuration"]["FunctionName"] == "iam-cli"
    assert "Tags" not in got.json

    refused = shell.run(
        [*aws, "lambda", "update-alias", "--function-name", "iam-cli", "--name", "live", "--function-version", "1"],
        env=reader,
    )
    assert refused.code != 0, refused
    assert "AccessDeniedException" in refused.err
    assert "user/reader is not authorized to perform: lambda:UpdateAlias" in refused.err
