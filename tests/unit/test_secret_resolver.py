"""tscloud's Lambda secret resolver (``tscloud_py/data/lambda/secrets.mjs``) signs its own requests: its SigV4
headers must be exactly botocore's for the same request, or every real function would fail at init with
InvalidSignatureException (moto checks no signature, so only this comparison holds the signer to AWS's rule).
And the helpers around it: what a function's configuration gets, the versions' marker, the shared policy."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tscloud_py.config.load import load_config
from tscloud_py.config.tables.common import env_secret_refs
from tscloud_py.errors import ConfigError
from tscloud_py.presets.steps.secrets import (
    RESOLVER_IMPORT,
    FunctionSecrets,
    SecretReader,
    read_statements,
    versions_marker,
)

NOW = datetime.datetime(2026, 3, 1, 12, 34, 56, tzinfo=datetime.timezone.utc)
RESOLVER = resources.files("tscloud_py").joinpath("data").joinpath("lambda").joinpath("secrets.mjs")


def node_sign(url: str, service: str, target: str, body: str, token: str | None) -> dict[str, str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    script = (f"const {{ sign }} = await import({json.dumps(str(RESOLVER))});\n"
              f"console.log(JSON.stringify(sign({{ url: new URL({json.dumps(url)}), service: {json.dumps(service)}, "
              f"region: 'eu-west-1', target: {json.dumps(target)}, body: {json.dumps(body)}, credentials: "
              f"{{ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', "
              f"sessionToken: {json.dumps(token)} }}, now: new Date({json.dumps(NOW.isoformat())}) }})));")
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30,
                         env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    headers: dict[str, str] = json.loads(out.stdout)
    return headers


def botocore_sign(url: str, service: str, target: str, body: str, token: str | None) -> dict[str, str]:
    request = AWSRequest("POST", url, data=body.encode(),
                         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4Auth(credentials, service, "eu-west-1").add_auth(request)
    return {k.lower(): v for k, v in request.headers.items()}


@pytest.mark.parametrize(("url", "service", "target", "token"), [
    ("https://secretsmanager.eu-west-1.amazonaws.com", "secretsmanager", "secretsmanager.GetSecretValue",
     "IQoJb3JpZ2luX2VjEXAMPLE//token+with/slashes=="),
    ("http://127.0.0.1:4566/", "ssm", "AmazonSSM.GetParameters", None),
])
def test_the_resolver_signs_exactly_as_botocore(url: str, service: str, target: str, token: str | None) -> None:
    body = json.dumps({"SecretId": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a/b-AbCdEf"})
    ours, theirs = node_sign(url, service, target, body, token), botocore_sign(url, service, target, body, token)
    assert ours["authorization"] == theirs["authorization"]
    assert ours["x-amz-date"] == theirs["x-amz-date"] == "20260301T123456Z"
    assert ours.get("x-amz-security-token") == theirs.get("x-amz-security-token") == token


class FakeSecrets:
    """Secrets Manager's DescribeSecret, as the marker reads it (no value is ever asked for)."""

    def __init__(self, versions: dict[str, dict[str, list[str]]]) -> None:
        self.versions = versions

    def describe(self, name: str, *, cached: bool = False) -> dict[str, Any] | None:
        if name not in self.versions:
            return None
        return {"ARN": name, "VersionIdsToStages": self.versions[name]}


class FakeSsm:
    def parameter(self, name: str) -> dict[str, Any] | None:
        return {"Name": name, "Version": 3}


ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tscloud/shop/dev/KEY-AbCdEf"
RESOLVED = {"KEY": {"value_from": ARN, "resource": ARN, "kind": "secretsmanager"},
            "PARAM": {"value_from": "arn:aws:ssm:us-east-1:123456789012:parameter/shop/p",
                      "resource": "arn:aws:ssm:us-east-1:123456789012:parameter/shop/p", "kind": "ssm"}}


