"""SES: domain identities (v2 API, with tags) with Easy DKIM and a custom MAIL FROM domain.

DKIM tokens and MAIL FROM are read and set through the classic API: in AWS the classic and the v2
API are two views of the same identities.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tscloud_py.aws._tags import tag_list
from tscloud_py.aws.session import call, ignoring

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory


class Ses:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("sesv2", region)
        self.classic = factory.client("ses", region)

    def identity(self, domain: str) -> dict[str, Any] | None:
        with ignoring("NotFoundException"):
            return dict(call(self.c.get_email_identity, "sesv2:GetEmailIdentity", EmailIdentity=domain))
        return None

    def create_identity(self, domain: str, tags: dict[str, str]) -> dict[str, Any]:
        return dict(call(self.c.create_email_identity, "sesv2:CreateEmailIdentity", EmailIdentity=domain,
                         Tags=tag_list(tags)))

    def dkim_tokens(self, domain: str, identity: dict[str, Any] | None = None) -> list[str]:
        tokens = list(((identity or {}).get("DkimAttributes") or {}).get("Tokens") or [])
        if tokens:
            return tokens
        attrs = call(self.classic.get_identity_dkim_attributes, "ses:GetIdentityDkimAttributes",
                     Identities=[domain])["DkimAttributes"]
        return list(attrs.get(domain, {}).get("DkimTokens") or [])

    def mail_from(self, domain: str) -> str | None:
        attrs = call(self.classic.get_identity_mail_from_domain_attributes, "ses:GetIdentityMailFromDomainAttributes",
                     Identities=[domain])["MailFromDomainAttributes"]
        found = attrs.get(domain, {}).get("MailFromDomain")
        return str(found) if found else None

    def set_mail_from(self, domain: str, mail_from: str) -> None:
        call(self.classic.set_identity_mail_from_domain, "ses:SetIdentityMailFromDomain", Identity=domain,
             MailFromDomain=mail_from, BehaviorOnMXFailure="UseDefaultValue")

    def delete_identity(self, domain: str) -> None:
        with ignoring("NotFoundException"):
            call(self.c.delete_email_identity, "sesv2:DeleteEmailIdentity", EmailIdentity=domain)
