"""CloudFront's fixed values and the one S3-origin shape, as plain data (no boto3, no I/O).

Every module that builds a DistributionConfig (the static-site and ssr-app distributions, the splice,
`tscloud cloudfront show`) takes these from here.
"""

from __future__ import annotations

from typing import Any

# Managed policy ids are fixed by AWS (documented in the CloudFront developer guide).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ORIGIN_REQUEST_ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ORIGIN_REQUEST_CORS_S3 = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
RESPONSE_HEADERS_SECURITY = "67f7725c-6f97-4210-82d7-5512b31e9d03"
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"

ALL_METHODS = ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE")
READ_METHODS = ("GET", "HEAD")


def s3_origin(origin_id: str, bucket_domain: str, oac_id: str) -> dict[str, Any]:
    """A private bucket read through Origin Access Control (no legacy OAI)."""
    return {
        "Id": origin_id,
        "DomainName": bucket_domain,
        "OriginPath": "",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": oac_id,
    }
