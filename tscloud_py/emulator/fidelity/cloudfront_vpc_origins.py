"""CloudFront VPC origins, which moto lacks (every call is a bare 404 there), and the VpcOriginConfig of a
distribution's origin, which moto drops.

CreateVpcOrigin, GetVpcOrigin, UpdateVpcOrigin, DeleteVpcOrigin and ListVpcOrigins in the shapes of
botocore's CloudFront model, with AWS's rules:

- the endpoint is an Application or Network Load Balancer of this account that exists and is ``internal``
  (a VPC origin reaches it privately; an internet-facing one is refused with InvalidArgument);
- one VPC origin per endpoint (a second is EntityAlreadyExists), so a create resent after a lost answer
  cannot leave two;
- a new or updated VPC origin is ``Deploying`` and reads ``Deployed`` from the next read on (AWS takes
  minutes; a caller that waits sees the same two states);
- every change needs the current ETag as If-Match (InvalidIfMatchVersion without one, PreconditionFailed
  for a stale one); the endpoint's ARN cannot change (IllegalUpdate);
- a VPC origin a distribution's origin names cannot be deleted (CannotDeleteEntityWhileInUse), and a
  distribution cannot name one that does not exist (EntityNotFound).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

PROTOCOL_POLICIES = ("http-only", "match-viewer", "https-only")
_applied = False
_lock = threading.Lock()


@dataclass
class _VpcOrigin:
    id: str
    arn: str
    account: str
    endpoint: dict[str, Any]
    created: datetime
    modified: datetime
    etag: str
    status: str = "Deploying"
    tags: list[dict[str, str]] = field(default_factory=list)


def _etag() -> str:
    return "E" + secrets.token_hex(6).upper()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def add_vpc_origins() -> None:
    global _applied
    if _applied:
        return
    from moto.cloudfront import models, urls
    from moto.cloudfront.exceptions import CloudFrontException
    from moto.cloudfront.responses import CloudFrontResponse
    from moto.core.responses import ActionResult

    class Error(CloudFrontException):
        """An error the CloudFront model names; moto takes its HTTP status from the model."""

    def store(response: Any) -> dict[str, _VpcOrigin]:
        backend = response.backend
        if not hasattr(backend, "tscloud_vpc_origins"):
            backend.tscloud_vpc_origins = {}
        found: dict[str, _VpcOrigin] = backend.tscloud_vpc_origins
        return found

    def shown(origin: _VpcOrigin) -> dict[str, Any]:
        return {"Id": origin.id, "Arn": origin.arn, "AccountId": origin.account, "Status": origin.status,
                "CreatedTime": origin.created, "LastModifiedTime": origin.modified,
                "VpcOriginEndpointConfig": origin.endpoint}

    def read(response: Any) -> _VpcOrigin:
        """The VPC origin the path names; a read after a change finds it deployed."""
        origin = store(response).get(response._get_param("Id"))
        if origin is None:
            raise Error("EntityNotFound", f"The VPC origin {response._get_param('Id')} does not exist.")
        return origin

    def checked_endpoint(response: Any, given: Any) -> dict[str, Any]:
        endpoint = dict(given or {})
        for key in ("Name", "Arn", "HTTPPort", "HTTPSPort", "OriginProtocolPolicy"):
            if endpoint.get(key) in (None, ""):
                raise Error("InvalidArgument", f"VpcOriginEndpointConfig.{key} is required.")
        if endpoint["OriginProtocolPolicy"] not in PROTOCOL_POLICIES:
            raise Error("InvalidArgument", f"OriginProtocolPolicy must be one of {', '.join(PROTOCOL_POLICIES)}.")
        for key in ("HTTPPort", "HTTPSPort"):
            port = int(endpoint[key])
            if not 1 <= port <= 65535:
                raise Error("InvalidArgument", f"VpcOriginEndpointConfig.{key} {port} is not a valid port.")
            endpoint[key] = port
        scheme = _load_balancer_scheme(str(endpoint["Arn"]), response.current_account)
        if scheme is None:
            raise Error("InvalidArgument", f"The resource {endpoint['Arn']} is not a load balancer of this "
                        "account that exists.")
        if scheme != "internal":
            raise Error("InvalidArgument", f"The load balancer {endpoint['Arn']} is internet-facing; a VPC origin "
                        "needs an internal load balancer in private subnets.")
        protocols = endpoint.get("OriginSslProtocols") or {"Quantity": 1, "Items": ["TLSv1.2"]}
        items = list(protocols.get("Items") or [])
        if isinstance(items and items[0], dict):  # the XML parser gives {"SslProtocol": [...]}
            items = [p for item in items for p in (item.get("SslProtocol") or [])]
        endpoint["OriginSslProtocols"] = {"Quantity": len(items), "Items": items}
        return endpoint

    def if_match(response: Any, origin: _VpcOrigin) -> None:
        given = response._get_param("IfMatch") or response.headers.get("If-Match")
        if not given:
            raise Error("InvalidIfMatchVersion", "The If-Match version is missing or not valid.")
        if given != origin.etag:
            raise Error("PreconditionFailed", "The If-Match version does not match the current version.")

    def create_vpc_origin(self: Any) -> Any:
        endpoint = checked_endpoint(self, self._get_param("VpcOriginEndpointConfig"))
        tags = self._get_param("Tags") or {}
        with _lock:
            origins = store(self)
            if any(o.endpoint["Arn"] == endpoint["Arn"] for o in origins.values()):
                raise Error("EntityAlreadyExists", f"A VPC origin for {endpoint['Arn']} already exists.")
            origin_id = "vo_" + secrets.token_hex(11)
            now = _now()
            origin = _VpcOrigin(origin_id, f"arn:aws:cloudfront::{self.current_account}:vpcorigin/{origin_id}",
                                self.current_account, endpoint, now, now, _etag(),
                                tags=_tag_items(tags))
            origins[origin_id] = origin
            if origin.tags:
                self.backend.tagger.tag_resource(origin.arn, origin.tags)
        return ActionResult({"VpcOrigin": shown(origin), "ETag": origin.etag,
                             "Location": f"https://cloudfront.amazonaws.com/2020-05-31/vpc-origin/{origin_id}"})

    def get_vpc_origin(self: Any) -> Any:
        with _lock:
            origin = read(self)
            answer = shown(origin)
            origin.status = "Deployed"
        return ActionResult({"VpcOrigin": answer, "ETag": origin.etag})

    def update_vpc_origin(self: Any) -> Any:
        endpoint = checked_endpoint(self, self._get_param("VpcOriginEndpointConfig"))
        with _lock:
            origin = read(self)
            if_match(self, origin)
            if endpoint["Arn"] != origin.endpoint["Arn"]:
                raise Error("IllegalUpdate", "The endpoint ARN of a VPC origin cannot be changed.")
            origin.endpoint, origin.etag, origin.modified, origin.status = endpoint, _etag(), _now(), "Deploying"
        return ActionResult({"VpcOrigin": shown(origin), "ETag": origin.etag})

    def delete_vpc_origin(self: Any) -> Any:
        with _lock:
            origin = read(self)
            if_match(self, origin)
            if _in_use(self.backend, origin.id):
                raise Error("CannotDeleteEntityWhileInUse",
                            f"The VPC origin {origin.id} is used by a distribution's origin.")
            del store(self)[origin.id]
            origin.status = "Deleting"
        return ActionResult({"VpcOrigin": shown(origin), "ETag": origin.etag})

    def list_vpc_origins(self: Any) -> Any:
        with _lock:
            items = [{"Id": o.id, "Name": o.endpoint["Name"], "Status": o.status, "CreatedTime": o.created,
                      "LastModifiedTime": o.modified, "Arn": o.arn, "AccountId": o.account,
                      "OriginEndpointArn": o.endpoint["Arn"]} for o in store(self).values()]
        return ActionResult({"VpcOriginList": {"Marker": "", "MaxItems": 100, "IsTruncated": False,
                                               "Quantity": len(items), "Items": items or None}})

    for method in (create_vpc_origin, get_vpc_origin, update_vpc_origin, delete_vpc_origin, list_vpc_origins):
        setattr(CloudFrontResponse, method.__name__, method)
    base = "{0}/2020-05-31/vpc-origin"
    for path in ("$", "/(?P<Id>[^/]+)$"):
        urls.url_paths[base + path] = CloudFrontResponse.dispatch

    _keep_vpc_origin_config(models, Error)
    _applied = True


def _tag_items(tags: dict[str, Any]) -> list[dict[str, str]]:
    items = tags.get("Items") or []
    if isinstance(items and items[0], dict) and "Tag" in items[0]:  # the XML parser's nesting
        items = [t for item in items for t in item["Tag"]]
    return [{"Key": str(t["Key"]), "Value": str(t.get("Value", ""))} for t in items]


def _load_balancer_scheme(arn: str, account: str) -> str | None:
    """The scheme of the load balancer ``arn`` names in this account, None when there is none."""
    from moto.elbv2.models import elbv2_backends

    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "elasticloadbalancing" or parts[4] != account:
        return None
    backend = elbv2_backends[account].get(parts[3])
    lb = backend.load_balancers.get(arn) if backend is not None else None
    return str(lb.scheme) if lb is not None else None


def _in_use(backend: Any, origin_id: str) -> bool:
    for dist in backend.distributions.values():
        for origin in (dist.distribution_config.Origins.get("Items") or []):
            if (getattr(origin, "vpc_origin_config", None) or {}).get("VpcOriginId") == origin_id:
                return True
    return False


def _keep_vpc_origin_config(models: Any, error: Any) -> None:
    """An origin's VpcOriginConfig is kept (moto drops it) and must name a VPC origin that exists."""
    original = models.Origin.__init__

    def init(self: Any, origin: dict[str, Any]) -> None:
        original(self, origin)
        config = origin.get("VpcOriginConfig")
        if config:
            origin_id = str(config.get("VpcOriginId") or "")
            if not _exists(origin_id):
                raise error("EntityNotFound", f"The VPC origin {origin_id} does not exist.")
            kept: dict[str, Any] = {"VpcOriginId": origin_id}
            for key in ("OwnerAccountId", "OriginReadTimeout", "OriginKeepaliveTimeout"):
                if config.get(key) not in (None, ""):
                    kept[key] = config[key] if key == "OwnerAccountId" else int(config[key])
            self.vpc_origin_config = kept

    models.Origin.__init__ = init


def _exists(origin_id: str) -> bool:
    from moto.cloudfront.models import cloudfront_backends

    for per_account in cloudfront_backends.values():
        for backend in per_account.values():
            if origin_id in getattr(backend, "tscloud_vpc_origins", {}):
                return True
    return False
