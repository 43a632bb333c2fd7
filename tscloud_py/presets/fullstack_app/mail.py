"""SES domain identity with Easy DKIM and a custom MAIL FROM domain; records through the DNS provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tscloud_py.aws.ses import Ses
from tscloud_py.config.schema import Config
from tscloud_py.dns.base import Provider
from tscloud_py.engine.step import Change, Outputs, StepContext
from tscloud_py.presets.fullstack_app.common import FsStep
from tscloud_py.presets.naming import Names


class MailStep(FsStep):
    kind = "SES identity"
    provides = frozenset({"domain", "identity_arn", "mail_from"})

    def __init__(self, step_id: str, ses: Ses, provider: Provider, config: Config, names: Names, *,
                 account: Callable[[], str]) -> None:
        super().__init__(step_id, config, names)
        self.ses, self.provider = ses, provider
        self.account = account

    @property
    def domain(self) -> str:
        assert self.config.mail is not None
        return self.config.mail.domain

    @property
    def mail_from(self) -> str:
        assert self.config.mail is not None
        return self.config.mail.mail_from or f"mail.{self.domain}"

    def records(self, tokens: list[str]) -> list[Any]:
        from tscloud_py.dns import Record

        recs = [Record(f"{t}._domainkey.{self.domain}", "CNAME", [f"{t}.dkim.amazonses.com"], 1800)
                for t in sorted(tokens)]
        recs.append(Record(self.mail_from, "MX", [f"10 feedback-smtp.{self.names.region}.amazonses.com"], 1800))
        recs.append(Record(self.mail_from, "TXT", ["v=spf1 include:amazonses.com ~all"], 1800))
        return recs

    def read(self, ctx: StepContext) -> Any | None:
        identity = self.ses.identity(self.domain)
        if identity is None:
            return None
        tokens = self.ses.dkim_tokens(self.domain, identity)
        provider = self.provider
        present = []
        for rec in self.records(tokens):
            current = provider.get(rec.name, rec.type)
            present.append(current is not None and provider.same(current, rec))
        return {"identity": identity, "tokens": tokens, "records_ok": present,
                "mail_from": self.ses.mail_from(self.domain)}

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is None:
            return [Change("SES identity", None, self.domain), Change("DKIM + MAIL FROM records", None, self.mail_from)]
        changes: list[Change] = []
        have_from = observed["mail_from"]
        if have_from != self.mail_from:
            changes.append(Change("MAIL FROM domain", have_from, self.mail_from))
        for rec, ok in zip(self.records(observed["tokens"]), observed["records_ok"], strict=True):
            if not ok:
                changes.append(Change(f"{rec.type} {rec.name}", None, rec.values[0]))
        return changes

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        ses = self.ses
        if observed is None:
            created = ses.create_identity(self.domain, self.tags)
            tokens = ses.dkim_tokens(self.domain, created)
            have_from = None
        else:
            tokens = observed["tokens"]
            have_from = observed["mail_from"]
        if have_from != self.mail_from:
            ses.set_mail_from(self.domain, self.mail_from)
        provider = self.provider
        for rec in self.records(tokens):
            provider.upsert(rec)
        return self.outputs(ctx, None)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"domain": self.domain, "identity_arn": self.names.arn(self.account(), "ses", f"identity/{self.domain}"),
                "mail_from": self.mail_from}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        provider = self.provider
        for rec in self.records(observed["tokens"]):
            provider.delete(rec.name, rec.type)
        self.ses.delete_identity(self.domain)
