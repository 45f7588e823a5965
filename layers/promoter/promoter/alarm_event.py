"""The alarm listener's input, on its own: importing Powertools' EventBridgeModel loads its parser
package (about 70 ms on python3.13 with pydantic already loaded), which no other handler that imports
promoter.models should pay for."""

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from .models import AlarmStateChange


class AlarmStateChangeEvent(EventBridgeModel):
    """The EventBridge envelope of a "CloudWatch Alarm State Change" event."""

    detail: AlarmStateChange
