"""CloudWatch: alarm states. A name that does not exist is reported as MISSING."""

from .clients import LazyClient


class AlarmsAdapter(LazyClient):
    service = "cloudwatch"

    def states(self, names: list[str]) -> dict[str, str]:
        if not names:
            return {}
        found: dict[str, str] = {}
        paginator = self.client.get_paginator("describe_alarms")
        for page in paginator.paginate(AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
            for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
                found[alarm["AlarmName"]] = alarm["StateValue"]
        return {name: found.get(name, "MISSING") for name in names}
