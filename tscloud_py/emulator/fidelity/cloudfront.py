"""CloudFront as AWS answers it: origins, distribution ARNs and summaries, OAC names, Functions, VPC origins."""

from __future__ import annotations

from typing import Any


def apply() -> None:
    _keep_cloudfront_origin_fields()
    _cloudfront_distribution_arns()
    _full_distribution_summaries()
    _unique_oac_names()
    _invalidation_status()
    from tscloud_py.emulator.cloudfront_functions import add_cloudfront_functions
    from tscloud_py.emulator.fidelity.cloudfront_vpc_origins import add_vpc_origins

    add_cloudfront_functions()
    add_vpc_origins()


def _keep_cloudfront_origin_fields() -> None:
    """AWS returns an origin's OriginAccessControlId and S3OriginConfig; moto drops both."""
    from moto.cloudfront import models

    original_init = models.Origin.__init__

    def init(self: Any, origin: dict[str, Any]) -> None:
        original_init(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""
        if "S3OriginConfig" in origin:
            self.s3_origin_config = dict(origin["S3OriginConfig"])

    models.Origin.__init__ = init  # type: ignore[method-assign]


def _cloudfront_distribution_arns() -> None:
    """CloudFront is global: AWS's distribution ARN has an empty region field,
    ``arn:aws:cloudfront::ACCOUNT:distribution/ID``. moto 5.2.1 drops that field
    (``arn:aws:cloudfront:ACCOUNT:distribution/ID``); 5.2.5 has AWS's shape."""
    from moto.cloudfront import models

    original_init = models.Distribution.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        head, sep, rest = self.arn.partition(":cloudfront:")
        if sep and not rest.startswith(":"):
            self.arn = f"{head}:cloudfront::{rest}"

    models.Distribution.__init__ = init  # type: ignore[method-assign]


# the members of AWS's DistributionSummary that come from the distribution's config
SUMMARY_CONFIG_FIELDS = ("Aliases", "Origins", "OriginGroups", "DefaultCacheBehavior", "CacheBehaviors",
                         "CustomErrorResponses", "Comment", "PriceClass", "Enabled", "ViewerCertificate",
                         "Restrictions", "WebACLId", "HttpVersion", "IsIPV6Enabled")


def _full_distribution_summaries() -> None:
    """AWS's ListDistributions summary carries the config's Comment, Origins, behaviors, ...; moto 5.2.1
    leaves them out (a reader would fetch every config to find its distribution by Comment); 5.2.5 fills
    them, the same way as here."""
    from moto.cloudfront import models

    if "__getattr__" in vars(models.Distribution):
        return

    def getattr_(self: Any, name: str) -> Any:
        if name in SUMMARY_CONFIG_FIELDS:
            return getattr(self.distribution_config, name)
        raise AttributeError(name)

    models.Distribution.__getattr__ = getattr_  # type: ignore[attr-defined]


def _unique_oac_names() -> None:
    """AWS refuses a second origin access control with a name already taken in the account
    (OriginAccessControlAlreadyExists, 409); moto makes another one with the same name, so a create sent
    twice would leave two where AWS has one."""
    from moto.cloudfront.exceptions import CloudFrontException
    from moto.cloudfront.models import CloudFrontBackend

    original = CloudFrontBackend.create_origin_access_control

    def create(self: Any, config_dict: dict[str, str]) -> Any:
        name = config_dict.get("Name")
        if any(c.name == name for c in self.origin_access_controls.values()):
            raise CloudFrontException("OriginAccessControlAlreadyExists",
                                      f"An origin access control with the name {name} already exists.")
        return original(self, config_dict)

    CloudFrontBackend.create_origin_access_control = create  # type: ignore[method-assign]


def _invalidation_status() -> None:
    """AWS calls a finished invalidation ``Completed``; moto says ``COMPLETED``."""
    from moto.cloudfront import models

    original_init = models.Invalidation.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if self.status == "COMPLETED":
            self.status = "Completed"

    models.Invalidation.__init__ = init  # type: ignore[method-assign]
