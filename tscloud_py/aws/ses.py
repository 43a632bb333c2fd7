"""SES (v2): domain identities with Easy DKIM and a custom MAIL FROM domain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tscloud_py.aws._tags import tag_list
from tscloud_py.aws.session import call, ignoring

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory


class Ses:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("sesv2", region)

    def identity(self, domain: str) -> dict[str, Any] | None:
        with ignoring("NotFoundException"):
            return dict(call(self.c.get_email_identity, "sesv2:GetEmailIdentity", EmailIdentity=domain))
        return None

    def create_identity(self, domain: str, tags: dict[str, str]) -> dict[str, Any]:
        return dict(call(self.c.create_email_identity, "sesv2:CreateEmailIdentity", EmailIdentity=domain,
                         Tags=tag_list(tags)))

    def set_mail_from(self, domain: str, mail_from: str) -> None:
        call(self.c.put_email_identity_mail_from_attributes, "sesv2:PutEmailIdentityMailFromAttributes",
             EmailIdentity=domain, MailFromDomain=mail_from, BehaviorOnMxFailure="USE_DEFAULT_VALUE")

    def delete_identity(self, domain: str) -> None:
        with ignoring("NotFoundException"):
            call(self.c.delete_email_identity, "sesv2:DeleteEmailIdentity", EmailIdentity=domain)
