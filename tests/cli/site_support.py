"""Helpers for the static-site CLI tests: a project per test, and a read-only view of what AWS holds for it."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from tests.conftest import REPO, CliResult, run_cli
from tscloud_py.presets.steps.upload import parse_manifest

EXAMPLE_DIST = REPO / "examples" / "static-site" / "dist"
OUTPUT_KEYS = ("bucket", "distribution_id", "distribution_domain", "url")


def make_site(root: Path, app: str, *, stage: str = "dev", spa: bool = True) -> Path:
    """A copy of the bundled example under ``root`` with its own app name; returns the project dir."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(EXAMPLE_DIST, root / "dist")
    (root / "tscloud.toml").write_text(
        f'app = "{app}"\npreset = "static-site"\nregion = "us-east-1"\nstage = "{stage}"\n\n'
        f'[site]\ndir = "dist"\nspa = {"true" if spa else "false"}\n')
    return root


def tscloud(project: Path, endpoint: str, *args: str, env: dict[str, str] | None = None,
            timeout: float = 180) -> CliResult:
    return run_cli("--endpoint-url", endpoint, *args, cwd=project, env=env, timeout=timeout)


def deploy_json(project: Path, endpoint: str, *args: str) -> dict[str, Any]:
    result = tscloud(project, endpoint, "--output", "json", "deploy", *args)
    assert result.code == 0, result.output
    doc: dict[str, Any] = result.json()
    return doc


_clients: OrderedDict[tuple[str, str], Any] = OrderedDict()
_clients_lock = threading.Lock()
_session: list[Any] = []


def boto(endpoint: str, service: str) -> Any:
    """A client for ``service`` at ``endpoint``, kept for the next call: making one costs ~70 ms of CPU (its
    service model), and a crash sweep reads each case's end state through a dozen. botocore's clients are
    safe to share between threads; making one is not, hence the lock. The most recent 128 are kept (a test
    may point clients at a proxy per case)."""
    with _clients_lock:
        client = _clients.get((endpoint, service))
        if client is None:
            if not _session:
                import boto3

                _session.append(boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                                      region_name="us-east-1"))
            client = _session[0].client(service, endpoint_url=endpoint)
            _clients[(endpoint, service)] = client
            if len(_clients) > 128:
                _clients.popitem(last=False)
        else:
            _clients.move_to_end((endpoint, service))
        return client


def all_roles(iam: Any) -> list[dict[str, Any]]:
    """Every IAM role, all pages: one moto server serves a whole test run, whose roles soon pass one page."""
    return [role for page in iam.get_paginator("list_roles").paginate() for role in page["Roles"]]


def local_files(project: Path) -> dict[str, bytes]:
    dist = project / "dist"
    return {p.relative_to(dist).as_posix(): p.read_bytes() for p in sorted(dist.rglob("*")) if p.is_file()}


def distributions_for(endpoint: str, app: str, stage: str = "dev", region: str = "us-east-1",
                      comment: str | None = None) -> list[dict[str, Any]]:
    """Every distribution whose Comment names this app, stage and region (the step's deterministic name)."""
    cf = boto(endpoint, "cloudfront")
    comment = comment or f"tscloud {app}-{stage} {region} distribution"
    found = []
    for page in cf.get_paginator("list_distributions").paginate():
        for item in page["DistributionList"].get("Items", []) or []:
            if item.get("Comment", comment) != comment:
                continue  # AWS (and moto with aws_like_distribution_summaries) lists the Comment
            config = cf.get_distribution_config(Id=item["Id"])["DistributionConfig"]
            if config.get("Comment") == comment:
                found.append({"Id": item["Id"], "ARN": item["ARN"], "DomainName": item["DomainName"],
                              "config": config})
    return found


def buckets_for(endpoint: str, app: str, stage: str = "dev") -> list[str]:
    s3 = boto(endpoint, "s3")
    return sorted(b["Name"] for b in s3.list_buckets().get("Buckets", [])
                  if b["Name"].startswith(f"{app}-{stage}-"))


