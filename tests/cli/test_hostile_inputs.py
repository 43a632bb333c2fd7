"""Values AWS would reject, config files that are not config files, and flags that are not what they say:
each exits 2 with one line naming the key or flag, no traceback, and no write to AWS."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, MotoServer, run_cli
from tests.fakes.aws_proxy import AwsProxy

FULLSTACK = REPO / "examples" / "fullstack-app"
SSR = """app = "hostile-ssr"
preset = "ssr-app"
region = "us-east-1"
[ssr]
dir = ".output"
"""


@pytest.fixture(scope="module")
def proxy(moto_server: MotoServer) -> Iterator[AwsProxy]:
    with AwsProxy(moto_server.endpoint) as p:
        yield p


def fullstack(tmp: Path, edit: Callable[[str], str]) -> Path:
    project = tmp / "fs"
    shutil.copytree(FULLSTACK, project, ignore=shutil.ignore_patterns(".tscloud"))
    toml = project / "tscloud.toml"
    toml.write_text(edit(toml.read_text().replace('app = "shopfs"', 'app = "hostile-fs"')))
    return project


def ssr(tmp: Path, extra: str) -> Path:
    project = tmp / "ssr"
    project.mkdir()
    (project / "tscloud.toml").write_text(SSR + extra)
    return project


def add(text: str) -> Callable[[str], str]:
    return lambda toml: toml + "\n" + text + "\n"


def sub(old: str, new: str) -> Callable[[str], str]:
    def edit(toml: str) -> str:
        assert old in toml
        return toml.replace(old, new)
    return edit


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "cidr": (lambda t: fullstack(t, add('[network]\nvpc = "new"\ncidr = "999.999.0.0/16"')), "network.cidr"),
    "nan": (lambda t: fullstack(t, sub('engine = "postgres"', 'engine = "aurora-postgresql"\nmax_capacity = nan')),
            "database.max_capacity"),
    "infinity": (lambda t: fullstack(t, sub("storage = 20", "storage = 20\nmin_capacity = -inf")),
                 "database.min_capacity"),
    "timezone": (lambda t: fullstack(t, sub('"Europe/Berlin"', '"Mars/Olympus_Mons"')), "schedules[0].timezone"),
    "cron": (lambda t: fullstack(t, sub('"cron(0 3 * * ? *)"', '"cron(banana)"')), "schedules[0].expression"),
    "cron-both-days": (lambda t: fullstack(t, sub('"cron(0 3 * * ? *)"', '"cron(0 3 * * MON *)"')),
                       "schedules[0].expression"),
    "rate-zero": (lambda t: fullstack(t, sub('"cron(0 3 * * ? *)"', '"rate(0 minutes)"')),
                  "schedules[0].expression"),
    "engine-version": (lambda t: fullstack(t, sub('engine = "postgres"', 'engine = "postgres"\nversion = "banana"')),
                       "database.version"),
    # well formed, but not a version RDS offers: DescribeDBEngineVersions says so before the first write
    "engine-version-unoffered": (lambda t: fullstack(t, sub('engine = "postgres"',
                                                            'engine = "postgres"\nversion = "99.99"')),
                                 "database.version: RDS offers no postgres 99.99"),
    "image-digest": (lambda t: fullstack(t, sub('nginx:1.27-alpine"', 'nginx@sha256:zzzz"')), "api.image"),
    "task-env-size": (lambda t: fullstack(t, sub('LOG_LEVEL = "info"', f'LOG_LEVEL = "{"x" * 70_000}"')),
                      "api.environment"),
    "zone-id": (lambda t: fullstack(t, add('[dns]\nprovider = "cloudflare"\nzone_id = "../../user/tokens?x="')),
                "dns.zone_id"),
    "lambda-reserved": (lambda t: ssr(t, '[ssr.environment]\nAWS_REGION = "eu-west-1"\n'),
                        "ssr.environment.AWS_REGION"),
    "lambda-env-size": (lambda t: ssr(t, f'[ssr.environment]\nBIG = "{"y" * 5000}"\n'), "ssr.environment"),
    "worker-names": (lambda t: ssr(t, '[[ssr.workers]]\nname = "jobs"\ndir = "w"\n'
                                     '[[ssr.workers]]\nname = "jobs"\ndir = "w"\n'), "ssr.workers[1].name"),
    "missing-secret": (lambda t: fullstack(t, add('[api.secrets]\nSTRIPE_KEY = "does/not/exist"')),
                       "api.secrets.STRIPE_KEY"),
    "missing-secret-arn": (lambda t: fullstack(t, add(
        '[api.secrets]\nSTRIPE_KEY = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf"')),
        "api.secrets.STRIPE_KEY"),
    "missing-parameter": (lambda t: fullstack(t, add('[api.secrets]\nFLAG = "ssm:/hostile/not-there"')),
                          "api.secrets.FLAG"),
    "deep-toml": (lambda t: ssr(t, "x = " + "[" * 3000 + "]" * 3000 + "\n"), "nested too deep"),
    "huge-file": (lambda t: fullstack(t, sub('LOG_LEVEL = "info"', f'LOG_LEVEL = "{"z" * (2 << 20)}"')),
                  "not a tscloud config"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_before_any_write(case: str, proxy: AwsProxy, tmp_path: Path) -> None:
    make, expected = CASES[case]
    project = make(tmp_path)
    with proxy.recording() as seen:
        result = run_cli("--endpoint-url", proxy.endpoint, "deploy", cwd=project, timeout=120)
    assert result.code == 2, result.output[-2000:]
    assert expected in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert len(result.stderr.splitlines()) <= 3, result.stderr[-2000:]
    assert [r.describe() for r in seen if r.mutating] == []


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "directory"])
def test_config_that_is_not_a_regular_file(special: str, tmp_path: Path) -> None:
    if special == "fifo":
        path = tmp_path / "tscloud.toml"
        os.mkfifo(path)
    elif special == "directory":
        path = tmp_path / "conf.d"
        path.mkdir()
    else:
        path = Path(special)
    result = run_cli("--config", str(path), "plan", cwd=tmp_path, timeout=60)
    assert result.code == 2, result.output
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1:1", "http://", "http://127.0.0.1:99999"])
def test_endpoint_url_that_is_not_a_url(url: str, tmp_path: Path) -> None:
    result = run_cli("--endpoint-url", url, "plan", cwd=tmp_path, timeout=60)
    assert result.code == 2, result.output
    assert "--endpoint-url" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_aws_endpoint_url_variable_is_named(tmp_path: Path) -> None:
    result = run_cli("plan", cwd=tmp_path, env={"AWS_ENDPOINT_URL": "nope"}, timeout=60)
    assert result.code == 2 and "AWS_ENDPOINT_URL" in result.stderr, result.output


def test_plan_refuses_the_same(proxy: AwsProxy, tmp_path: Path) -> Any:
    project = CASES["cidr"][0](tmp_path)
    result = run_cli("--endpoint-url", proxy.endpoint, "plan", cwd=project, timeout=120)
    assert result.code == 2 and "network.cidr" in result.stderr, result.output


@pytest.mark.parametrize("command", ["plan", "deploy"])
def test_local_with_an_unknown_region_names_region(command: str, tmp_path: Path) -> None:
    """--local starts the embedded emulator, which would answer an unknown region with a werkzeug
    traceback: the region is checked against botocore's partitions first."""
    project = ssr(tmp_path, "")
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text().replace('region = "us-east-1"', 'region = "xx-fake-1"'))
    result = run_cli("--local", "--yes", command, cwd=project, timeout=120)
    assert result.code == 2, result.output[-2000:]
    assert "region" in result.stderr and "xx-fake-1" in result.stderr, result.stderr
    assert "Traceback" not in result.output and "werkzeug" not in result.output
    assert len(result.stderr.splitlines()) <= 3, result.stderr


