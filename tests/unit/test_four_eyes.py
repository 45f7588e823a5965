"""Four eyes: who counts as the same principal when a protected promotion needs another approver."""

import pytest

from promoter.decisions import ensure_approver, principal_of
from promoter.errors import NotAllowed
from promoter.models import Promotion, Signal, Status, StepRecord

ACCOUNT = "123456789012"
RELEASE_ROLE = f"arn:aws:sts::{ACCOUNT}:assumed-role/release-manager"
SSO_ROLE_NAME = "AWSReservedSSO_Release_0123456789abcdef"
SSO_ROLE = f"arn:aws:sts::{ACCOUNT}:assumed-role/{SSO_ROLE_NAME}"


def protected(created_by: str, approval_by_other: bool = True) -> Promotion:
    return Promotion(
        id="p-1", function="f", function_arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f", alias="live",
        stable_version="1", candidate_version="2", status=Status.AWAITING_APPROVAL,
        steps=[StepRecord(index=0, weight=1.0, bake_seconds=0)],
        approval_by_other=approval_by_other, created_by=created_by,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("actor", "principal"),
    [
        (f"{RELEASE_ROLE}/alice", f"arn:aws:iam::{ACCOUNT}:role/release-manager"),
        (f"{SSO_ROLE}/Alice@Example.com", f"arn:aws:iam::{ACCOUNT}:role/{SSO_ROLE_NAME}/alice@example.com"),
        (f"arn:aws-us-gov:sts::{ACCOUNT}:assumed-role/deployer/ci-42", f"arn:aws-us-gov:iam::{ACCOUNT}:role/deployer"),
        (f"arn:aws:iam::{ACCOUNT}:user/bob", f"arn:aws:iam::{ACCOUNT}:user/bob"),
        (f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{ACCOUNT}:root"),
        ("local", "local"),
    ],
)
def test_the_principal_of_each_kind_of_caller(actor, principal):
    assert principal_of(actor) == principal


def test_re_assuming_the_same_role_under_another_session_name_is_still_the_starter():
    promotion = protected(created_by=f"{RELEASE_ROLE}/alice")
    with pytest.raises(NotAllowed, match="needs approval by a different principal"):
        ensure_approver(promotion, Signal.APPROVE, f"{RELEASE_ROLE}/someone-else")


def test_the_same_role_from_another_account_is_another_principal():
    promotion = protected(created_by=f"{RELEASE_ROLE}/alice")
    ensure_approver(promotion, Signal.APPROVE, "arn:aws:sts::222222222222:assumed-role/release-manager/alice")


def test_two_people_sharing_an_identity_center_permission_set_approve_each_other():
    promotion = protected(created_by=f"{SSO_ROLE}/alice@example.com")
    ensure_approver(promotion, Signal.APPROVE, f"{SSO_ROLE}/bob@example.com")


def test_the_same_identity_center_user_cannot_approve_even_with_other_letter_case():
    promotion = protected(created_by=f"{SSO_ROLE}/alice@example.com")
    with pytest.raises(NotAllowed) as refused:
        ensure_approver(promotion, Signal.APPROVE, f"{SSO_ROLE}/Alice@Example.com")
    assert refused.value.field == "actor"


def test_an_iam_user_and_a_role_session_are_different_principals():
    promotion = protected(created_by=f"arn:aws:iam::{ACCOUNT}:user/alice")
    ensure_approver(promotion, Signal.APPROVE, f"{RELEASE_ROLE}/alice")


@pytest.mark.parametrize("signal", [Signal.ABORT, Signal.PAUSE, Signal.PROMOTE_NOW])
def test_other_signals_stay_open_to_the_starter(signal):
    ensure_approver(protected(created_by=f"{RELEASE_ROLE}/alice"), signal, f"{RELEASE_ROLE}/alice")


def test_without_approval_by_other_the_starter_may_approve():
    promotion = protected(f"{RELEASE_ROLE}/alice", approval_by_other=False)
    ensure_approver(promotion, Signal.APPROVE, f"{RELEASE_ROLE}/alice")