def oacs_for(endpoint: str, app: str, stage: str = "dev", region: str = "us-east-1") -> list[dict[str, Any]]:
    from tscloud_py.presets.naming import regional_name

    cf = boto(endpoint, "cloudfront")
    items = cf.list_origin_access_controls()["OriginAccessControlList"].get("Items", []) or []
    return [i for i in items if i["Name"] == regional_name(app, stage, region, "site")]


def objects(endpoint: str, bucket: str) -> dict[str, dict[str, Any]]:
    """key -> body md5, Content-Type, Cache-Control."""
    s3 = boto(endpoint, "s3")
    out: dict[str, dict[str, Any]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []) or []:
            got = s3.get_object(Bucket=bucket, Key=obj["Key"])
            body = got["Body"].read()
            out[obj["Key"]] = {"md5": hashlib.md5(body).hexdigest(), "content_type": got.get("ContentType"),
                               "cache_control": got.get("CacheControl"), "body": body}
    return out


def end_state(endpoint: str, app: str, stage: str = "dev") -> dict[str, Any]:
    """What AWS holds for one app and stage, with its names abstracted, so two apps can be compared."""
    buckets = buckets_for(endpoint, app, stage)
    dists = distributions_for(endpoint, app, stage)
    oacs = oacs_for(endpoint, app, stage)
    state: dict[str, Any] = {"buckets": len(buckets), "distributions": len(dists), "oacs": len(oacs)}
    if len(buckets) != 1 or len(dists) != 1:
        return state
    bucket, dist = buckets[0], dists[0]
    s3 = boto(endpoint, "s3")
    cf = boto(endpoint, "cloudfront")
    objs = objects(endpoint, bucket)
    manifest = parse_manifest(objs.pop("_tscloud/manifest.json")["body"]) if "_tscloud/manifest.json" in objs else None
    state["objects"] = {k: {kk: vv for kk, vv in v.items() if kk != "body"} for k, v in objs.items()}
    state["manifest_files"] = sorted((manifest or {}).get("files", {}))
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    state["policy"] = json.loads(json.dumps(policy).replace(bucket, "BUCKET").replace(dist["ARN"], "DIST_ARN"))
    state["public_access_block"] = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    state["bucket_tags"] = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    config = dist["config"]
    origin = config["Origins"]["Items"][0]
    state["distribution"] = {
        "origins": config["Origins"]["Quantity"],
        "origin_domain": origin["DomainName"].replace(bucket, "BUCKET"),
        "origin_oac": origin.get("OriginAccessControlId") == oacs[0]["Id"] if oacs else None,
        "viewer_protocol": config["DefaultCacheBehavior"]["ViewerProtocolPolicy"],
        "http_version": config["HttpVersion"],
        "enabled": config["Enabled"],
        "errors": config.get("CustomErrorResponses", {}).get("Quantity"),
    }
    tags = cf.list_tags_for_resource(Resource=dist["ARN"])["Tags"].get("Items", [])
    state["distribution_tags"] = {t["Key"]: t["Value"] for t in tags}
    state["invalidations"] = invalidations(endpoint, dist["Id"])
    return state


def invalidations(endpoint: str, dist_id: str) -> list[list[str]]:
    """The paths of every invalidation of ``dist_id``, oldest first."""
    cf = boto(endpoint, "cloudfront")
    items = cf.list_invalidations(DistributionId=dist_id)["InvalidationList"].get("Items", []) or []
    out = []
    for item in sorted(items, key=lambda i: i["CreateTime"]):
        got = cf.get_invalidation(DistributionId=dist_id, Id=item["Id"])["Invalidation"]
        out.append(sorted(got["InvalidationBatch"]["Paths"]["Items"]))
    return out


def normalised(state: dict[str, Any], app: str) -> dict[str, Any]:
    """``state`` with the app name replaced, for comparing two apps' end states."""
    return dict(json.loads(json.dumps(state).replace(app, "APP")))
