"""One parser for Lambda function names and ARNs (promoter.arns)."""

import pytest

from promoter.arns import account_of, function_name, parse_function, unqualified_arn, unqualified_function

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"


@pytest.mark.parametrize(
    ("given", "name", "account", "qualifier", "arn"),
    [
        ("orders", "orders", None, None, None),
        ("orders:live", "orders", None, "live", None),
        ("orders:7", "orders", None, "7", None),
        ("orders:$LATEST", "orders", None, "$LATEST", None),
        ("123456789012:function:orders", "orders", "123456789012", None, None),
        ("123456789012:function:orders:live", "orders", "123456789012", "live", None),
        (ARN, "orders", "123456789012", None, ARN),
        (f"{ARN}:7", "orders", "123456789012", "7", ARN),
        (
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:orders",
            "orders",
            "123456789012",
            None,
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:orders",
        ),
        (
            "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:orders:live",
            "orders",
            "123456789012",
            "live",
            "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:orders",
        ),
    ],
)
def test_every_shape_lambda_takes(given, name, account, qualifier, arn):
    ref = parse_function(given)
    assert (ref.name, ref.account, ref.qualifier, ref.unqualified_arn) == (name, account, qualifier, arn)
    assert unqualified_arn(given) == arn
    assert function_name(given) == name


@pytest.mark.parametrize(
    "given",
    ["", "my orders", "orders:live:extra", "arn:aws:sqs:us-east-1:123456789012:queue", "arn:x", "o" * 171, "é"],
)
def test_anything_else_is_refused_with_the_shapes(given):
    with pytest.raises(ValueError, match="is not a Lambda function: give a name"):
        parse_function(given)
    assert unqualified_arn(given) is None
    assert function_name(given) == given


@pytest.mark.parametrize("given", ["orders", "123456789012:function:orders", ARN])
def test_unqualified_targets_pass(given):
    assert unqualified_function(given) == given


@pytest.mark.parametrize("given", ["orders:live", "orders:1", f"{ARN}:1", f"{ARN}:live", "orders:$LATEST"])
def test_qualified_targets_say_to_give_the_alias_separately(given):
    with pytest.raises(ValueError, match="give the function without a qualifier, and the alias in 'alias'"):
        unqualified_function(given)


@pytest.mark.parametrize(
    ("arn", "account"),
    [
        (ARN, "123456789012"),
        ("arn:aws:iam::222222222222:role/lambda-promoter-target", "222222222222"),
        ("arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors", "123456789012"),
        ("arn:aws:s3:::bucket", None),
        ("orders", None),
        ("123456789012:function:orders", None),
    ],
)
def test_account_of_an_arn(arn, account):
    assert account_of(arn) == account
