"""The alarm listener's input, on its own: Powertools' EventBridgeModel imports every model of its
parser (tens of ms), which no other handler that imports promoter.models should pay for."""

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from .models import AlarmStateChange


class AlarmStateChangeEvent(EventBridgeModel):
    """The EventBridge envelope of a "CloudWatch Alarm State Change" event."""

    detail: AlarmStateChange
