"""CloudWatch Logs: the fast gate's subscription filter on a target's log group.

Typed answers; absent things are answers, not errors: a filter already gone is ``removed=False``.
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html
"""

from botocore.exceptions import ClientError

from ..errors import FastGateFailed
from ..model_base import Model
from .clients import LazyClient
from .errors import code_of, plain_message

# AWS refuses these for a reason the request can fix: no retry helps.
_REFUSALS = {"LimitExceededException", "InvalidParameterException", "ResourceNotFoundException"}


class Subscription(Model):
    log_group: str
    filter_name: str
    filter_pattern: str
    destination_arn: str


class Unsubscribed(Model):
    log_group: str
    filter_name: str
    removed: bool  # False: there was no such filter (or log group) any more


class LogsAdapter(LazyClient):
    service = "logs"

    def subscribe(self, log_group: str, filter_name: str, filter_pattern: str, destination_arn: str) -> Subscription:
        """Create the log group if the function never ran (Lambda would create the same one at its
        first invoke), then put the filter (the same name again updates it: a retry is safe)."""
        try:
            self.client.create_log_group(logGroupName=log_group)
        except ClientError as error:
            if code_of(error) != "ResourceAlreadyExistsException":
                raise
        try:
            self.client.put_subscription_filter(
                logGroupName=log_group,
                filterName=filter_name,
                filterPattern=filter_pattern,
                destinationArn=destination_arn,
            )
        except ClientError as error:
            if code_of(error) in _REFUSALS:
                raise FastGateFailed(
                    f"the fast gate's subscription filter on {log_group} was refused: {plain_message(error)}",
                    field="fast_gate",
                ) from error
            raise
        return Subscription(
            log_group=log_group, filter_name=filter_name, filter_pattern=filter_pattern, destination_arn=destination_arn
        )

    def unsubscribe(self, log_group: str, filter_name: str) -> Unsubscribed:
        """Delete the filter; one already gone is fine (every end of a promotion calls this)."""
        try:
            self.client.delete_subscription_filter(logGroupName=log_group, filterName=filter_name)
        except ClientError as error:
            if code_of(error) == "ResourceNotFoundException":
                return Unsubscribed(log_group=log_group, filter_name=filter_name, removed=False)
            raise
        return Unsubscribed(log_group=log_group, filter_name=filter_name, removed=True)
