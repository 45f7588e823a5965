"""EventBridge: "Promotion Status Changed" events on the control plane's bus."""

import json
from typing import Any

from .clients import LazyClient

SOURCE = "lambda-promoter"
STATUS_CHANGED = "Promotion Status Changed"


class EventsAdapter(LazyClient):
    service = "events"

    def put(self, bus_name: str, detail_type: str, detail: dict[str, Any]) -> None:
        answer = self.client.put_events(
            Entries=[
                {
                    "EventBusName": bus_name,
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                    "Resources": [detail["function_arn"]] if detail.get("function_arn") else [],
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused the event: {answer['Entries']}")
