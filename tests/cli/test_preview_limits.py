"""Preview stages' limits and stale stages (issue 26, "Limits known in advance"): `preview deploy` refuses with
exit 2 before any write when the stage would take the KeyValueStore over its 5 MB, or its value over the 1 KB
a value may hold, naming the limit; `preview prune --older-than` destroys the stages last deployed longer
ago than that (by the deploy time in each stage's key), and only those; a bad age is exit 2."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.site_support import boto
from tests.conftest import REPO, CliResult, run_cli
from tests.fakes.aws_proxy import AwsProxy
from tscloud_py.aws.cloudfront.kvs import MAX_STORE_BYTES, KeyValueStores
from tscloud_py.aws.session import ClientFactory
from tscloud_py.operations.context import LOCAL_CREDENTIALS

DOMAIN = "limits.example.com"
DAY = 86400


@dataclass
class Host:
    endpoint: str
    project: Path
    kvs: KeyValueStores
    store_arn: str


def tscloud(project: Path, endpoint: str, *args: str) -> CliResult:
    return run_cli("--endpoint-url", endpoint, *args, cwd=project, timeout=300)


def project(root: Path, example: str, app: str) -> Path:
    shutil.copytree(REPO / "examples" / example, root, ignore=shutil.ignore_patterns(".tscloud"))
    config = root / "tscloud.toml"
    text = config.read_text()
    config.write_text(text.replace(text.split("app = ", 1)[1].split("\n", 1)[0], f'"{app}"', 1)
                      + f'\n[preview]\ndomain = "{DOMAIN}"\n')
    return root


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    address, port = moto.get_host_and_port()
    endpoint = f"http://{address}:{port}"
    boto(endpoint, "route53").create_hosted_zone(Name="example.com", CallerReference="preview-limits")
    root = project(tmp_path_factory.mktemp("limits") / "site", "static-site", "limits")
    setup = tscloud(root, endpoint, "preview", "setup")
    assert setup.code == 0, setup.output
    kvs = KeyValueStores(ClientFactory(endpoint_url=endpoint, credentials=LOCAL_CREDENTIALS))
    store = kvs.find("limits-preview-use1-routes")
    assert store is not None
    yield Host(endpoint, root, kvs, store.arn)
    moto.stop()


def backdate(host: Host, name: str, days: float) -> None:
    """Stage ``name``'s key as a deploy ``days`` ago left it (the deploy time is the key's ``t``)."""
    key = f"{name}.{DOMAIN}"
    value = json.loads(host.kvs.items(host.store_arn)[key])
    value["t"] = int(time.time() - days * DAY)
    host.kvs.put(host.store_arn, key, json.dumps(value, separators=(",", ":")))


def test_prune_destroys_only_the_stages_older_than_the_age(host: Host) -> None:
    for name in ("old-1", "old-2", "fresh"):
        deployed = tscloud(host.project, host.endpoint, "preview", "deploy", name)
        assert deployed.code == 0, deployed.output
    backdate(host, "old-1", 20)
    backdate(host, "old-2", 15)
    backdate(host, "fresh", 13)

    bad = tscloud(host.project, host.endpoint, "preview", "prune", "--older-than", "14x")
    assert bad.code == 2 and "--older-than" in bad.output, bad.output
    dry = tscloud(host.project, host.endpoint, "--output", "json", "preview", "prune", "--older-than", "14d",
                  "--dry-run")
    assert dry.code == 0, dry.output
    assert sorted(dry.json()["would_prune"]) == ["old-1", "old-2"]
    assert sorted(host.kvs.items(host.store_arn)) == sorted(f"{n}.{DOMAIN}" for n in ("fresh", "old-1", "old-2"))

    pruned = tscloud(host.project, host.endpoint, "--output", "json", "preview", "prune", "--older-than", "2w")
    assert pruned.code == 0, pruned.output
    assert sorted(pruned.json()["pruned"]) == ["old-1", "old-2"]
    assert sorted(host.kvs.items(host.store_arn)) == [f"fresh.{DOMAIN}"]
    s3 = boto(host.endpoint, "s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("limits-preview-site-"))
    assert s3.list_objects_v2(Bucket=bucket, Prefix="stages/old-1/")["KeyCount"] == 0
    assert s3.list_objects_v2(Bucket=bucket, Prefix="stages/fresh/")["KeyCount"] > 0
    gone = tscloud(host.project, host.endpoint, "preview", "destroy", "fresh")
    assert gone.code == 0, gone.output


def test_a_stage_that_would_overfill_the_store_is_refused_before_any_write(host: Host) -> None:
    # filler keys up to a few bytes short of 5 MB: entries of 512-byte keys and 1 KB values, 50 a call
    data = ClientFactory(endpoint_url=host.endpoint, credentials=LOCAL_CREDENTIALS).client("cloudfront-keyvaluestore")
    entry = 512 + 1024
    count = MAX_STORE_BYTES // entry - host.kvs.describe(host.store_arn).size // entry
    keys = [f"{n:06d}".ljust(512, "k") for n in range(count)]
    for i in range(0, len(keys), 50):
        etag = host.kvs.describe(host.store_arn).etag
        data.update_keys(KvsARN=host.store_arn, IfMatch=etag, Puts=[{"Key": k, "Value": "v" * 1024}
                                                                     for k in keys[i:i + 50]])
    # then short keys until 40 bytes are left: less than any stage's entry (its host name alone is longer)
    while (room := MAX_STORE_BYTES - host.kvs.describe(host.store_arn).size) > 40:
        keys.append(f"last-{len(keys)}")
        host.kvs.put(host.store_arn, keys[-1], "v" * min(1024, room - len(keys[-1]) - 40))
    assert room == 40
    try:
        with AwsProxy(host.endpoint) as proxy:
            refused = tscloud(host.project, proxy.endpoint, "preview", "deploy", "pr-1")
            writes = [r.api_operation for r in proxy.resource_writes()]
        assert refused.code == 2, refused.output
        assert "KeyValueStore" in refused.output and "5 MB" in refused.output, refused.output
        assert writes == [], writes
    finally:
        for i in range(0, len(keys), 50):
            etag = host.kvs.describe(host.store_arn).etag
            data.update_keys(KvsARN=host.store_arn, IfMatch=etag, Deletes=[{"Key": k} for k in keys[i:i + 50]])


def test_an_ssr_stage_whose_value_is_over_1_kb_is_refused_before_any_write(host: Host, tmp_path: Path) -> None:
    # an ssr-app stage's value names its public entries: 24 long-named ones take it over 1 KB
    root = project(tmp_path / "app", "ssr-app", "limitsssr")
    public = root / ".output" / "public"
    for entry in list(public.iterdir()):
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for n in range(24):
        (public / f"{n:02d}-{'long-public-entry-name-' * 2}.txt").write_text("x")
    setup = tscloud(root, host.endpoint, "preview", "setup")
    assert setup.code == 0, setup.output
    with AwsProxy(host.endpoint) as proxy:
        refused = tscloud(root, proxy.endpoint, "preview", "deploy", "pr-1")
        writes = [r.api_operation for r in proxy.resource_writes()]
    assert refused.code == 2, refused.output
    assert "value limit of 1024 bytes" in refused.output, refused.output
    assert writes == [], writes