def test_local_with_an_unknown_region_flag_names_it(tmp_path: Path) -> None:
    project = ssr(tmp_path, "")
    result = run_cli("--local", "--region", "xx-fake-1", "plan", cwd=project, timeout=120)
    assert result.code == 2, result.output[-2000:]
    assert "--region" in result.stderr and "Traceback" not in result.output, result.stderr


def test_an_endpoint_that_answers_nothing_fails_within_a_few_attempts(tmp_path: Path) -> None:
    """Nothing is done before the first request (GetCallerIdentity) is answered, so an endpoint that never
    answers (a wrong --endpoint-url, no network) ends the run after that request's own few attempts, not
    after the minute of backoff every later request may take. A real listening socket that closes every
    connection unanswered."""
    import socket
    import threading

    accepted = 0
    listener = socket.create_server(("127.0.0.1", 0))

    def hang_up() -> None:
        nonlocal accepted
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted += 1
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    try:
        (tmp_path / "tscloud.toml").write_text('app = "silent"\npreset = "static-site"\nregion = "us-east-1"\n\n'
                                               '[site]\ndir = "dist"\n')
        (tmp_path / "dist").mkdir()
        endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
        result = run_cli("--endpoint-url", endpoint, "plan", cwd=tmp_path, timeout=120,
                         env={"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"})
    finally:
        listener.close()
    assert result.code == 1, result.output
    assert "sts:GetCallerIdentity" in result.stderr and "--endpoint-url" in result.stderr, result.output
    assert "Traceback" not in result.stderr
    # The state backend's lookup and the preset's each ask once, three attempts apiece; the factory's
    # budget would have been eleven each.
    assert 1 <= accepted <= 6, accepted
