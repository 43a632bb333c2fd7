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

from dataclasses import dataclass, replace

from tscloud_py.aws.cloudfront import model as cfm
from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.build.nitro import PublicEntry
from tscloud_py.engine.step import StepContext
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
    def __init__(self, step_id: str, cloudfront: CloudFront, *, app: str, stage: str, entries: list[PublicEntry],
                 price_class: str, read_timeout: int, needs: tuple[str, ...], server_domain_ref: tuple[str, str],
                 server_path: str = "", server_oac_step: str | None = "server-oac",
                 edge_function_step: str | None = "edge-function", region: str = "us-east-1",
                 bucket_step: str = "bucket", oac_step: str = "oac") -> None:
        super().__init__(step_id, cloudfront, app=app, stage=stage, region=region, needs=needs,
                         bucket_step=bucket_step)
        self.entries, self.price_class, self.read_timeout = entries, price_class, read_timeout
        self.server_domain_ref, self.server_path = server_domain_ref, server_path
        self.server_oac_step, self.edge_function_step, self.oac_step = server_oac_step, edge_function_step, oac_step

    def owned(self, ctx: StepContext, comment: str) -> cfm.Owned:
        server = ServerOrigin(
            domain=ctx.output(*self.server_domain_ref), path=self.server_path,
            oac_id=ctx.output(self.server_oac_step, "oac_id") if self.server_oac_step else None,
            read_timeout=self.read_timeout)
        function_arn = ctx.output(self.edge_function_step, "function_arn") if self.edge_function_step else None
        return ssr_owned(comment=comment, server=server, assets_domain=ctx.output(self.bucket_step, "bucket_domain"),
                         assets_oac_id=ctx.output(self.oac_step, "oac_id"), entries=self.entries,
                         function_arn=function_arn, price_class=self.price_class)

    def create_summary(self) -> str:
        patterns = ", ".join(e.path_pattern for e in self.entries) or "none"
        return (f"create distribution: default -> server (no cache, all methods, x-forwarded-host); "
                f"assets -> S3 via OAC: {patterns}")
