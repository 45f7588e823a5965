"""`promoter status` shows the judge's evidence: each judged step's verdict and the latest
judgement's values of both versions per metric, the test, its p-value and effect, and the verdict."""

import io
import re
from collections.abc import Iterator

import pytest

import promoter_cli.client
from promoter.analysis.models import (
    AnalysisRecord,
    AnalysisSpec,
    MetricEvidence,
    StepEvidence,
    StepJudgement,
    StepVerdict,
    Verdict,
)
from promoter_cli.main import run
from tests.cli.stub import StubApi, stub_api


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def api() -> Iterator[StubApi]:
    with stub_api() as stub:
        yield stub


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PROMOTER_API", "PROMOTER_STACK", "PROMOTER_OUTPUT", "AWS_PROFILE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setattr(promoter_cli.client, "BACKOFF_BASE", 0.001)


def judged_promotion() -> dict:
    """A record as GET /promotions/{id} returns it, the analysis built from the layer's own models."""
    errors = MetricEvidence(
        name="error_rate",
        test="fisher_exact",
        stable=0.0102,
        candidate=0.0537,
        stable_n=10_800,
        candidate_n=1_210,
        p_value=1.2e-9,
        effect=4.26,
        verdict=Verdict.HIGH,
        failed=True,
        weight=40,
        critical=True,
    )
    p99 = MetricEvidence(
        name="duration_p99",
        test="mann_whitney_u",
        stable=212.0,
        candidate=215.5,
        stable_n=10,
        candidate_n=10,
        p_value=0.41,
        effect=0.016,
        verdict=Verdict.PASS,
        failed=False,
        weight=30,
    )
    evidence = StepEvidence(
        step=0,
        periods=10,
        candidate_invocations=1_210,
        stable_invocations=10_800,
        score=60.0,
        verdict=StepVerdict.FAIL,
        reason="error_rate High: 5.37% vs 1.02% (critical)",
        metrics=[errors, p99],
    )
    analysis = AnalysisRecord(
        spec=AnalysisSpec(),
        steps={"0": StepJudgement(verdict=StepVerdict.FAIL, action="fail", score=60.0, reason=evidence.reason)},
        last=evidence,
    )
    return {
        "id": "p-7",
        "function": "orders",
        "alias": "live",
        "status": "ROLLED_BACK",
        "stable_version": "1",
        "candidate_version": "2",
        "current_weight": 0.0,
        "steps": [{"weight": 0.1, "bake_seconds": 600}],
        "outcome_reason": "JudgeFailed: error_rate High",
        "analysis": analysis.model_dump(mode="json"),
    }


@pytest.mark.parametrize("terminal", [False, True], ids=["plain", "rich"])
def test_status_shows_the_judges_verdict_and_evidence_per_metric(api, terminal, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps at the terminal's width: one row per line here
    api.answer((200, judged_promotion()))
    out = Terminal() if terminal else io.StringIO()
    code = run(["--api", api.url, "status", "p-7"], out=out, err=io.StringIO())
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    assert code == 0, text
    assert "Analysis" in text
    assert "error_rate High: 5.37% vs 1.02% (critical)" in text  # the judged step's reason
    rows = (("error_rate", "fisher_exact", "High (fails)"), ("duration_p99", "mann_whitney_u", "Pass"))
    for metric, test, verdict in rows:
        line = next(line for line in text.splitlines() if metric in line and test in line)
        assert verdict in line, line
    assert "1.2e-09" in text and "+426.0%" in text  # p-value and effect of the failing metric
    assert "1210 candidate / 10800 stable invocations over 10 periods" in text


def test_status_without_analysis_shows_no_analysis_section(api):
    promotion = judged_promotion()
    del promotion["analysis"]
    api.answer((200, promotion))
    out = io.StringIO()
    assert run(["--api", api.url, "status", "p-7"], out=out, err=io.StringIO()) == 0
    assert "Analysis" not in out.getvalue()
