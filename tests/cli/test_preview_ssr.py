"""ssr-app preview stages (issue 26, "Done means" 4): two stages of examples/ssr-app on one preview host, each
with its own function and Function URL; through the local edge each host's pages come from its own function,
run under AWS's runtime client (aws-lambda-ric) and chosen by the router's ``cf.updateRequestOrigin`` from the
store's value, its hashed assets from its own prefix of the host's bucket. Destroying one stage deletes its
key (its host answers 404 at once), its files and its server; the other keeps serving."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.edge_support import require_ric
from tests.cli.site_support import boto
from tests.cli.test_preview_fleet import fetch
from tests.conftest import REPO, CliResult, run_cli
from tests.fakes.aws_proxy import AwsProxy
from tscloud_py.aws.session import ClientFactory
from tscloud_py.operations.context import LOCAL_CREDENTIALS

EXAMPLE = REPO / "examples" / "ssr-app"
DOMAIN = "ssr.example.com"  # its own: the fleet test counts *.preview.example.com's certificates
STAGES = ("pr-1", "pr-2")
ASSET = "/assets/main-8d41e0c7.js"


@dataclass
class Host:
    endpoint: str
    project: Path
    edge_url: str
    functions: dict[str, str]  # stage -> its function's name


def tscloud(project: Path, endpoint: str, *args: str) -> CliResult:
    return run_cli("--endpoint-url", endpoint, *args, cwd=project, timeout=300)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    ric = require_ric()
    from moto.server import ThreadedMotoServer

    from tscloud_py.emulator.edge.server import open_fleet

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    address, port = moto.get_host_and_port()
    endpoint = f"http://{address}:{port}"
    boto(endpoint, "route53").create_hosted_zone(Name="example.com", CallerReference="preview-ssr")
    root = tmp_path_factory.mktemp("preview-ssr") / "app"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".tscloud"))
    config = root / "tscloud.toml"
    config.write_text(config.read_text() + f'\n[preview]\ndomain = "{DOMAIN}"\n')
    setup = tscloud(root, endpoint, "preview", "setup")
    assert setup.code == 0, setup.output
    functions = {}
    for name in STAGES:
        deployed = tscloud(root, endpoint, "--output", "json", "preview", "deploy", name)
        assert deployed.code == 0, deployed.output
        outputs = deployed.json()["outputs"]
        functions[name], distribution_id = outputs["function_name"], outputs["distribution_id"]
    with pytest.MonkeyPatch.context() as env:
        # the edge runs in this process: its functions' runtime client is the one the tests installed
        env.setenv("TSCLOUD_AWS_LAMBDA_RIC", str(ric))
        edge = open_fleet(ClientFactory(endpoint_url=endpoint, credentials=LOCAL_CREDENTIALS))
        try:
            edge.sync()
            # moto's backends are the process's: another module's distributions may be served here too
            yield Host(endpoint, root, edge.served[distribution_id].url, functions)
        finally:
            edge.close()
            moto.stop()


def test_each_host_is_answered_by_its_own_function(host: Host) -> None:
    assert len(set(host.functions.values())) == 2
    for name in STAGES:
        status, body = fetch(host.edge_url, f"{name}.{DOMAIN}")
        assert status == 200, body[:500]
        # the app renders the viewer's host, which only the router's x-forwarded-host gives it
        assert f"<h1>Hello from {name}.{DOMAIN}</h1>" in body.decode()
        notes = note_headers(host.edge_url, f"{name}.{DOMAIN}")
        assert f"function {host.functions[name]} ran under aws-lambda-ric" in notes, notes
        assert any(n.startswith("cf.updateRequestOrigin: ") and ".lambda-url." in n for n in notes), notes
        asset_status, asset = fetch(host.edge_url, f"{name}.{DOMAIN}", ASSET)
        assert asset_status == 200 and asset == (EXAMPLE / ".output" / "public" / ASSET[1:]).read_bytes()
    assert fetch(host.edge_url, f"pr-9.{DOMAIN}")[0] == 404


def test_a_stage_writes_no_distribution_certificate_or_record(host: Host, tmp_path: Path) -> None:
    shutil.copytree(host.project, tmp_path / "app", ignore=shutil.ignore_patterns(".tscloud"))
    with AwsProxy(host.endpoint) as proxy:
        deployed = tscloud(tmp_path / "app", proxy.endpoint, "preview", "deploy", "pr-3")
        assert deployed.code == 0, deployed.output
        writes = {r.api_operation for r in proxy.resource_writes()}
    assert not {w for w in writes if w.endswith("Distribution") or w.endswith("Certificate")
                or w == "ChangeResourceRecordSets"}, writes
    assert "PutKey" in writes and "CreateFunction" in writes, writes
    gone = tscloud(tmp_path / "app", host.endpoint, "preview", "destroy", "pr-3")
    assert gone.code == 0, gone.output


def test_destroying_one_stage_leaves_the_other_serving(host: Host) -> None:
    gone = tscloud(host.project, host.endpoint, "preview", "destroy", "pr-1")
    assert gone.code == 0, gone.output
    assert fetch(host.edge_url, f"pr-1.{DOMAIN}")[0] == 404
    status, body = fetch(host.edge_url, f"pr-2.{DOMAIN}")
    assert status == 200 and f"Hello from pr-2.{DOMAIN}" in body.decode()
    names = [f["FunctionName"] for f in boto(host.endpoint, "lambda").list_functions()["Functions"]]
    assert host.functions["pr-1"] not in names and host.functions["pr-2"] in names


def note_headers(url: str, host_name: str) -> list[str]:
    import urllib.request

    req = urllib.request.Request(url, headers={"Host": host_name})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.headers.get_all("x-tscloud-note") or []
