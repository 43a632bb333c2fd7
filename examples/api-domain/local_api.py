"""What api-domain expects to exist already, made in the local emulator: a hosted zone for example.com and a
REST API (id a1b2c3d4e5, stage prod, a mock GET /) for tscloud.local.toml to give api.example.com.

    python3 examples/api-domain/local_api.py

Starts the emulator when none runs (as any --local command does); running it again changes nothing.
"""

from __future__ import annotations

from typing import Any

import boto3

from tscloud_py.emulator.daemon import ensure_running

API_ID = "a1b2c3d4e5"  # the emulator takes a new REST API's id from its _custom_id_ tag
ZONE = "example.com"
STAGE = "prod"


def main() -> None:
    endpoint = ensure_running().endpoint
    kw: Any = {"endpoint_url": endpoint, "region_name": "us-east-1",
               "aws_access_key_id": "tscloud-local", "aws_secret_access_key": "tscloud-local"}
    route53: Any = boto3.client("route53", **kw)
    apigw: Any = boto3.client("apigateway", **kw)
    if not any(z["Name"] == f"{ZONE}." for z in route53.list_hosted_zones()["HostedZones"]):
        route53.create_hosted_zone(Name=ZONE, CallerReference="api-domain-example")
    if not any(api["id"] == API_ID for api in apigw.get_rest_apis()["items"]):
        apigw.create_rest_api(name="shop", tags={"_custom_id_": API_ID})
        root = apigw.get_resources(restApiId=API_ID)["items"][0]["id"]
        apigw.put_method(restApiId=API_ID, resourceId=root, httpMethod="GET", authorizationType="NONE")
        apigw.put_integration(restApiId=API_ID, resourceId=root, httpMethod="GET", type="MOCK")
    if not any(s["stageName"] == STAGE for s in apigw.get_stages(restApiId=API_ID)["item"]):
        apigw.create_deployment(restApiId=API_ID, stageName=STAGE)
    print(f"emulator {endpoint}: hosted zone {ZONE}, REST API {API_ID} (stage {STAGE})")


if __name__ == "__main__":
    main()
