"""CloudFront: distributions (config + ETag round trips), OAC, VPC origins, invalidations, managed policies.

CloudFront is a global service; its API lives in us-east-1.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tscloud_py.aws.cloudfront.model import Behavior, Origin, config_changes
from tscloud_py.aws.retry import codes, create_or_adopt, retrying
from tscloud_py.aws.session import ClientFactory, call, ignoring, paginate
from tscloud_py.aws.waiters import Clock, Poll, ProgressCallback, SystemClock, WaitPolicy, wait_for
from tscloud_py.errors import AwsError

if TYPE_CHECKING:
    from tscloud_py.aws.cloudfront.splice import Limits, SpliceResult

_log = logging.getLogger("tscloud.cloudfront")

DEPLOY_WAIT = WaitPolicy(timeout=45 * 60, first_interval=5, max_interval=30)


@dataclass
class ConfigUpdate:
    """The outcome of one ETag round trip."""

    before: dict[str, Any]
    after: dict[str, Any]
    etag: str
    attempts: int
    written: bool


class ConfigConflictError(AwsError):
    """Another writer kept changing the distribution between our reads and writes."""

    default_hint = "someone else is updating this distribution; re-run once they are done"

    def __init__(self, message: str) -> None:
        super().__init__("cloudfront:UpdateDistribution", "PreconditionFailed", message)
        self.message = message


@dataclass
class DistributionInfo:
    id: str
    arn: str
    domain_name: str
    status: str
    enabled: bool
    config: dict[str, Any]
    etag: str


class CloudFront:
    def __init__(self, factory: ClientFactory, clock: Clock | None = None) -> None:
        self.factory = factory
        self.clock: Clock = clock or SystemClock()
        factory.want("cloudfront", "us-east-1")

    @property
    def _client(self) -> Any:
        return self.factory.client("cloudfront", "us-east-1")

    @property
    def _once(self) -> Any:
        """For creates without a CallerReference: sent once (see ``create_or_adopt``)."""
        return self.factory.client("cloudfront", "us-east-1", once=True)

    # -- distributions ------------------------------------------------------------
    def iter_distributions(self) -> Iterator[dict[str, Any]]:
        """Every distribution summary, across all pages."""
        return paginate(self._client, "list_distributions", "DistributionList.Items")

    def find_distribution_by_comment(self, comment: str) -> dict[str, Any] | None:
        """The distribution whose Comment is ``comment`` (our deterministic name for it)."""
        return self.find_distributions_by_comment([comment]).get(comment)

    def find_distributions_by_comment(self, comments: list[str]) -> dict[str, dict[str, Any]]:
        """Comment -> the first distribution with that Comment, for each of ``comments`` found (one listing)."""
        found: dict[str, dict[str, Any]] = {}
        for summary in self.iter_distributions():
            comment = summary.get("Comment")  # AWS puts the config's Comment in every summary
            if comment in comments and comment not in found:
                found[comment] = summary
        return found

    def get_distribution(self, dist_id: str, *, cached: bool = False) -> DistributionInfo:
        """The distribution; ``cached``: as already read in this run (by another step), if nothing
        was written to CloudFront since. A wait's polls never pass ``cached``."""
        def fetch() -> Any:
            return call(self._client.get_distribution, "cloudfront:GetDistribution", Id=dist_id)

        resp = self.factory.reads.get("cloudfront", ("GetDistribution", dist_id), fetch) if cached else fetch()
        dist = resp["Distribution"]
        config = dist["DistributionConfig"]
        return DistributionInfo(dist["Id"], dist["ARN"], dist["DomainName"], dist["Status"],
                                bool(config.get("Enabled")), config, resp["ETag"])

    def get_config(self, dist_id: str, *, cached: bool = False) -> tuple[dict[str, Any], str]:
        """Config and ETag; ``cached`` as in ``get_distribution`` (a stale ETag only costs a
        PreconditionFailed, which re-reads)."""
        def fetch() -> Any:
            return call(self._client.get_distribution_config, "cloudfront:GetDistributionConfig", Id=dist_id)

        resp = self.factory.reads.get("cloudfront", ("GetDistributionConfig", dist_id), fetch) if cached else fetch()
        return resp["DistributionConfig"], resp["ETag"]

    def create_distribution(self, config: dict[str, Any], tags: dict[str, str]) -> DistributionInfo:
        """Create it, or adopt the one an earlier request with the same CallerReference made.

        The CallerReference makes botocore's retry after a lost answer safe, but AWS (API 2020-05-31)
        answers a CallerReference it has seen with DistributionAlreadyExists whatever the config: that
        error after our own retry, or in a run after a lost answer, means the distribution is there.
        """
        def create() -> DistributionInfo:
            resp = call(self._client.create_distribution_with_tags, "cloudfront:CreateDistributionWithTags",
                        DistributionConfigWithTags={
                            "DistributionConfig": config,
                            "Tags": {"Items": [{"Key": k, "Value": v} for k, v in tags.items()]},
                        })
            dist = resp["Distribution"]
            return DistributionInfo(dist["Id"], dist["ARN"], dist["DomainName"], dist["Status"],
                                    bool(dist["DistributionConfig"].get("Enabled")), dist["DistributionConfig"],
                                    resp["ETag"])

        return create_or_adopt(create, lambda: self.find_by_caller_reference(config), "cloudfront:CreateDistribution",
                               exists=("DistributionAlreadyExists",))

    def find_by_caller_reference(self, config: dict[str, Any]) -> DistributionInfo | None:
        """The distribution created with ``config``'s CallerReference; only those with its Comment are read."""
        for summary in self.iter_distributions():
            if "Comment" in summary and summary["Comment"] != config.get("Comment"):
                continue
            info = self.get_distribution(summary["Id"])
            if info.config.get("CallerReference") == config["CallerReference"]:
                return info
        return None

    def update_config(self, dist_id: str, config: dict[str, Any], etag: str) -> str:
        """PUT the whole config with If-Match; returns the new ETag."""
        resp = call(self._client.update_distribution, "cloudfront:UpdateDistribution",
                    Id=dist_id, IfMatch=etag, DistributionConfig=config)
        return str(resp["ETag"])

    def tags(self, arn: str) -> dict[str, str]:
        resp = call(self._client.list_tags_for_resource, "cloudfront:ListTagsForResource", Resource=arn)
        return {t["Key"]: t["Value"] for t in resp.get("Tags", {}).get("Items", [])}

    def wait_deployed(self, dist_id: str, *, progress: ProgressCallback | None = None,
                      clock: Clock | None = None, policy: WaitPolicy | None = None) -> None:
        def check() -> Poll[str]:
            status = self.get_distribution(dist_id).status
            return Poll.finished(status) if status == "Deployed" else Poll.pending(status)

        wait_for(check, what=f"distribution {dist_id} Deployed", policy=policy or DEPLOY_WAIT,
                 clock=clock, progress=progress)

    def disable_and_delete(self, dist_id: str, *, progress: ProgressCallback | None = None,
                           clock: Clock | None = None, policy: WaitPolicy | None = None) -> None:
        """Disable, wait until Deployed, then delete. Safe to re-run at any point."""
        with ignoring("NoSuchDistribution"):
            config, etag = self.get_config(dist_id)
            if config.get("Enabled"):
                config["Enabled"] = False
                etag = self.update_config(dist_id, config, etag)
            self.wait_deployed(dist_id, progress=progress, clock=clock, policy=policy)
            _, etag = self.get_config(dist_id)
            call(self._client.delete_distribution, "cloudfront:DeleteDistribution", Id=dist_id, IfMatch=etag)

    # -- origin access control ----------------------------------------------------
    def find_oac(self, name: str) -> dict[str, Any] | None:
        return self.find_oacs([name]).get(name)

    def find_oacs(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """Name -> origin access control, for each of ``names`` found (one listing)."""
        found: dict[str, dict[str, Any]] = {}
        for item in paginate(self._client, "list_origin_access_controls", "OriginAccessControlList.Items"):
            if item.get("Name") in names and item["Name"] not in found:
                found[item["Name"]] = dict(item)
        return found

    def create_oac(self, name: str, origin_type: str = "s3", description: str = "") -> str:
        """OACs have no client token, and names are unique (OriginAccessControlAlreadyExists): sent once,
        and after a lost answer the one with this name is adopted."""
        def create() -> str:
            resp = call(self._once.create_origin_access_control, "cloudfront:CreateOriginAccessControl",
                        OriginAccessControlConfig={
                            "Name": name,
                            "Description": description,
                            "SigningProtocol": "sigv4",
                            "SigningBehavior": "always",
                            "OriginAccessControlOriginType": origin_type,
                        })
            return str(resp["OriginAccessControl"]["Id"])

        def find() -> str | None:
            found = self.find_oac(name)
            return str(found["Id"]) if found else None

        return create_or_adopt(create, find, "cloudfront:CreateOriginAccessControl",
                               exists=("OriginAccessControlAlreadyExists",))

    def delete_oac(self, oac_id: str) -> None:
        with ignoring("NoSuchOriginAccessControl"):
            resp = call(self._client.get_origin_access_control, "cloudfront:GetOriginAccessControl", Id=oac_id)
            call(self._client.delete_origin_access_control, "cloudfront:DeleteOriginAccessControl",
                 Id=oac_id, IfMatch=resp["ETag"])

    # -- VPC origins --------------------------------------------------------------
    def find_vpc_origin(self, endpoint_arn: str) -> dict[str, Any] | None:
        """The VPC origin whose endpoint is ``endpoint_arn`` (a load balancer's ARN): its summary."""
        marker = ""
        while True:  # botocore has no paginator for ListVpcOrigins
            page = call(self._client.list_vpc_origins, "cloudfront:ListVpcOrigins", Marker=marker)["VpcOriginList"]
            for item in page.get("Items") or []:
                if item.get("OriginEndpointArn") == endpoint_arn:
                    return dict(item)
            marker = str(page.get("NextMarker") or "")
            if not page.get("IsTruncated") or not marker:
                return None

    def vpc_origin(self, origin_id: str) -> tuple[dict[str, Any], str] | None:
        """The VPC origin and its ETag; None when it does not exist."""
        with ignoring("EntityNotFound"):
            resp = call(self._client.get_vpc_origin, "cloudfront:GetVpcOrigin", Id=origin_id)
            return dict(resp["VpcOrigin"]), str(resp["ETag"])
        return None

    def create_vpc_origin(self, endpoint: dict[str, Any], tags: dict[str, str]) -> str:
        """A VPC origin for ``endpoint["Arn"]``; its id. CreateVpcOrigin has no client token, and AWS keeps
        one VPC origin per endpoint: sent once, and after a lost answer the one for this endpoint is adopted."""
        def create() -> str:
            resp = call(self._once.create_vpc_origin, "cloudfront:CreateVpcOrigin",
                        VpcOriginEndpointConfig=endpoint,
                        Tags={"Items": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]})
            return str(resp["VpcOrigin"]["Id"])

        def find() -> str | None:
            found = self.find_vpc_origin(str(endpoint["Arn"]))
            return str(found["Id"]) if found else None

        return create_or_adopt(create, find, "cloudfront:CreateVpcOrigin", exists=("EntityAlreadyExists",))

    def update_vpc_origin(self, origin_id: str, endpoint: dict[str, Any], etag: str) -> None:
        call(self._client.update_vpc_origin, "cloudfront:UpdateVpcOrigin", Id=origin_id, IfMatch=etag,
             VpcOriginEndpointConfig=endpoint)

    def wait_vpc_origin_deployed(self, origin_id: str, *, progress: ProgressCallback | None = None,
                                 clock: Clock | None = None) -> None:
        def check() -> Poll[str]:
            found = self.vpc_origin(origin_id)
            status = str(found[0].get("Status")) if found else "missing"
            return Poll.finished(status) if status == "Deployed" else Poll.pending(status)

        wait_for(check, what=f"VPC origin {origin_id} Deployed", policy=DEPLOY_WAIT, clock=clock, progress=progress)

    def delete_vpc_origin(self, origin_id: str) -> None:
        """Delete; a distribution that stopped naming it lets go of it only once that change is deployed, so
        CannotDeleteEntityWhileInUse is waited out (bounded)."""
        def delete() -> None:
            found = self.vpc_origin(origin_id)
            if found is None:
                return
            with ignoring("EntityNotFound"):
                call(self._client.delete_vpc_origin, "cloudfront:DeleteVpcOrigin", Id=origin_id, IfMatch=found[1])

        retrying(codes("CannotDeleteEntityWhileInUse", "PreconditionFailed"),
                 what=f"VPC origin {origin_id} still in use", within=900, first=5.0, most=30.0,
                 sleep=self.clock.sleep)(delete)

    # -- invalidations ------------------------------------------------------------
    def create_invalidation(self, dist_id: str, paths: list[str], caller_reference: str | None = None) -> str:
        """Sent again while CloudFront has too many in progress (15 wildcard ones per distribution: preview
        stages redeployed at once queue behind each other); the CallerReference makes a resend the same one."""
        batch = {"Paths": {"Quantity": len(paths), "Items": paths},
                 "CallerReference": caller_reference or f"tscloud-{time.time_ns()}"}
        policy = retrying(codes("TooManyInvalidationsInProgress"), what=f"invalidations of {dist_id} in progress",
                          within=15 * 60, first=2.0, most=30.0, sleep=self.clock.sleep)
        def send() -> str:
            resp = call(self._client.create_invalidation, "cloudfront:CreateInvalidation", DistributionId=dist_id,
                        InvalidationBatch=batch)
            return str(resp["Invalidation"]["Id"])

        return policy(send)

    def latest_invalidation_reference(self, dist_id: str) -> str | None:
        """The CallerReference of the newest invalidation, if any (one list + one get)."""
        resp = call(self._client.list_invalidations, "cloudfront:ListInvalidations",
                    DistributionId=dist_id, MaxItems="10")
        items = resp.get("InvalidationList", {}).get("Items", []) or []
        if not items:
            return None
        newest = max(items, key=lambda i: i.get("CreateTime") or 0)
        got = call(self._client.get_invalidation, "cloudfront:GetInvalidation", DistributionId=dist_id,
                   Id=newest["Id"])
        return str(got["Invalidation"]["InvalidationBatch"]["CallerReference"])

    def wait_invalidation(self, dist_id: str, inv_id: str, *, progress: ProgressCallback | None = None,
                          clock: Clock | None = None, policy: WaitPolicy | None = None) -> None:
        def check() -> Poll[str]:
            status = self.invalidation_status(dist_id, inv_id)
            return Poll.finished(status) if status == "Completed" else Poll.pending(status)

        wait_for(check, what=f"invalidation {inv_id}", policy=policy or WaitPolicy(timeout=20 * 60),
                 clock=clock, progress=progress)

    def attach_origin(self, dist_id: str, origin: Origin, behavior: Behavior, *, replace: bool = False,
                      dry_run: bool = False, max_attempts: int = 5, limits: Limits | None = None,
                      notify: Callable[[str], None] | None = None) -> SpliceResult:
        """GET config + ETag, splice ``origin`` and ``behavior`` in, PUT with If-Match.

        Identical already: no write, status ``unchanged``. On PreconditionFailed
        (someone else wrote in between) re-read and splice again on their
        version, at most ``max_attempts`` times; their change is never overwritten.
        """
        from tscloud_py.aws.cloudfront.splice import splice_origin

        return self._splice(dist_id, origin.id,
                            lambda c: splice_origin(c, origin, behavior, replace=replace, limits=limits),
                            dry_run=dry_run, max_attempts=max_attempts, notify=notify)

    def detach_origin(self, dist_id: str, origin_id: str, *, dry_run: bool = False, max_attempts: int = 5,
                      notify: Callable[[str], None] | None = None) -> SpliceResult:
        """Remove ``origin_id`` and the behaviors that target it, with the same ETag round trip."""
        from tscloud_py.aws.cloudfront.splice import remove_origin

        return self._splice(dist_id, origin_id, lambda c: remove_origin(c, origin_id), dry_run=dry_run,
                            max_attempts=max_attempts, notify=notify)

    def _splice(self, dist_id: str, origin_id: str, change: Callable[[dict[str, Any]], dict[str, Any]], *,
                dry_run: bool, max_attempts: int, notify: Callable[[str], None] | None) -> SpliceResult:
        # The splice rules load only for a command that splices (a site's deploy never does).
        from tscloud_py.aws.cloudfront.splice import (
            SpliceConflictError,
            SpliceResult,
            splice_status,
        )

        try:
            update = self.update_with_retry(
                dist_id, change, dry_run=dry_run, max_attempts=max_attempts, notify=notify,
                unchanged=lambda old, new: splice_status(old, new, origin_id) == "unchanged")
        except ConfigConflictError as exc:
            raise SpliceConflictError(f"{exc.message}; nothing of ours was written") from exc
        result = SpliceResult(dist_id, splice_status(update.before, update.after, origin_id), update.before,
                              update.after, update.etag, attempts=update.attempts, dry_run=dry_run)
        result.written = update.written
        return result

    def update_with_retry(self, dist_id: str, change: Callable[[dict[str, Any]], dict[str, Any]], *,
                          dry_run: bool = False, max_attempts: int = 5,
                          notify: Callable[[str], None] | None = None,
                          unchanged: Callable[[dict[str, Any], dict[str, Any]], bool] | None = None,
                          ) -> ConfigUpdate:
        """The ETag round trip: GET config + ETag, apply ``change``, PUT with If-Match.

        On PreconditionFailed (someone wrote in between) re-read and apply
        ``change`` again to the fresh config, a bounded number of times, so a
        concurrent writer's change is never overwritten. No write is made when
        ``change`` leaves the config as it was (by the model's comparator).
        """
        is_unchanged = unchanged or (lambda old, new: not config_changes(old, new))
        # 0.2 s more per conflict, at most 2 s: a concurrent writer is one request, not a load to back off from
        policy = retrying(codes("PreconditionFailed"), what=f"distribution {dist_id} changed under us",
                          attempts=max(1, max_attempts), waits=lambda n: min(2.0, 0.2 * n), sleep=self.clock.sleep)
        try:
            for attempt in policy:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    # The first read may be the one a step's plan already made; after a conflict, read afresh.
                    config, etag = self.get_config_checked(dist_id, cached=number == 1)
                    new = change(config)
                    if is_unchanged(config, new) or dry_run:
                        return ConfigUpdate(config, new, etag, number, written=False)
                    try:
                        new_etag = self.update_config(dist_id, new, etag)
                    except AwsError as exc:
                        if exc.code == "PreconditionFailed":
                            message = (f"distribution {dist_id} changed since we read it (ETag {etag}); "
                                       f"re-reading (attempt {number}/{max_attempts})")
                            _log.warning(message)
                            if notify is not None:
                                notify(message)
                        raise
                    return ConfigUpdate(config, new, new_etag, number, written=True)
        except AwsError as exc:
            if exc.code != "PreconditionFailed":
                raise
        raise ConfigConflictError(
            f"distribution {dist_id} changed between our read and our write {max_attempts} times in a row")

    def get_config_checked(self, dist_id: str, *, cached: bool = False) -> tuple[dict[str, Any], str]:
        """``get_config``, with an unknown id reported as a usage error (exit 2)."""
        try:
            return self.get_config(dist_id, cached=cached)
        except AwsError as exc:
            if exc.code == "NoSuchDistribution":
                from tscloud_py.aws.cloudfront.splice import UnknownDistributionError

                raise UnknownDistributionError(f"unknown distribution id {dist_id!r}") from exc
            raise

    def invalidation_status(self, dist_id: str, inv_id: str) -> str:
        """The invalidation's status word as CloudFront reports it (InProgress / Completed)."""
        got = call(self._client.get_invalidation, "cloudfront:GetInvalidation", DistributionId=dist_id, Id=inv_id)
        return str(got["Invalidation"]["Status"])

    # -- CloudFront Functions (viewer-request code such as ssr-app's x-forwarded-host) -----------
    def describe_function(self, name: str, stage: str = "DEVELOPMENT") -> tuple[dict[str, Any], str] | None:
        """The function's summary and ETag in ``stage`` (DEVELOPMENT or LIVE), or None when absent."""
        with ignoring("NoSuchFunctionExists"):
            resp = call(self._client.describe_function, "cloudfront:DescribeFunction", Name=name, Stage=stage)
            return dict(resp["FunctionSummary"]), str(resp["ETag"])
        return None

    def get_function_code(self, name: str, stage: str = "LIVE") -> bytes | None:
        with ignoring("NoSuchFunctionExists"):
            resp = call(self._client.get_function, "cloudfront:GetFunction", Name=name, Stage=stage)
            body = resp["FunctionCode"]
            return bytes(body.read() if hasattr(body, "read") else body)
        return None

    @staticmethod
    def function_stores(summary: dict[str, Any]) -> tuple[str, ...]:
        """The KeyValueStores' ARNs a function summary says are associated with it."""
        block = summary.get("FunctionConfig", {}).get("KeyValueStoreAssociations") or {}
        return tuple(str(i["KeyValueStoreARN"]) for i in block.get("Items") or [])

    def create_function(self, name: str, code: bytes, comment: str, runtime: str = "cloudfront-js-2.0", *,
                        stores: tuple[str, ...] = ()) -> str:
        """Create in DEVELOPMENT (associated with ``stores``, KeyValueStore ARNs); returns the ETag to publish
        with."""
        def create() -> str:
            resp = call(self._once.create_function, "cloudfront:CreateFunction", Name=name, FunctionCode=code,
                        FunctionConfig=_function_config(comment, runtime, stores))
            return str(resp["ETag"])

        def find() -> str | None:  # made by a request whose answer was lost: its DEVELOPMENT ETag
            found = self.describe_function(name, "DEVELOPMENT")
            return found[1] if found else None

        return create_or_adopt(create, find, "cloudfront:CreateFunction", exists=("FunctionAlreadyExists",))

    def update_function(self, name: str, code: bytes, comment: str, etag: str,
                        runtime: str = "cloudfront-js-2.0", *, stores: tuple[str, ...] = ()) -> str:
        resp = call(self._client.update_function, "cloudfront:UpdateFunction", Name=name, IfMatch=etag,
                    FunctionCode=code, FunctionConfig=_function_config(comment, runtime, stores))
        return str(resp["ETag"])

    def publish_function(self, name: str, etag: str) -> str:
        """DEVELOPMENT -> LIVE; returns the function ARN."""
        resp = call(self._client.publish_function, "cloudfront:PublishFunction", Name=name, IfMatch=etag)
        return str(resp["FunctionSummary"]["FunctionMetadata"]["FunctionARN"])

    def delete_function(self, name: str, etag: str) -> None:
        with ignoring("NoSuchFunctionExists"):
            call(self._client.delete_function, "cloudfront:DeleteFunction", Name=name, IfMatch=etag)


def _function_config(comment: str, runtime: str, stores: tuple[str, ...]) -> dict[str, Any]:
    config: dict[str, Any] = {"Comment": comment, "Runtime": runtime}
    if stores:
        config["KeyValueStoreAssociations"] = {"Quantity": len(stores),
                                               "Items": [{"KeyValueStoreARN": a} for a in stores]}
    return config
