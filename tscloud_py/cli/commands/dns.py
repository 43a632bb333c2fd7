"""tscloud dns records | upsert | delete, and tscloud cert request: DNS and certificates at any provider."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import pass_app
from tscloud_py.errors import UsageError

if TYPE_CHECKING:
    from tscloud_py.aws.waiters import WaitProgress
    from tscloud_py.dns.base import Provider
    from tscloud_py.operations.context import AppContext

PROVIDER_CHOICES = ("route53", "cloudflare", "porkbun", "godaddy")

provider_option = click.option(
    "--provider", type=click.Choice(PROVIDER_CHOICES),
    help="DNS provider (default: [dns] provider of tscloud.toml if there is one, else route53).")


def _provider(app: AppContext, name: str | None) -> Provider:
    from tscloud_py.dns import provider_by_name

    zone = zone_id = None
    proxied = False
    configured = None
    if app.config_path.exists():
        dns = app.config().dns
        configured = dns.provider
        if name in (None, dns.provider):
            zone, zone_id, proxied = dns.zone, dns.zone_id, dns.proxied
    return provider_by_name(name or configured or "route53", app.factory(), zone=zone, zone_id=zone_id,
                            proxied=proxied)


def _print_records(records: list[dict[str, Any]]) -> None:
    from tscloud_py.cli.ui import echo

    if not records:
        echo("(no records)")
        return
    width = max(len(r["name"]) for r in records)
    for r in records:
        for value in r["values"]:
            extra = f"  alias:{r['alias_zone_id']}" if r.get("alias_zone_id") else ""
            extra += "  proxied" if r.get("proxied") else ""
            echo(f"{r['name'].ljust(width)}  {r['type']:<6} {r['ttl']:>6}  {value}{extra}")


@click.group()
def dns() -> None:
    """List and change DNS records at route53, cloudflare, porkbun or godaddy."""


@dns.command("records")
@click.argument("domain")
@click.option("--type", "rtype", metavar="TYPE", help="Only records of this type (A, CNAME, TXT, ...).")
@provider_option
@pass_app
def records(app: AppContext, domain: str, rtype: str | None, provider: str | None) -> None:
    """Records of DOMAIN's zone (every record for a zone apex; else those at DOMAIN)."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.dns.names import normalize

    p = _provider(app, provider)
    name = normalize(domain)
    zone = p.find_zone(name)
    found = [r.to_json() for r in p.list_records(zone, None if name == zone.name else name, rtype)]
    if app.json:
        print_json({"provider": p.name, "zone": zone.name, "records": found})
        return
    echo(f"{zone.name} at {p.name}", err=True)
    _print_records(found)


@dns.command("upsert")
@click.argument("name")
@click.argument("rtype", metavar="TYPE")
@click.argument("values", metavar="VALUE...", nargs=-1, required=True)
@click.option("--ttl", type=click.IntRange(1, 604800), default=300, show_default=True, help="Time to live (s).")
@click.option("--proxied/--no-proxied", default=None, help="Cloudflare only: proxy through Cloudflare.")
@click.option("--alias-zone-id", metavar="ZONE_ID",
              help="Route53 only: write an alias record to VALUE, a target in this hosted zone.")
@provider_option
@pass_app
def upsert(app: AppContext, name: str, rtype: str, values: tuple[str, ...], ttl: int, proxied: bool | None,
           alias_zone_id: str | None, provider: str | None) -> None:
    """Set the record set NAME TYPE to exactly VALUE... (idempotent; a CNAME at the apex as served)."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.dns.base import Record

    p = _provider(app, provider)
    zone = p.find_zone(name)
    if alias_zone_id and p.name != "route53":
        raise UsageError(f"--alias-zone-id: only route53 has alias records, not {p.name}")
    if alias_zone_id and rtype.upper() in ("CNAME", "ALIAS"):
        record = p.pointer_record(name, values[0], alias_zone_id=alias_zone_id, prefer_alias=True, ttl=ttl)
    else:
        record = p.served_form(zone, Record(name, rtype, list(values), ttl, proxied=proxied,
                                            alias_zone_id=alias_zone_id))
    status = p.upsert(record)
    if app.json:
        print_json({"provider": p.name, "status": status, "record": record.to_json()})
        return
    echo(f"{status}: {record.type} {record.name} -> {', '.join(record.values)} at {p.name}")


@dns.command("delete")
@click.argument("name")
@click.argument("rtype", metavar="TYPE")
@provider_option
@pass_app
def delete(app: AppContext, name: str, rtype: str, provider: str | None) -> None:
    """Delete the record set NAME TYPE (every value)."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.dns.names import normalize

    p = _provider(app, provider)
    deleted = p.delete(name, rtype)
    if app.json:
        print_json({"provider": p.name, "name": normalize(name), "type": rtype.upper(), "deleted": deleted})
        return
    echo(f"{'deleted' if deleted else 'absent'}: {rtype.upper()} {normalize(name)} at {p.name}")


@click.group()
def cert() -> None:
    """ACM certificates validated through any DNS provider."""


class _Progress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = ""

    def __call__(self, p: WaitProgress) -> None:
        from tscloud_py.aws.waiters import format_duration
        from tscloud_py.cli.ui import echo

        if self.enabled and p.state != self.last:
            self.last = p.state
            echo(f"waiting for {p.what}: {p.state} ({format_duration(p.elapsed)})", err=True)


@cert.command("request")
@click.argument("domain")
@click.option("--san", "sans", multiple=True, metavar="NAME", help="An extra name on the certificate (repeatable).")
@click.option("--wait", "wait", is_flag=True, help="Wait until the certificate is ISSUED.")
@provider_option
@pass_app
def request(app: AppContext, domain: str, sans: tuple[str, ...], wait: bool, provider: str | None) -> None:
    """Request (or reuse) a certificate for DOMAIN and write its validation CNAMEs at the provider.

    The region is --region, else the config's, else us-east-1 (the one CloudFront needs).
    """
    from tscloud_py.aws.acm import Acm
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.dns.base import Record
    from tscloud_py.dns.names import normalize

    names = list(dict.fromkeys(normalize(n) for n in (domain, *sans)))
    factory = app.factory()
    acm = Acm(factory, factory.region)
    p = _provider(app, provider)
    progress = _Progress(not app.json)
    existing = acm.find_issued(names)
    written: list[dict[str, str]] = []
    if existing is not None:
        arn, status, reused = existing["CertificateArn"], "ISSUED", True
    else:
        token = hashlib.sha256("/".join(["cert-request", acm.region, *sorted(names)]).encode()).hexdigest()[:32]
        arn = acm.request(names, token=token, tags={"tscloud:created-by": "tscloud cert request"})
        reused = False
        for rr in acm.validation_records(arn, progress=progress):
            state = p.upsert(Record(rr["name"], "CNAME", [rr["value"]], 300, proxied=False))
            written.append({**rr, "status": state})
        status = "PENDING_VALIDATION"
        if wait:
            status = str(acm.wait_issued(arn, progress=progress)["Status"])
        else:
            described = acm.describe(arn)
            status = str(described.get("Status")) if described else status
    doc = {"certificate_arn": arn, "region": acm.region, "domains": names, "status": status, "reused": reused,
           "provider": p.name, "validation_records": written}
    if app.json:
        print_json(doc)
        return
    echo(f"{'reused' if reused else 'requested'} {arn} ({status}) in {acm.region}")
    for rr in written:
        echo(f"  validation CNAME {rr['name']} -> {rr['value']} ({rr['status']} at {p.name})")


def register(group: click.Group) -> None:
    group.add_command(dns)
    group.add_command(cert)
