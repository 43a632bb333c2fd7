"""SQS queues."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tscloud_py.aws.session import call, ignoring

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory

NOT_FOUND = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


class Sqs:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("sqs", region)

    def queue_url(self, name: str) -> str | None:
        with ignoring(*NOT_FOUND):
            return str(call(self.c.get_queue_url, "sqs:GetQueueUrl", QueueName=name)["QueueUrl"])
        return None

    def attributes(self, url: str) -> dict[str, str]:
        return dict(call(self.c.get_queue_attributes, "sqs:GetQueueAttributes", QueueUrl=url,
                         AttributeNames=["All"]).get("Attributes", {}))

    def tags(self, url: str) -> dict[str, str]:
        return dict(call(self.c.list_queue_tags, "sqs:ListQueueTags", QueueUrl=url).get("Tags", {}))

    def create(self, name: str, attributes: dict[str, str], tags: dict[str, str]) -> str:
        return str(call(self.c.create_queue, "sqs:CreateQueue", QueueName=name, Attributes=attributes,
                        tags=tags)["QueueUrl"])

    def set_attributes(self, url: str, attributes: dict[str, str]) -> None:
        call(self.c.set_queue_attributes, "sqs:SetQueueAttributes", QueueUrl=url, Attributes=attributes)

    def tag(self, url: str, tags: dict[str, str]) -> None:
        call(self.c.tag_queue, "sqs:TagQueue", QueueUrl=url, Tags=tags)

    def delete(self, url: str) -> None:
        with ignoring(*NOT_FOUND):
            call(self.c.delete_queue, "sqs:DeleteQueue", QueueUrl=url)
