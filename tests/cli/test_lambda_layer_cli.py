"""`tscloud lambda layer publish|attach` as a subprocess against a moto server."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def test_publish_dir_twice_then_changed(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    moto_server.reset()
    src = tmp_path / "layer" / "nodejs" / "node_modules" / "dep"
    src.mkdir(parents=True)
    (src / "index.js").write_text("module.exports = 1;\n")
    args = ("--endpoint-url", moto_server.endpoint, "--output", "json", "lambda", "layer", "publish",
            str(tmp_path / "layer"), "--name", "deps", "--runtime", "nodejs22.x", "--arch", "arm64")
    first = cli(*args, cwd=tmp_path)
    assert first.code == 0, first.output
    doc = first.json()
    assert doc["status"] == "published" and doc["version"] == 1 and doc["arn"].endswith(":layer:deps:1")
    # touching the files changes nothing: the zip is deterministic, so nothing is published
    (src / "index.js").touch()
    again = cli(*args, cwd=tmp_path)
    assert again.code == 0 and again.json()["status"] == "unchanged" and again.json()["version"] == 1
    assert again.json()["code_sha256"] == doc["code_sha256"]
    (src / "index.js").write_text("module.exports = 2;\n")
    changed = cli(*args, cwd=tmp_path)
    assert changed.json()["status"] == "published" and changed.json()["version"] == 2

    # a .zip is published as is
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bin/tool", "#!/bin/sh\n")
    (tmp_path / "tool.zip").write_bytes(buf.getvalue())
    result = cli("--endpoint-url", moto_server.endpoint, "lambda", "layer", "publish", str(tmp_path / "tool.zip"),
                 "--name", "tool", cwd=tmp_path)
    assert result.code == 0 and "published arn:aws:lambda:" in result.stdout


def test_bad_sources_exit_2(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    (tmp_path / "notzip.zip").write_text("hello")
    (tmp_path / "empty").mkdir()
    for source in ("notzip.zip", "empty", "missing"):
        result = cli("--endpoint-url", moto_server.endpoint, "lambda", "layer", "publish", source, "--name", "x",
                     cwd=tmp_path)
        assert result.code == 2, result.output
    result = cli("--endpoint-url", moto_server.endpoint, "lambda", "layer", "publish", "empty", "--name", "bad name",
                 cwd=tmp_path)
    assert result.code == 2 and "--name" in result.stderr


def test_attach_layers(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    moto_server.reset()
    kw: dict[str, Any] = {"endpoint_url": moto_server.endpoint, "region_name": "us-east-1"}
    iam = boto3.client("iam", **kw)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    lam = boto3.client("lambda", **kw)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.mjs", "export const handler = async () => 1")
    lam.create_function(FunctionName="worker", Role=role, Runtime="provided.al2023", Handler="index.fetch",
                        Code={"ZipFile": buf.getvalue()})
    arns = [lam.publish_layer_version(LayerName=f"l{i}", Content={"ZipFile": buf.getvalue()})["LayerVersionArn"]
            for i in range(6)]
    base = ("--endpoint-url", moto_server.endpoint, "--output", "json", "lambda", "layer", "attach", "worker")
    result = cli(*base, arns[0], arns[1], cwd=tmp_path)
    assert result.code == 0, result.output
    assert result.json() == {"function": "worker", "layers": arns[:2], "status": "updated"}
    assert cli(*base, arns[1], cwd=tmp_path).json()["status"] == "unchanged"
    # a newer version of the same layer replaces the older one
    v2 = lam.publish_layer_version(LayerName="l0", Content={"ZipFile": buf.getvalue()})["LayerVersionArn"]
    assert cli(*base, v2, cwd=tmp_path).json()["layers"] == [arns[1], v2]
    too_many = cli(*base, *arns[2:6], cwd=tmp_path)
    assert too_many.code == 2 and "at most 5" in too_many.stdout
    assert cli(*base, "--replace", arns[5], cwd=tmp_path).json()["layers"] == [arns[5]]
    missing = cli("--endpoint-url", moto_server.endpoint, "lambda", "layer", "attach", "nope", arns[0], cwd=tmp_path)
    assert missing.code == 2 and "no Lambda function" in missing.stderr
