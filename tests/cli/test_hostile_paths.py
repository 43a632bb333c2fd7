"""Nothing outside the project is published: outside directories and links are refused before any write;
private files (dotfiles, keys) are uploaded only when an include lists them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.cli.site_support import boto, make_site
from tests.conftest import run_cli
from tests.fakes.aws_proxy import AwsProxy


def _refused(project: Path, moto: Any, *expected: str) -> None:
    """plan and deploy both exit 2 naming the problem, and the deploy sends no write to AWS."""
    with AwsProxy(moto.endpoint) as proxy:
        planned = run_cli("--endpoint-url", proxy.endpoint, "plan", cwd=project)
        deployed = run_cli("--endpoint-url", proxy.endpoint, "deploy", cwd=project)
        writes = [r.describe() for r in proxy.mutating()]
    for result in (planned, deployed):
        assert result.code == 2, result.output
        assert "Traceback" not in result.stderr
        for text in expected:
            assert text in result.stderr, result.stderr
    assert writes == []


def test_a_site_dir_outside_the_project_is_refused(moto_server: Any, tmp_path: Path) -> None:
    project = make_site(tmp_path / "p", "out-abs")
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text().replace('dir = "dist"', 'dir = "/etc"'))
    _refused(project, moto_server, "site.dir", "outside the project directory", "allow_outside")
    toml.write_text(toml.read_text().replace('dir = "/etc"', 'dir = "../"'))
    _refused(project, moto_server, "site.dir", "outside the project directory")


def test_a_site_dir_that_is_a_link_out_is_refused(moto_server: Any, tmp_path: Path) -> None:
    outside = tmp_path / "secret-dir"
    outside.mkdir()
    (outside / "index.html").write_text("<p>not yours</p>")
    project = make_site(tmp_path / "p", "out-link")
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text().replace('dir = "dist"', 'dir = "linked"'))
    (project / "linked").symlink_to(outside)
    _refused(project, moto_server, "site.dir", str(outside.resolve()))


def test_a_link_in_the_build_that_leaves_it_is_refused_by_name(moto_server: Any, tmp_path: Path) -> None:
    (tmp_path / "shadow").write_text("root:x:0:0")
    project = make_site(tmp_path / "p", "out-file")
    (project / "dist" / "assets").mkdir(exist_ok=True)
    (project / "dist" / "assets" / "passwd").symlink_to(tmp_path / "shadow")
    _refused(project, moto_server, "site.dir", "assets/passwd", "symlink")


def test_a_link_inside_the_build_is_published(moto_server: Any, tmp_path: Path) -> None:
    project = make_site(tmp_path / "p", "in-link")
    (project / "dist" / "alias.html").symlink_to(project / "dist" / "index.html")
    result = run_cli("--endpoint-url", moto_server.endpoint, "--output", "json", "deploy", cwd=project)
    assert result.code == 0, result.output
    s3 = boto(moto_server.endpoint, "s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=result.json()["outputs"]["bucket"])["Contents"]}
    assert "alias.html" in keys


def test_allow_outside_publishes_with_a_warning(moto_server: Any, tmp_path: Path) -> None:
    shared = tmp_path / "shared-build"
    make_site(tmp_path / "donor", "donor")
    os.rename(tmp_path / "donor" / "dist", shared)
    project = tmp_path / "p"
    project.mkdir()
    (project / "tscloud.toml").write_text(
        'app = "out-ok"\npreset = "static-site"\nregion = "us-east-1"\n[site]\ndir = "../shared-build"\n'
        "allow_outside = true\n")
    result = run_cli("--endpoint-url", moto_server.endpoint, "deploy", cwd=project)
    assert result.code == 0, result.output
    assert "outside the project directory (allow_outside = true)" in result.stderr


@pytest.mark.parametrize("listed", [False, True])
def test_private_files_deploy_only_when_listed(moto_server: Any, tmp_path: Path, listed: bool) -> None:
    app = f"priv-{'inc' if listed else 'no'}"
    project = make_site(tmp_path / "p", app)
    dist = project / "dist"
    (dist / ".env").write_text("STRIPE_KEY=sk_live_x")
    (dist / "server.pem").write_text("-----BEGIN PRIVATE KEY-----")
    (dist / ".git").mkdir()
    (dist / ".git" / "config").write_text("[remote]")
    (dist / ".well-known").mkdir()
    (dist / ".well-known" / "security.txt").write_text("Contact: mailto:sec@example.com")
    if listed:
        toml = project / "tscloud.toml"
        toml.write_text(toml.read_text() + 'include = [".well-known/*"]\n')
    plan = run_cli("--endpoint-url", moto_server.endpoint, "--output", "json", "plan", cwd=project)
    assert plan.code == 0, plan.output
    notices = " ".join(plan.json().get("notices", []))
    assert ".env" in notices and "server.pem" in notices and ".git/" in notices
    assert (".well-known" in notices) is not listed
    result = run_cli("--endpoint-url", moto_server.endpoint, "--output", "json", "deploy", cwd=project)
    assert result.code == 0, result.output
    s3 = boto(moto_server.endpoint, "s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=result.json()["outputs"]["bucket"])["Contents"]}
    assert not {".env", "server.pem", ".git/config"} & keys
    assert (".well-known/security.txt" in keys) is listed


def test_a_file_name_that_is_not_utf8_is_refused_before_any_write(moto_server: Any, tmp_path: Path) -> None:
    project = make_site(tmp_path / "p", "bad-name")
    with open(os.path.join(os.fsencode(project / "dist"), b"bad\xff.txt"), "wb") as fh:
        fh.write(b"x")
    _refused(project, moto_server, "site.dir", "not valid UTF-8")