def test_the_marker_follows_the_current_version_only() -> None:
    first = FakeSecrets({ARN: {"v1": ["AWSCURRENT"], "v0": ["AWSPREVIOUS"]}})
    rotated = FakeSecrets({ARN: {"v2": ["AWSCURRENT"], "v1": ["AWSPREVIOUS"]}})
    marker = versions_marker(RESOLVED, first, FakeSsm())  # type: ignore[arg-type]
    assert marker == versions_marker(RESOLVED, first, FakeSsm())  # type: ignore[arg-type]
    assert marker != versions_marker(RESOLVED, rotated, FakeSsm())  # type: ignore[arg-type]
    pinned = {"KEY": {**RESOLVED["KEY"], "value_from": f"{ARN}:password::v1"}}
    assert versions_marker(pinned, first, FakeSsm()) == versions_marker(pinned, rotated, FakeSsm())  # type: ignore[arg-type]


def test_a_function_environment_holds_where_secrets_live_and_keeps_the_users_node_options() -> None:
    secrets = FakeSecrets({ARN: {"v1": ["AWSCURRENT"]}})
    reader = SecretReader("ssr.environment", {"KEY": f"secretsmanager:{ARN}", "PARAM": "ssm:/shop/p"})
    names = mock.Mock(region="us-east-1", arn=lambda account, service, resource:
                      f"arn:aws:{service}:us-east-1:{account}:{resource}")
    fs = FunctionSecrets(reader, "tscloud.toml", names, secrets, FakeSsm(), lambda: "123456789012")  # type: ignore[arg-type]
    env = fs.environment({"KEY": f"secretsmanager:{ARN}", "PARAM": "ssm:/shop/p", "NODE_OPTIONS": "--enable-source-maps",
                          "PLAIN": "x"})
    assert json.loads(env.pop("TSCLOUD_SECRETS")) == {"KEY": ARN, "PARAM": RESOLVED["PARAM"]["value_from"]}
    assert len(env.pop("TSCLOUD_SECRETS_VERSION")) == 16
    assert env == {"NODE_OPTIONS": f"{RESOLVER_IMPORT} --enable-source-maps", "PLAIN": "x"}
    assert fs.statements() == read_statements(RESOLVED, "us-east-1") == [
        {"Sid": "ReadSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [ARN]},
        {"Sid": "ReadParameters", "Effect": "Allow", "Action": ["ssm:GetParameters"],
         "Resource": [RESOLVED["PARAM"]["resource"]]}]


SSR = """app = "shop"
preset = "ssr-app"

[ssr.environment]
{server}

[[ssr.workers]]
name = "jobs"
dir = "worker"
{runtime}
[ssr.workers.environment]
{worker}
"""


@pytest.mark.parametrize(("server", "worker", "runtime", "key", "said"), [
    ('K = "secret:not-a-name"', "", "", "ssr.environment.K", "secret:NAME"),
    ('K = "ssm:relative/name"', "", "", "ssr.environment.K", "ssm:/parameter/name"),
    ('K = "secretsmanager:"', "", "", "ssr.environment.K", "secretsmanager:NAME_OR_ARN"),
    ('TSCLOUD_SECRETS = "{}"', "", "", "ssr.environment.TSCLOUD_SECRETS", "reserved by tscloud"),
    ("", 'K = "secret:KEY"', 'runtime = "provided.al2023"', "ssr.workers[0].environment.K", "not Node.js"),
])
def test_a_function_secret_reference_is_checked_before_anything_runs(
        tmp_path: Path, server: str, worker: str, runtime: str, key: str, said: str) -> None:
    path = tmp_path / "tscloud.toml"
    path.write_text(SSR.format(server=server, worker=worker, runtime=runtime))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.key == key and said in str(raised.value), str(raised.value)


def test_plain_values_stay_plain() -> None:
    assert env_secret_refs({"A": "arn:aws:secretsmanager:us-east-1:1:secret:x", "B": "plain", "C": "secret:C",
                            "D": "ssm:/p", "E": "secretsmanager:x"}) == {
        "C": "secret:C", "D": "ssm:/p", "E": "secretsmanager:x"}
