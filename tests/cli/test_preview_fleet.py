"""Preview stages at fleet scale (issue 26, "Done means" 1 and 2).

Fifty preview stages of examples/static-site, each with its own index.html, on one preview host: one
distribution, one certificate, one KeyValueStore; every stage's host is served through the local edge with
its own page, routed by the real router function reading the real store; destroying stage 17 leaves the
other 49 serving and stage 17's host answering 404. Most stages are deployed in-process (the pipeline is
the point, not the process); the setup, three deploys and the destroy run the real CLI, through a proxy
that shows a stage's deploy writes to S3 and the store only.

Twenty `tscloud preview deploy` processes of different stages, started at once, all exit 0 and the store
holds their twenty keys, through a proxy that forces IfMatch conflicts: it holds the first PutKeys until
four have arrived, so all four carry the store's ETag as it was and the emulator refuses three of them
(409). Holding requests is the proxy's only part: the refusals are the emulator's own, and the retries
the client's. Without it, whether any two of the twenty collide is up to the scheduler.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli.site_support import boto
from tests.conftest import REPO, MotoServer, run_cli
from tests.fakes.aws_proxy import AwsProxy
from tscloud_py.aws.session import ClientFactory
from tscloud_py.operations.context import LOCAL_CREDENTIALS

EXAMPLE = REPO / "examples" / "static-site"
DOMAIN = "preview.example.com"
STAGES = 50
BY_CLI = (48, 49, 50)
RACERS = 20
HELD = 4


@dataclass
class Fleet:
    server: MotoServer
    project: Path
    edge_url: str


def project(root: Path, app: str) -> Path:
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".tscloud"))
    config = root / "tscloud.toml"
    config.write_text(config.read_text().replace('app = "hello-site"', f'app = "{app}"')
                      + f'\n[preview]\ndomain = "{DOMAIN}"\nspa = true\n')
    return root


def page(n: int) -> str:
    return f"<!doctype html><title>stage {n}</title><h1>preview stage pr-{n}</h1>\n"


def tscloud(project_dir: Path, endpoint: str, *args: str) -> Any:
    return run_cli("--endpoint-url", endpoint, *args, cwd=project_dir, timeout=300)


def fetch(url: str, host: str, path: str = "/") -> tuple[int, bytes]:
    req = urllib.request.Request(url.rstrip("/") + path, headers={"Host": host})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    """A moto server of this module's, so "exactly one distribution" counts this app's host only."""
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto(endpoint, "route53").create_hosted_zone(Name="example.com", CallerReference="preview-fleet")
    yield MotoServer(endpoint)
    moto.stop()


@pytest.fixture(scope="module")
def fleet(server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    from tscloud_py.cli.face import TerminalFace
    from tscloud_py.emulator.edge.server import open_fleet
    from tscloud_py.operations import pipelines, preview
    from tscloud_py.operations.context import AppContext

    root = project(tmp_path_factory.mktemp("fleet") / "site", "fleet")
    setup = tscloud(root, server.endpoint, "preview", "setup")
    assert setup.code == 0, setup.output

    app = AppContext(config_path=root / "tscloud.toml", endpoint_url=server.endpoint, output="json")
    for n in range(1, STAGES + 1):
        if n in BY_CLI:
            continue
        (root / "dist" / "index.html").write_text(page(n))
        outcome = preview.deploy(app, TerminalFace(app), f"pr-{n}", pipelines.DeployRequest())
        assert outcome.result.ok, [r.error for r in outcome.result.failed]

    edge = open_fleet(ClientFactory(endpoint_url=server.endpoint, credentials=LOCAL_CREDENTIALS))
    try:
        edge.sync()
        (ours,) = [d["Id"] for d in boto(server.endpoint, "cloudfront").list_distributions()["DistributionList"]["Items"]
                   if d["Comment"].startswith("tscloud fleet-")]
        yield Fleet(server, root, edge.served[ours].url)
    finally:
        edge.close()


def test_stage_deploys_by_cli_write_only_their_files_and_their_key(fleet: Fleet, tmp_path: Path) -> None:
    with AwsProxy(fleet.server.endpoint) as proxy:
        procs = []
        for n in BY_CLI:
            own = project(tmp_path / f"pr-{n}", "fleet")
            (own / "dist" / "index.html").write_text(page(n))
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "tscloud_py", "--endpoint-url", proxy.endpoint, "preview", "deploy", f"pr-{n}"],
                cwd=own, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for proc in procs:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
        writes = {r.api_operation for r in proxy.resource_writes()}
    # files to S3 (uploads, manifest) and the key: no distribution, certificate, record or function write
    assert writes == {"PutObject", "PutKey"}, writes


def test_one_distribution_one_certificate_one_store(fleet: Fleet) -> None:
    # this app's only: moto's backends are the process's, so other modules' resources may be listed too
    endpoint = fleet.server.endpoint
    distributions = boto(endpoint, "cloudfront").list_distributions()["DistributionList"]["Items"]
    assert len([d for d in distributions if d["Comment"].startswith("tscloud fleet-")]) == 1
    acm = boto(endpoint, "acm")
    certificates = [c for c in acm.list_certificates()["CertificateSummaryList"]
                    if {"Key": "tscloud:app", "Value": "fleet"} in acm.list_tags_for_certificate(
                        CertificateArn=c["CertificateArn"])["Tags"]]
    assert [c["DomainName"] for c in certificates] == [f"*.{DOMAIN}"]
    stores = boto(endpoint, "cloudfront").list_key_value_stores()["KeyValueStoreList"]["Items"]
    assert len([s for s in stores if s["Name"].startswith("fleet-")]) == 1


def test_every_host_serves_its_own_page_and_a_destroyed_one_answers_404(fleet: Fleet) -> None:
    # the CLI test's three stages may not have run first (xdist, -k): deploy any that are missing
    for n in BY_CLI:
        if fetch(fleet.edge_url, f"pr-{n}.{DOMAIN}")[0] != 200:
            (fleet.project / "dist" / "index.html").write_text(page(n))
            deployed = tscloud(fleet.project, fleet.server.endpoint, "preview", "deploy", f"pr-{n}")
            assert deployed.code == 0, deployed.output
    for n in range(1, STAGES + 1):
        status, body = fetch(fleet.edge_url, f"pr-{n}.{DOMAIN}")
        assert (status, body.decode()) == (200, page(n)), n
    assert fetch(fleet.edge_url, f"pr-3.{DOMAIN}", "/robots.txt")[0] == 200
    assert fetch(fleet.edge_url, f"pr-3.{DOMAIN}", "/client/route")[1].decode() == page(3)  # spa

    gone = tscloud(fleet.project, fleet.server.endpoint, "preview", "destroy", "pr-17")
    assert gone.code == 0, gone.output
    status, body = fetch(fleet.edge_url, f"pr-17.{DOMAIN}")
    assert status == 404 and b"No preview stage is deployed at pr-17." in body
    for n in range(1, STAGES + 1):
        if n != 17:
            assert fetch(fleet.edge_url, f"pr-{n}.{DOMAIN}") == (200, page(n).encode()), n
    data = boto(fleet.server.endpoint, "s3")
    bucket = next(b["Name"] for b in data.list_buckets()["Buckets"] if b["Name"].startswith("fleet-preview-site-"))
    assert data.list_objects_v2(Bucket=bucket, Prefix="stages/pr-17/")["KeyCount"] == 0
    assert data.list_objects_v2(Bucket=bucket, Prefix="stages/pr-16/")["KeyCount"] > 0

    listed = tscloud(fleet.project, fleet.server.endpoint, "--output", "json", "preview", "list")
    assert listed.code == 0, listed.output
    rows = {r["name"]: r for r in listed.json()["stages"]}
    assert len(rows) == STAGES - 1 and "pr-17" not in rows
    assert rows["pr-3"]["url"] == f"https://pr-3.{DOMAIN}" and rows["pr-3"]["size"] > 0


def test_twenty_concurrent_deploys_all_land_despite_forced_conflicts(server: MotoServer, tmp_path: Path) -> None:
    from tscloud_py.aws.cloudfront.kvs import KeyValueStores

    base = project(tmp_path / "host", "race")
    setup = tscloud(base, server.endpoint, "preview", "setup")
    assert setup.code == 0, setup.output

    with AwsProxy(server.endpoint) as proxy:
        arrived = 0
        lock = threading.Lock()
        enough = threading.Event()

        def hold_first_puts(method: str, path: str) -> bool:
            nonlocal arrived
            if method != "PUT" or not path.startswith("/key-value-stores/"):
                return False
            with lock:
                arrived += 1
                if arrived >= HELD:
                    enough.set()
                return arrived <= HELD

        proxy.hold(hold_first_puts)
        threading.Thread(target=lambda: enough.wait(240) and proxy.release(), daemon=True).start()
        procs = []
        for n in range(1, RACERS + 1):
            own = project(tmp_path / f"racer-{n}", "race")
            (own / "dist" / "index.html").write_text(page(n))
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "tscloud_py", "--endpoint-url", proxy.endpoint, "preview", "deploy", f"r-{n}"],
                cwd=own, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        errors = []
        for proc in procs:
            _, err = proc.communicate(timeout=400)
            if proc.returncode != 0:
                errors.append(err[-2000:])
        assert not errors, errors
        puts = [r for r in proxy.requests() if r.api_operation == "PutKey"]

    conflicts = [r for r in puts if r.status == 409]
    assert len(conflicts) >= HELD - 1, [r.status for r in puts]
    assert len([r for r in puts if r.status == 200]) == RACERS  # each key written once
    factory = ClientFactory(endpoint_url=server.endpoint, credentials=LOCAL_CREDENTIALS)
    kvs = KeyValueStores(factory)
    store = kvs.find("race-preview-use1-routes")
    assert store is not None
    assert sorted(kvs.items(store.arn)) == sorted(f"r-{n}.{DOMAIN}" for n in range(1, RACERS + 1))
