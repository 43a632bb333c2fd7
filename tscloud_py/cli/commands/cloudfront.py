"""tscloud cloudfront show | add-origin | remove-origin | invalidate: work on a live distribution."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import pass_app
from tscloud_py.cli.ui import WaitLines
from tscloud_py.errors import UsageError

if TYPE_CHECKING:
    from tscloud_py.aws.cloudfront.client import CloudFront
    from tscloud_py.aws.cloudfront.splice import SpliceResult
    from tscloud_py.operations.context import AppContext

_DIST_ID = re.compile(r"^[A-Z0-9]{1,64}$")
METHOD_CHOICES = ("all", "get-head", "get-head-options")


@click.group()
def cloudfront() -> None:
    """Inspect a live distribution; splice an origin + cache behavior in or out."""


def _check_id(dist_id: str) -> str:
    if not _DIST_ID.match(dist_id):
        raise UsageError(f"ID: {dist_id!r} is not a CloudFront distribution id (e.g. E1A2B3C4D5E6F7)")
    return dist_id


def _client(app: AppContext) -> CloudFront:
    from tscloud_py.aws.cloudfront.client import CloudFront

    return CloudFront(app.factory("us-east-1"))  # CloudFront's API lives in us-east-1; no config needed


def _unknown_id(dist_id: str) -> Exception:
    from tscloud_py.aws.cloudfront.splice import UnknownDistributionError

    return UnknownDistributionError(f"unknown distribution id {dist_id!r}")


def _wait(app: AppContext, cf: CloudFront, dist_id: str) -> None:
    cf.wait_deployed(dist_id, progress=WaitLines(not app.json))


# -- show -------------------------------------------------------------------------------
@cloudfront.command()
@click.argument("dist_id", metavar="ID")
@pass_app
def show(app: AppContext, dist_id: str) -> None:
    """Origins and cache behaviors, in evaluation order (the default behavior last)."""
    from tscloud_py.aws.cloudfront.view import describe_distribution
    from tscloud_py.errors import AwsError

    cf = _client(app)
    try:
        info = cf.get_distribution(_check_id(dist_id))
    except AwsError as exc:
        if exc.code == "NoSuchDistribution":
            raise _unknown_id(dist_id) from exc
        raise
    doc = describe_distribution(info.id, info.domain_name, info.status, info.config, info.etag)
    if app.json:
        from tscloud_py.cli.ui import print_json

        print_json(doc)
        return
    _print_show(doc)


def _print_show(doc: dict[str, Any]) -> None:
    from tscloud_py.cli.ui import echo

    state = "enabled" if doc["enabled"] else "disabled"
    echo(f"distribution {doc['id']}  {doc['domain_name']}  {doc['status']}, {state}")
    if doc["aliases"]:
        echo(f"aliases: {', '.join(doc['aliases'])}")
    echo("origins:")
    width = max((len(o["id"]) for o in doc["origins"]), default=0)
    for o in doc["origins"]:
        extra = f"  headers: {', '.join(f'{k}={v}' for k, v in o['headers'].items())}" if o["headers"] else ""
        echo(f"  {o['id'].ljust(width)}  {o['domain']}{o['origin_path']}  {o['kind']}{extra}")
    echo("behaviors, in evaluation order:")
    pwidth = max((len(b["path_pattern"]) for b in doc["behaviors"]), default=0)
    for b in doc["behaviors"]:
        pos = "default" if b["default"] else f"{b['position']}."
        echo(f"  {pos:>8} {b['path_pattern'].ljust(pwidth)}  -> {b['target_origin_id']}  "
             f"{b['viewer_protocol_policy']}  {','.join(b['allowed_methods'])}  cache: {b['cache_policy']}")


# -- add-origin -------------------------------------------------------------------------
def _parse_headers(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for raw in values:
        name, sep, value = raw.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--header: expected NAME=VALUE, got {raw!r}")
        pairs.append((name.strip(), value))
    return tuple(pairs)


@cloudfront.command("add-origin")
@click.argument("dist_id", metavar="ID")
@click.option("--origin-id", required=True, help="Id of the origin to add (e.g. api).")
@click.option("--domain", required=True, help="Origin host: ALB DNS name, API Gateway domain, Function URL host, "
                                              "or bucket regional domain with --s3-oac-id.")
@click.option("--path-pattern", required=True, help="Cache behavior path pattern, e.g. '/api/*'.")
@click.option("--origin-path", default="", help="Path prefix CloudFront adds at the origin, e.g. /prod.")
@click.option("--protocol", type=click.Choice(["https-only", "http-only", "match-viewer"]), default=None,
              help="Origin protocol policy (custom origins).  [default: https-only; http-only for a loopback "
                   "--domain]")
@click.option("--port", type=click.IntRange(1, 65535), help="The origin's port (custom origins), e.g. "
              "--domain localhost --port 8080 for a server on this machine that the local edge proxies.")
@click.option("--header", "headers", multiple=True, metavar="K=V", help="Custom origin header (repeatable).")
@click.option("--origin-verify-secret-env", metavar="VAR",
              help="Send the secret in env var VAR as X-Origin-Verify (never printed in full).")
@click.option("--read-timeout", type=click.IntRange(1, 180), default=30, show_default=True,
              help="Origin read timeout, seconds.")
@click.option("--keepalive-timeout", type=click.IntRange(1, 180), default=5, show_default=True,
              help="Origin keep-alive timeout, seconds.")
@click.option("--s3-oac-id", help="Make it an S3 origin read through this Origin Access Control.")
@click.option("--cache-policy-id", help="Cache policy.  [default: managed CachingDisabled]")
@click.option("--origin-request-policy-id",
              help="Origin request policy, or 'none'.  [default: managed AllViewerExceptHostHeader]")
@click.option("--response-headers-policy-id", help="Response headers policy (default: none).")
@click.option("--allowed-methods", type=click.Choice(METHOD_CHOICES), default="all", show_default=True,
              help="HTTP methods the behavior accepts.")
@click.option("--viewer-protocol-policy", type=click.Choice(["redirect-to-https", "https-only", "allow-all"]),
              default="redirect-to-https", show_default=True)
@click.option("--no-compress", is_flag=True, help="Do not compress responses.")
@click.option("--max-origins", type=click.IntRange(1, 1000), default=25, show_default=True,
              help="The distribution's origin quota.")
@click.option("--max-behaviors", type=click.IntRange(1, 1000), default=25, show_default=True,
              help="The distribution's cache-behavior quota.")
@click.option("--replace", is_flag=True, help="Overwrite an origin / behavior with the same id / pattern.")
@click.option("--dry-run", is_flag=True, help="Print the diff; write nothing.")
@click.option("--wait", is_flag=True, help="Wait until the distribution is Deployed.")
@pass_app
def add_origin(app: AppContext, dist_id: str, origin_id: str, domain: str, path_pattern: str, origin_path: str,
               protocol: str | None, port: int | None, headers: tuple[str, ...], origin_verify_secret_env: str | None,
               read_timeout: int, keepalive_timeout: int, s3_oac_id: str | None, cache_policy_id: str | None,
               origin_request_policy_id: str | None, response_headers_policy_id: str | None,
               allowed_methods: str, viewer_protocol_policy: str, no_compress: bool, max_origins: int,
               max_behaviors: int, replace: bool, dry_run: bool, wait: bool) -> None:
    """Splice an origin + cache behavior into a live distribution (GET + ETag, splice, PUT If-Match)."""
    from tscloud_py.aws.cloudfront.model import (
        CACHING_DISABLED,
        ORIGIN_REQUEST_ALL_VIEWER_EXCEPT_HOST,
        Behavior,
        CustomOrigin,
        Origin,
        S3Origin,
    )
    from tscloud_py.aws.cloudfront.splice import METHOD_SETS, Limits

    _check_id(dist_id)
    pairs = _parse_headers(headers)
    origin: Origin
    if s3_oac_id is not None:
        if protocol is not None or port is not None or origin_verify_secret_env:
            flag = ("--protocol" if protocol is not None else "--port" if port is not None
                    else "--origin-verify-secret-env")
            raise UsageError(f"{flag}: not valid for an S3 origin (--s3-oac-id)")
        origin = S3Origin(origin_id, domain, s3_oac_id, origin_path=origin_path, headers=pairs)
    else:
        secret = None
        if origin_verify_secret_env:
            secret = os.environ.get(origin_verify_secret_env)
            if not secret:
                raise UsageError(f"--origin-verify-secret-env: environment variable "
                                 f"{origin_verify_secret_env} is not set")
            from tscloud_py import redact

            redact.register(secret)
        from tscloud_py.hosts import is_loopback_host

        # a server on this machine speaks plain HTTP; CloudFront itself never reaches one
        default_protocol = "http-only" if is_loopback_host(domain) else "https-only"
        origin = CustomOrigin(origin_id, domain, origin_path=origin_path, protocol=protocol or default_protocol,
                              read_timeout=read_timeout, keepalive_timeout=keepalive_timeout, headers=pairs,
                              verify_secret=secret, http_port=port or 80, https_port=port or 443)
    orp: str | None = origin_request_policy_id or ORIGIN_REQUEST_ALL_VIEWER_EXCEPT_HOST
    if orp is not None and orp.lower() == "none":
        orp = None
    methods = METHOD_SETS[allowed_methods]
    behavior = Behavior(path_pattern, allowed_methods=methods,
                        cache_policy_id=cache_policy_id or CACHING_DISABLED, origin_request_policy_id=orp,
                        response_headers_policy_id=response_headers_policy_id,
                        viewer_protocol_policy=viewer_protocol_policy, compress=not no_compress)
    cf = _client(app)
    result = cf.attach_origin(dist_id, origin, behavior, replace=replace, dry_run=dry_run,
                              limits=Limits(max_origins, max_behaviors), notify=_notifier(app))
    position = _position(result, path_pattern)
    _finish(app, cf, result, wait, {"origin_id": origin_id, "path_pattern": path_pattern, "position": position},
            what=f"origin {origin_id} + behavior {path_pattern}")


def _position(result: SpliceResult, pattern: str) -> int | None:
    from tscloud_py.aws.cloudfront.patterns import normalize_pattern

    items = (result.config.get("CacheBehaviors") or {}).get("Items") or []
    for i, b in enumerate(items):
        if normalize_pattern(str(b.get("PathPattern", ""))) == normalize_pattern(pattern):
            return i + 1
    return None


def _notifier(app: AppContext) -> Any:
    from tscloud_py.cli.ui import echo

    def notify(message: str) -> None:
        if not app.json:
            echo(message, err=True)

    return notify


def _finish(app: AppContext, cf: CloudFront, result: SpliceResult, wait: bool, extra: dict[str, Any], *,
            what: str, unchanged: str = "already has it") -> None:
    from tscloud_py.cli.ui import echo, print_json

    deployed = False
    if not app.json:
        if result.dry_run:
            echo(result.diff())
            echo(f"dry run: would be {result.status}; nothing written" if result.changed
                 else "dry run: unchanged; nothing would be written")
        elif result.changed:
            for line in result.changes():
                echo(line)
            echo(f"{result.status}: {what} on distribution {result.distribution_id} (ETag {result.etag})")
        else:
            echo(f"unchanged: distribution {result.distribution_id} {unchanged} ({what}); nothing written")
    if wait and not result.dry_run:
        _wait(app, cf, result.distribution_id)
        deployed = True
        if not app.json:
            echo(f"distribution {result.distribution_id} is Deployed")
    if app.json:
        doc = {**result.to_json(), **extra, "deployed": deployed}
        if result.dry_run:
            doc["diff"] = result.diff()
        print_json(doc)


# -- remove-origin ----------------------------------------------------------------------
@cloudfront.command("remove-origin")
@click.argument("dist_id", metavar="ID")
@click.option("--origin-id", required=True, help="Id of the origin to remove (its behaviors go too).")
@click.option("--dry-run", is_flag=True, help="Print the diff; write nothing.")
@click.option("--wait", is_flag=True, help="Wait until the distribution is Deployed.")
@pass_app
def remove_origin(app: AppContext, dist_id: str, origin_id: str, dry_run: bool, wait: bool) -> None:
    """Remove an origin and the cache behaviors that target it."""
    _check_id(dist_id)
    cf = _client(app)
    result = cf.detach_origin(dist_id, origin_id, dry_run=dry_run, notify=_notifier(app))
    _finish(app, cf, result, wait, {"origin_id": origin_id}, what=f"origin {origin_id} and its behaviors",
            unchanged="does not have it: not present")


# -- invalidate -------------------------------------------------------------------------
@cloudfront.command()
@click.argument("dist_id", metavar="ID")
@click.argument("paths", metavar="PATH...", nargs=-1, required=True)
@click.option("--wait", is_flag=True, help="Wait until the invalidation is Completed.")
@pass_app
def invalidate(app: AppContext, dist_id: str, paths: tuple[str, ...], wait: bool) -> None:
    """Invalidate paths (/index.html, '/assets/*', ...); optionally wait for it."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.errors import AwsError

    _check_id(dist_id)
    for path in paths:
        if not path.startswith("/") or len(path) > 4000:
            raise UsageError(f"PATH: {path!r} must start with / (e.g. /index.html or '/assets/*')")
    cf = _client(app)
    try:
        inv_id = cf.create_invalidation(dist_id, list(paths))
    except AwsError as exc:
        if exc.code == "NoSuchDistribution":
            raise _unknown_id(dist_id) from exc
        raise
    status = "InProgress"
    if not app.json:
        echo(f"invalidation {inv_id} created for {len(paths)} path(s) on distribution {dist_id}")
    if wait:
        _wait_invalidation(app, cf, dist_id, inv_id)
        status = "Completed"
        if not app.json:
            echo(f"invalidation {inv_id} Completed")
    if app.json:
        print_json({"distribution_id": dist_id, "invalidation_id": inv_id, "paths": list(paths),
                    "status": status})


def _wait_invalidation(app: AppContext, cf: CloudFront, dist_id: str, inv_id: str) -> None:
    """Wait for Completed (case-insensitively: the emulator says COMPLETED)."""
    from tscloud_py.aws.waiters import Poll, WaitPolicy, wait_for

    def check() -> Poll[str]:
        status = cf.invalidation_status(dist_id, inv_id)
        return Poll.finished(status) if status.lower() == "completed" else Poll.pending(status)

    wait_for(check, what=f"invalidation {inv_id}", policy=WaitPolicy(timeout=20 * 60),
             progress=WaitLines(not app.json))


def register(group: click.Group) -> None:
    group.add_command(cloudfront)
