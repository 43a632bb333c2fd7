"""WAFv2 and CloudFront's WebACLId as AWS answers them.

- CloudFront accepts as WebACLId only a web ACL of scope CLOUDFRONT (``:global/webacl/``, in us-east-1) that
  exists; anything else (a REGIONAL ACL, an ARN in another region, an unknown one) is InvalidWebACLId (400).
  moto stores whatever it is given.
- WAF refuses to delete a web ACL a distribution still names (WAFAssociatedItemException); moto deletes it,
  leaving the distribution pointing at nothing.
- A second web ACL with a taken name is WAFDuplicateItemException, AWS's code; moto says WafV2DuplicateItem.
"""

from __future__ import annotations

import re
from typing import Any

# the scope CLOUDFRONT ARN shape CloudFront takes (WAF Classic's bare ids are not made by moto)
_CLOUDFRONT_ACL = re.compile(r"arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/[\w-]+/[0-9a-f-]+")
_INVALID_WEB_ACL = ("A web ACL ID specified is not valid. To specify a web ACL created using the latest version of "
                    "WAF, use the ACL ARN, for example arn:aws:wafv2:us-east-1:123456789012:global/webacl/"
                    "ExampleWebACL/473e64fd-f30b-4765-81a0-62ad96dd167a.")


def apply() -> None:
    _cloudfront_checks_web_acl_id()
    _associated_web_acl_not_deleted()
    _duplicate_item_code()


def _cloudfront_acls(account_id: str) -> dict[str, Any]:
    from moto.wafv2.models import GLOBAL_REGION, wafv2_backends

    acls: dict[str, Any] = wafv2_backends[account_id][GLOBAL_REGION].wacls
    return acls


def _check_web_acl_id(account_id: str, config: dict[str, Any]) -> None:
    from moto.cloudfront.exceptions import CloudFrontException

    acl = str((config or {}).get("WebACLId") or "")
    if acl and (not _CLOUDFRONT_ACL.fullmatch(acl) or acl not in _cloudfront_acls(account_id)):
        raise CloudFrontException("InvalidWebACLId", _INVALID_WEB_ACL)


def _cloudfront_checks_web_acl_id() -> None:
    from moto.cloudfront.models import CloudFrontBackend

    create, update = CloudFrontBackend.create_distribution, CloudFrontBackend.update_distribution

    def checked_create(self: Any, distribution_config: dict[str, Any], tags: list[dict[str, str]]) -> Any:
        _check_web_acl_id(self.account_id, distribution_config)
        return create(self, distribution_config, tags)

    def checked_update(self: Any, dist_config: dict[str, Any], _id: str, if_match: bool) -> Any:
        _check_web_acl_id(self.account_id, dist_config)
        return update(self, dist_config, _id, if_match)

    CloudFrontBackend.create_distribution = checked_create  # type: ignore[method-assign]
    CloudFrontBackend.update_distribution = checked_update  # type: ignore[method-assign]


def _associated_web_acl_not_deleted() -> None:
    from moto.cloudfront.models import cloudfront_backends
    from moto.wafv2.exceptions import WAFv2ClientError
    from moto.wafv2.models import WAFV2Backend

    original = WAFV2Backend.delete_web_acl

    def delete(self: Any, name: str, scope: str, _id: str, lock_token: str) -> None:
        if scope == "CLOUDFRONT":
            arn = next((a for a, acl in self.wacls.items() if acl.name == name and acl.id == _id), None)
            distributions = [d for backend in cloudfront_backends[self.account_id].values()
                             for d in backend.distributions.values()]
            if arn and any(getattr(d.distribution_config, "WebACLId", "") == arn for d in distributions):
                raise WAFv2ClientError("WAFAssociatedItemException", "AWS WAF couldn't perform the operation "
                                       "because your resource is being used by another resource or it's associated "
                                       "with another resource.")
        original(self, name, scope, _id, lock_token)

    WAFV2Backend.delete_web_acl = delete  # type: ignore[method-assign]


def _duplicate_item_code() -> None:
    from moto.wafv2 import exceptions

    def init(self: Any) -> None:
        exceptions.WAFv2ClientError.__init__(
            self, "WAFDuplicateItemException", "AWS WAF could not perform the operation because some resource in "
            "your request is a duplicate of an existing one.")

    exceptions.WAFV2DuplicateItemException.__init__ = init  # type: ignore[method-assign]
