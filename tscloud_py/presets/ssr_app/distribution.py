"""ssr-app's distribution: the server as the default behavior, one S3 behavior per top-level public entry.

The default behavior goes to the server with caching disabled, every method,
AllViewerExceptHostHeader, the SecurityHeaders policy and, when available, the
viewer-request function that forwards the viewer host as ``x-forwarded-host``.
Every top-level entry of ``.output/public`` gets its own behavior to the assets
bucket (``/assets/*`` for a directory, ``/favicon.ico`` for a file), derived from
the build. Origins and behaviors someone else added (``tscloud cloudfront
add-origin``) are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from tscloud_py.aws.cloudfront import model as cfm
from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.build.nitro import PublicEntry
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import StepContext
from tscloud_py.presets.naming import Names
from tscloud_py.presets.steps.distribution import DistributionStep

SERVER_ORIGIN_ID = "server"
ASSETS_ORIGIN_ID = "assets"
MAX_ORIGIN_READ_TIMEOUT = 60  # the default quota; higher needs a quota increase


@dataclass(frozen=True)
class ServerOrigin:
    domain: str
    path: str = ""
    oac_id: str | None = None  # a Lambda OAC for a Function URL; none for API Gateway
    read_timeout: int = 60


def ssr_owned(*, comment: str, server: ServerOrigin, assets_domain: str, assets_oac_id: str,
              entries: list[PublicEntry], function_arn: str | None, price_class: str) -> cfm.Owned:
    """What tscloud manages in an ssr-app distribution; it lists all of its behaviors (``prune``)."""
    assets = cfm.Behavior(allowed_methods=cfm.READ_METHODS, cache_policy_id=cfm.CACHING_OPTIMIZED,
                          origin_request_policy_id=None, response_headers_policy_id=cfm.RESPONSE_HEADERS_SECURITY)
    return cfm.Owned(
        settings={"Comment": comment, "Enabled": True, "HttpVersion": "http2and3", "IsIPV6Enabled": True,
                  "PriceClass": price_class},
        origins=(
            cfm.CustomOrigin(SERVER_ORIGIN_ID, server.domain, origin_path=server.path, oac_id=server.oac_id,
                             read_timeout=max(1, min(server.read_timeout, MAX_ORIGIN_READ_TIMEOUT))),
            cfm.S3Origin(ASSETS_ORIGIN_ID, assets_domain, assets_oac_id),
        ),
        routes=tuple(cfm.Route(ASSETS_ORIGIN_ID, replace(assets, path_pattern=e.path_pattern)) for e in entries),
        default=cfm.Route(SERVER_ORIGIN_ID, cfm.Behavior(
            response_headers_policy_id=cfm.RESPONSE_HEADERS_SECURITY,
            functions=(("viewer-request", function_arn),) if function_arn else ())),
        prune=True,
    )


class SsrDistributionStep(DistributionStep):
    def __init__(self, step_id: str, cloudfront: CloudFront, names: Names, *, entries: list[PublicEntry],
                 price_class: str, read_timeout: int, needs: Sequence[str], bucket_domain: Ref[str],
                 oac_id: Ref[str], server_domain: Ref[str], server_path: str = "",
                 server_oac_id: Ref[str] | None = None, edge_function_arn: Ref[str | None] | None = None,
                 web_acl_arn: Ref[str] | None = None) -> None:
        super().__init__(step_id, cloudfront, names, needs=needs, bucket_domain=bucket_domain,
                         web_acl_arn=web_acl_arn)
        self.entries, self.price_class, self.read_timeout = entries, price_class, read_timeout
        self.oac_id, self.server_domain, self.server_path = oac_id, server_domain, server_path
        self.server_oac_id, self.edge_function_arn = server_oac_id, edge_function_arn

    def owned(self, ctx: StepContext, comment: str) -> cfm.Owned:
        server = ServerOrigin(
            domain=ctx.get(self.server_domain), path=self.server_path,
            oac_id=ctx.get(self.server_oac_id) if self.server_oac_id else None,
            read_timeout=self.read_timeout)
        function_arn = ctx.get(self.edge_function_arn) if self.edge_function_arn else None
        return ssr_owned(comment=comment, server=server, assets_domain=ctx.get(self.bucket_domain),
                         assets_oac_id=ctx.get(self.oac_id), entries=self.entries,
                         function_arn=function_arn, price_class=self.price_class)

    def create_summary(self) -> str:
        patterns = ", ".join(e.path_pattern for e in self.entries) or "none"
        return (f"create distribution: default -> server (no cache, all methods, x-forwarded-host); "
                f"assets -> S3 via OAC: {patterns}")
