"""Bad input is refused before anything changes, with an error that names the field and rule."""

import pytest
from pydantic import ValidationError

from promoter.errors import InvalidRequest
from tests.workflow.helpers import alias_writes, request


def assert_nothing_changed(sandbox, targets, target):
    assert alias_writes(target.function) == []
    assert targets.alias_state(target.function, target.alias)["version"] == "1"
    records, _ = sandbox.service().store.list()
    assert records == []
    arn = targets.lambdas.get_function(FunctionName=target.function)["Configuration"]["FunctionArn"]
    assert sandbox.service().store.lock_holder(f"{arn}:{target.alias}") is None


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"version": "$LATEST"}, "version", "published version number"),
        ({"strategy": {"steps": [{"weight": 0.5}, {"weight": 0.2}]}}, "steps", "rise strictly"),
        ({"strategy": {"steps": [{"weight": 1.2}]}}, "weight", "less than or equal to 1"),
        ({"strategy": {"steps": [{"weight": 0}]}}, "weight", "greater than 0"),
    ],
)
def test_shape_errors_are_caught_by_the_model(sandbox, targets, overrides, field, words):
    target = targets.function("orders")
    with pytest.raises(ValidationError) as error:
        request(target, **overrides)
    assert field in str(error.value) and words in str(error.value)
    assert_nothing_changed(sandbox, targets, target)


def refused(sandbox, body) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as error:
        sandbox.service().start(body, actor="alice")
    assert error.value.status_code == 422
    return error.value


def test_unknown_version(sandbox, targets):
    target = targets.function("orders")
    error = refused(sandbox, request(target, version="9"))
    assert (error.field, error.message) == ("version", "version 9 of 'orders' is not published")
    assert_nothing_changed(sandbox, targets, target)


def test_candidate_equal_to_stable(sandbox, targets):
    target = targets.function("orders")
    error = refused(sandbox, request(target, version="1"))
    assert error.field == "version" and "already the stable version" in error.message
    assert_nothing_changed(sandbox, targets, target)


def test_missing_alarm(sandbox, targets):
    target = targets.function("orders")
    error = refused(sandbox, request(target, alarms=["no-such-alarm"]))
    assert error.field == "alarms" and "do not exist: no-such-alarm" in error.message
    assert_nothing_changed(sandbox, targets, target)


def test_alarm_already_in_alarm(sandbox, targets):
    target = targets.function("orders")
    targets.alarm("orders-errors", "orders", state="ALARM")
    error = refused(sandbox, request(target, alarms=["orders-errors"]))
    assert error.field == "alarms" and "already in ALARM: orders-errors" in error.message
    assert_nothing_changed(sandbox, targets, target)


def test_untagged_function(sandbox, targets):
    target = targets.function("orders", managed=False)
    error = refused(sandbox, request(target))
    assert error.field == "function" and "tag it promoter:managed=true" in error.message
    assert_nothing_changed(sandbox, targets, target)


def test_incompatible_versions(sandbox, targets):
    target = targets.function("orders")
    other_role = targets.role("another-role")
    targets.lambdas.update_function_configuration(FunctionName="orders", Role=other_role)
    targets.lambdas.publish_version(FunctionName="orders")  # version 3 runs under another role
    error = refused(sandbox, request(target, version="3"))
    assert error.field == "version" and "differ in execution role" in error.message
    assert_nothing_changed(sandbox, targets, target)


def test_missing_hook_function(sandbox, targets):
    target = targets.function("orders")
    error = refused(sandbox, request(target, hooks={"pre_traffic": "no-such-hook"}))
    assert error.field == "hooks.pre_traffic"
    assert_nothing_changed(sandbox, targets, target)


def test_unknown_function_and_alias(sandbox, targets):
    target = targets.function("orders")
    with pytest.raises(Exception) as error:
        sandbox.service().start(request(target, function="nope"), actor="alice")
    assert getattr(error.value, "field", None) == "function"
    error = refused(sandbox, request(target, alias="staging"))
    assert error.field == "alias" and "does not exist" in error.message
    assert_nothing_changed(sandbox, targets, target)
