"""``make demo``: two stories told through the ``promoter`` CLI against the sandbox server.

1. A healthy canary: version 2 of ``orders`` takes 10%, then 50%, then all of ``live``: SUCCEEDED.
2. An alarm rollback, the real loop: a client invokes the alias in a loop; version 3 raises on
   every call it gets at a 10% canary; the alarm on Errors with ExecutedVersion=3 (evaluated by the
   sandbox from the metrics Lambda records) fires; the alarm listener puts the alias back on
   version 2 at once: ROLLED_BACK.

The sandbox server (``python -m sandbox.server``) runs as a child process on free ports with a
time scale, so a 60 s bake lasts 2 s. The sample function and its alarm are made with boto3
against the server's AWS endpoint, as any AWS SDK would; everything else is the CLI.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from typing import Any

from ..fixtures.targets import Targets
from ..server import ServerProcess, client_environment, endpoint_session, promoter_command
from .pipeline import story as pipeline_story  # story 3: a two-account pipeline

TIME_SCALE = 30.0  # a 60 s bake lasts 2 s
FUNCTION, ALIAS, ALARM = "orders", "live", "orders-errors"


class Demo:
    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.env = client_environment() | {"PROMOTER_API": server.api_url}
        self.targets = Targets(session=endpoint_session(server.aws_url))

    # --- saying and doing -------------------------------------------------------------------------
    @staticmethod
    def say(text: str = "") -> None:
        print(text, flush=True)

    def title(self, text: str) -> None:
        self.say()
        self.say(f"=== {text} " + "=" * max(0, 76 - len(text)))

    def promoter(self, *args: str, show: bool = True, capture: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the CLI as a user would type it (PROMOTER_API is set, so no --api)."""
        if show:
            self.say(f"$ promoter {shlex.join(args)}")
        done = subprocess.run(
            [*promoter_command(), *args], env=self.env, text=True, check=False,
            stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None,
        )  # fmt: skip
        if capture and show:
            sys.stdout.write(done.stdout)
            sys.stdout.write(done.stderr)
            sys.stdout.flush()
        return done

    def promotion(self, promotion_id: str) -> dict[str, Any]:
        done = self.promoter("status", promotion_id, "--json", show=False)
        if done.returncode != 0:
            raise RuntimeError(f"promoter status failed: {done.stderr}")
        return json.loads(done.stdout)

    def start(self, *args: str) -> str:
        done = self.promoter("start", *args)
        if done.returncode != 0:
            raise RuntimeError("promoter start failed")
        return done.stdout.split("Started promotion ", 1)[1].split()[0]

    # --- the stories ------------------------------------------------------------------------------
    def setup(self) -> None:
        self.title("Setup: a function made with an AWS SDK against the sandbox")
        self.say(f"AWS endpoint {self.server.aws_url}   promoter API {self.server.api_url}")
        self.say(f"export PROMOTER_API={self.server.api_url}")
        target = self.targets.function(FUNCTION, builds=("v1", "v2", "v3"), failing=("v3",), alias=ALIAS)
        self.targets.alarm(ALARM, FUNCTION)
        self.say(
            f"function {FUNCTION} (tag promoter:managed=true): versions {', '.join(target.versions)} "
            f"(v3 raises on every call); alias {ALIAS} -> 1; alarm {ALARM} (OK)"
        )
        self.promoter("inventory", FUNCTION)

    def healthy_canary(self) -> tuple[str, int]:
        self.title("Story 1: a healthy canary (version 2: 10%, 50%, then 100%)")
        promotion_id = self.start(
            FUNCTION, ALIAS, "--version", "2", "--steps", "0.1:60,0.5:60", "--alarm", ALARM,
            "--reason", "demo: healthy canary",
        )  # fmt: skip
        code = self.promoter("watch", promotion_id, "--interval", "0.25", capture=False).returncode
        self.say(f"(watch exited {code})")
        return promotion_id, code

    def alarm_rollback(self) -> tuple[str, int]:
        self.title("Story 2: the canary throws errors, its alarm fires, the alias goes back")
        alarm = self.canary_alarm()
        traffic = Traffic(self.targets.lambdas, f"{FUNCTION}:{ALIAS}")
        traffic.start()
        self.say(f"traffic: a client invokes {FUNCTION}:{ALIAS} in a loop; version 3 raises on every call")
        promotion_id = self.start(
            FUNCTION, ALIAS, "--version", "3", "--weight", "0.1", "--bake-seconds", "600", "--alarm", alarm,
            "--reason", "demo: broken build",
        )  # fmt: skip
        self.say(f"$ promoter watch {promotion_id} --interval 0.25")
        watcher = subprocess.Popen(
            [*promoter_command(), "watch", promotion_id, "--interval", "0.25"], env=self.env, text=True
        )
        fired, settled = self.time_the_rollback(alarm)
        code = watcher.wait()
        traffic.stop()
        self.say(f"(watch exited {code})")
        self.say(
            f"traffic seen by the client: {traffic.summary()}\n"
            f"alarm {alarm} entered ALARM; the alias was back on version 2 with empty routing "
            f"{(settled - fired) * 1000:.0f} ms later (real time)"
        )
        return promotion_id, code

    def canary_alarm(self) -> str:
        """An alarm on the errors of the candidate version only, as Lambda publishes them."""
        name = f"{FUNCTION}-v3-errors"
        self.targets.cloudwatch.put_metric_alarm(
            AlarmName=name, Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum",
            Dimensions=[
                {"Name": "FunctionName", "Value": FUNCTION},
                {"Name": "Resource", "Value": f"{FUNCTION}:{ALIAS}"},
                {"Name": "ExecutedVersion", "Value": "3"},
            ],
            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
        )  # fmt: skip
        self.say(f"alarm {name}: Errors of {FUNCTION}:{ALIAS} with ExecutedVersion=3, Sum >= 1 over 60 s")
        deadline = time.monotonic() + 30
        while self._alarm_state(name) != "OK" and time.monotonic() < deadline:
            time.sleep(0.1)  # a new alarm starts INSUFFICIENT_DATA, as in AWS; no data is "not breaching"
        return name

    def time_the_rollback(self, alarm: str) -> tuple[float, float]:
        """Real time when the alarm was seen in ALARM, and when the alias was seen back on stable."""
        deadline = time.monotonic() + 120
        while self._alarm_state(alarm) != "ALARM":
            if time.monotonic() > deadline:
                raise RuntimeError(f"alarm {alarm} never fired")
            time.sleep(0.005)
        fired = time.monotonic()
        while True:
            state = self.targets.alias_state(FUNCTION, ALIAS)
            if state["version"] == "2" and not state["weights"]:
                return fired, time.monotonic()
            if time.monotonic() > deadline:
                raise RuntimeError("the alias never went back to version 2")
            time.sleep(0.005)

    def _alarm_state(self, name: str) -> str:
        return self.targets.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]

    def timeline(self, promotion_ids: list[str]) -> None:
        self.title("Timeline of weights on the candidate")
        for promotion_id in promotion_ids:
            p = self.promotion(promotion_id)
            start = _time(p["created_at"])
            points = [e for e in p["events"] if e.get("weight") is not None]
            trail = "  ".join(f"+{(_time(e['at']) - start).total_seconds():4.1f}s {e['weight']:.0%}" for e in points)
            self.say(f"{promotion_id}  v{p['stable_version']} -> v{p['candidate_version']}  {p['status']}")
            self.say(f"    {trail}")
            if p.get("outcome_reason"):
                self.say(f"    outcome: {p['outcome_reason']}")

    def final_state(self) -> None:
        self.title("Final alias states")
        self.promoter("inventory", FUNCTION)
        state = self.targets.alias_state(FUNCTION, ALIAS)
        routing = state["weights"] or "empty"
        self.say(f"GetAlias {FUNCTION}:{ALIAS} -> version {state['version']}, routing {routing}")


