"""The carry's pure decisions: how the code goes up, and where a staged zip is kept."""

from __future__ import annotations

import base64
import hashlib

import pytest

from promoter.aws import artifacts
from promoter.errors import CarryFailed
from promoter.promotions.carry import route_for, staging_key


def test_zips_up_to_the_direct_limit_go_in_the_request_larger_ones_through_s3():
    assert route_for("Zip", 1024) == "zip"
    assert route_for("Zip", artifacts.MAX_DIRECT_UPLOAD) == "zip"
    assert route_for("Zip", artifacts.MAX_DIRECT_UPLOAD + 1) == "s3"
    assert route_for("Zip", artifacts.MAX_CODE_SIZE) == "s3"
    assert route_for("Image", 0) == "image"


def test_the_decision_reads_the_threshold_so_a_lowered_one_sends_small_zips_through_s3(monkeypatch):
    monkeypatch.setattr(artifacts, "MAX_DIRECT_UPLOAD", 100)
    assert route_for("Zip", 100) == "zip"
    assert route_for("Zip", 101) == "s3"


def test_the_direct_limit_fits_aws_request_limit_once_base64_encoded():
    # AWS refuses a CreateFunction/UpdateFunctionCode request over 69905067 bytes (50 MiB in base64)
    assert 4 * -(-artifacts.MAX_DIRECT_UPLOAD // 3) < 69905067


def test_a_zip_over_lambdas_own_limit_is_refused_by_the_carry():
    with pytest.raises(CarryFailed, match="over Lambda's limit"):
        route_for("Zip", artifacts.MAX_CODE_SIZE + 1)


def test_a_staged_zip_is_named_by_promotion_and_digest_under_carry():
    sha = base64.b64encode(hashlib.sha256(b"zip").digest()).decode()
    assert staging_key("p-1", sha) == f"carry/p-1/{hashlib.sha256(b'zip').hexdigest()}.zip"
