"""EventBridge delivers to SNS topic targets, and refuses topics whose key it may not use, as AWS does.

moto's own code skips a target that is an SNS topic. sandbox/aws/events/delivery.py hands SNS
targets to ``publish_to_topic``, which publishes the event (or the target's
``Input``/``InputPath``/``InputTransformer`` result) through moto's SNS backend, so moto's
subscriptions (SQS, Lambda, HTTP) receive it with the SNS envelope.

AWS behaviour reproduced: a topic with server-side encryption needs its KMS key to let the event
source use it. "Enable compatibility between event sources from AWS services and encrypted topics"
(https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services):
the AWS managed key ``alias/aws/sns`` has a key policy that cannot be changed and does not allow
``events.amazonaws.com``, so EventBridge's delivery to such a topic fails; a customer managed key
must allow the service principal ``kms:GenerateDataKey*`` and ``kms:Decrypt``. A delivery the key
does not allow is logged as failed (``FailedInvocations`` in AWS) and nothing is published.

Not modelled: the topic's access policy (AWS needs ``sns:Publish`` for events.amazonaws.com there),
conditions in the key policy, grants, and the target's RetryPolicy and dead-letter queue.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

AWS_MANAGED_SNS_KEY = "alias/aws/sns"
EVENTS_PRINCIPAL = "events.amazonaws.com"
NEEDED_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


class KeyRefused(Exception):
    """The topic's KMS key does not let EventBridge encrypt the message (KMS AccessDenied)."""


def _is_topic(target: dict[str, Any]) -> bool:
    parts = str(target.get("Arn", "")).split(":")
    return len(parts) == 6 and parts[2] == "sns"


def _service_principals(statement: dict[str, Any]) -> set[str]:
    principal = statement.get("Principal", {})
    services = principal.get("Service", []) if isinstance(principal, dict) else []
    return {services} if isinstance(services, str) else set(services)


def _allows(statement: dict[str, Any], action: str) -> bool:
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    return any(fnmatch.fnmatchcase(action, pattern) for pattern in actions)


def key_lets_eventbridge_publish(key_id: str, account_id: str, region: str) -> bool:
    """True if the key policy of ``key_id`` lets events.amazonaws.com encrypt for the topic."""
    if key_id in (AWS_MANAGED_SNS_KEY, f"arn:aws:kms:{region}:{account_id}:{AWS_MANAGED_SNS_KEY}"):
        return False  # AWS managed: its fixed policy allows only principals of this account, via SNS
    from moto.kms.models import kms_backends

    backend = kms_backends[account_id][region]
    key = backend.describe_key(key_id)
    if key.key_manager == "AWS":
        return False
    policy = json.loads(key.policy) if isinstance(key.policy, str) else key.policy  # CloudFormation keeps a dict
    statements = policy.get("Statement", [])
    allowed = [s for s in statements if s.get("Effect") == "Allow" and EVENTS_PRINCIPAL in _service_principals(s)]
    return all(any(_allows(s, action) for s in allowed) for action in NEEDED_KEY_ACTIONS)


def publish_to_topic(topic_arn: str, payload: Any) -> str:
    """EventBridge's Publish to the topic: the key is checked first, then moto's SNS delivers."""
    from moto.sns.models import sns_backends

    region, account_id = topic_arn.split(":")[3], topic_arn.split(":")[4]
    backend = sns_backends[account_id][region]
    topic = backend.get_topic(topic_arn)
    if topic.kms_master_key_id and not key_lets_eventbridge_publish(topic.kms_master_key_id, account_id, region):
        raise KeyRefused(f"KMS key {topic.kms_master_key_id} does not allow {EVENTS_PRINCIPAL}; topic {topic_arn}")
    message = payload if isinstance(payload, str) else json.dumps(payload)
    return backend.publish(message, arn=topic_arn)