class Traffic:
    """Invokes the alias in a loop from a thread, as clients would, and counts what ran."""

    def __init__(self, lambdas: Any, qualified_name: str) -> None:
        self.lambdas, self.name = lambdas, qualified_name
        self.seen: Counter[str] = Counter()
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            answer = self.lambdas.invoke(FunctionName=self.name, Payload=b"{}")
            self.seen[answer.get("ExecutedVersion", "?")] += 1
            self.errors += bool(answer.get("FunctionError"))
            time.sleep(0.02)

    def summary(self) -> str:
        versions = ", ".join(f"v{v}: {n}" for v, n in sorted(self.seen.items()))
        return f"{sum(self.seen.values())} invocations ({versions}), {self.errors} errors"


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def main() -> int:
    began = time.monotonic()
    print(f"Starting the sandbox server (time scale {TIME_SCALE:g}) ...", flush=True)
    with ServerProcess(time_scale=TIME_SCALE) as server:
        demo = Demo(server)
        demo.setup()
        healthy_id, healthy_code = demo.healthy_canary()
        broken_id, broken_code = demo.alarm_rollback()
        demo.timeline([healthy_id, broken_id])
        demo.final_state()
        pipeline_ok = pipeline_story(server)
    ok = healthy_code == 0 and broken_code == 10 and pipeline_ok  # watch: 0 SUCCEEDED, 10 ROLLED_BACK
    print()
    print(
        f"{'Demo done' if ok else 'Demo did not go as told'} in {time.monotonic() - began:.1f}s: "
        f"story 1 watch exit {healthy_code} (0 = SUCCEEDED), "
        f"story 2 watch exit {broken_code} (10 = ROLLED_BACK)"
    )
    return 0 if ok else 1
