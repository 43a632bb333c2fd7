"""SES domain identity with Easy DKIM and a custom MAIL FROM domain; records through the DNS provider."""

from __future__ import annotations

from typing import Any

from tscloud_py.engine.step import Change, Outputs, StepContext
from tscloud_py.presets.fullstack_app.common import FsStep


class MailStep(FsStep):
    kind = "SES identity"

    @property
    def domain(self) -> str:
        assert self.env.config.mail is not None
        return self.env.config.mail.domain

    @property
    def mail_from(self) -> str:
        assert self.env.config.mail is not None
        return self.env.config.mail.mail_from or f"mail.{self.domain}"

    def _provider(self) -> Any:
        from tscloud_py.dns import get_provider

        return get_provider(self.env.config.dns, self.env.aws)

    def records(self, tokens: list[str]) -> list[Any]:
        from tscloud_py.dns import Record

        recs = [Record(f"{t}._domainkey.{self.domain}", "CNAME", [f"{t}.dkim.amazonses.com"], 1800)
                for t in sorted(tokens)]
        recs.append(Record(self.mail_from, "MX", [f"10 feedback-smtp.{self.env.region}.amazonses.com"], 1800))
        recs.append(Record(self.mail_from, "TXT", ["v=spf1 include:amazonses.com ~all"], 1800))
        return recs

    def read(self, ctx: StepContext) -> Any | None:
        identity = self.env.ses.identity(self.domain)
        if identity is None:
            return None
        tokens = self.env.ses.dkim_tokens(self.domain, identity)
        provider = self._provider()
        present = []
        for rec in self.records(tokens):
            current = provider.get(rec.name, rec.type)
            present.append(current is not None and provider.same(current, rec))
        return {"identity": identity, "tokens": tokens, "records_ok": present,
                "mail_from": self.env.ses.mail_from(self.domain)}

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
        ses = self.env.ses
        if observed is None:
            created = ses.create_identity(self.domain, self.tags)
            tokens = ses.dkim_tokens(self.domain, created)
            have_from = None
        else:
            tokens = observed["tokens"]
            have_from = observed["mail_from"]
        if have_from != self.mail_from:
            ses.set_mail_from(self.domain, self.mail_from)
        provider = self._provider()
        for rec in self.records(tokens):
            provider.upsert(rec)
        return self.outputs(ctx, None)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"domain": self.domain, "identity_arn": self.env.arn("ses", f"identity/{self.domain}"),
                "mail_from": self.mail_from}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        provider = self._provider()
        for rec in self.records(observed["tokens"]):
            provider.delete(rec.name, rec.type)
        self.env.ses.delete_identity(self.domain)
