"""SNS as AWS answers it: an email subscription is pending until the address confirms.

AWS lists an email (or email-json) subscription with the SubscriptionArn ``PendingConfirmation`` until its
address follows the link SNS mailed (no mail leaves the emulator, so it stays pending there); moto gives it
an ARN at once, as if confirmed, which would hide from `tscloud status` that nobody is told yet.
"""

from __future__ import annotations

from typing import Any

EMAIL_PROTOCOLS = ("email", "email-json")


def apply() -> None:
    from moto.sns.models import SNSBackend, Subscription

    def subscription_arn(self: Any) -> str:
        return "PendingConfirmation" if self.protocol in EMAIL_PROTOCOLS and not self.confirmed else str(self.arn)

    Subscription.subscription_arn = property(subscription_arn)  # type: ignore[attr-defined]

    original = SNSBackend.subscribe

    def subscribe(self: Any, topic_arn: str, endpoint: str, protocol: str) -> Any:
        subscription = original(self, topic_arn, endpoint, protocol)
        if protocol in EMAIL_PROTOCOLS and not subscription.confirmed:
            subscription.attributes["PendingConfirmation"] = "true"
            subscription.attributes["ConfirmationWasAuthenticated"] = "false"
        return subscription

    SNSBackend.subscribe = subscribe  # type: ignore[method-assign]
