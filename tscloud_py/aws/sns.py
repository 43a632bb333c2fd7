"""SNS topics an alarm notifies, and their email subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tscloud_py.aws._tags import tag_list, tags_dict
from tscloud_py.aws.session import call, ignoring, paginate

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory

NOT_FOUND = ("NotFound", "NotFoundException")
PENDING = "PendingConfirmation"  # SNS's SubscriptionArn until the address confirms


@dataclass(frozen=True)
class Subscription:
    protocol: str
    endpoint: str
    arn: str  # "PendingConfirmation" until confirmed

    @property
    def pending(self) -> bool:
        return self.arn == PENDING or not self.arn.startswith("arn:")


class Sns:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.region = region or factory.region
        self.c = factory.client("sns", region)

    def find_topic(self, name: str) -> str | None:
        for topic in paginate(self.c, "list_topics", "Topics"):
            arn = str(topic.get("TopicArn", ""))
            if arn.rsplit(":", 1)[-1] == name:
                return arn
        return None

    def create_topic(self, name: str, tags: dict[str, str]) -> str:
        """Idempotent by name: a resend answers the topic the first request made."""
        return str(call(self.c.create_topic, "sns:CreateTopic", Name=name, Tags=tag_list(tags))["TopicArn"])

    def tags(self, arn: str) -> dict[str, str]:
        return tags_dict(call(self.c.list_tags_for_resource, "sns:ListTagsForResource", ResourceArn=arn).get("Tags"))

    def tag(self, arn: str, tags: dict[str, str]) -> None:
        call(self.c.tag_resource, "sns:TagResource", ResourceArn=arn, Tags=tag_list(tags))

    def subscriptions(self, topic_arn: str) -> list[Subscription]:
        return [Subscription(str(s.get("Protocol")), str(s.get("Endpoint")), str(s.get("SubscriptionArn")))
                for s in paginate(self.c, "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic_arn)]

    def subscribe_email(self, topic_arn: str, address: str) -> None:
        """SNS mails the address a confirmation link; until it is followed the subscription is pending. Sent
        again for an address already subscribed, SNS answers the existing subscription."""
        call(self.c.subscribe, "sns:Subscribe", TopicArn=topic_arn, Protocol="email", Endpoint=address)

    def delete_topic(self, arn: str) -> None:
        with ignoring(*NOT_FOUND):
            call(self.c.delete_topic, "sns:DeleteTopic", TopicArn=arn)

