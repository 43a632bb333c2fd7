"""The image's context hash covers exactly what the docker SDK sends: the include set is compared with
the tarball the SDK itself builds for `docker build` of the same folder, per .dockerignore case."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest
from docker.api.build import process_dockerfile
from docker.utils.build import tar

from tscloud_py.build import dockerfile as df
from tscloud_py.build.container import BuildSpec, context_files, context_hash, dockerignore_patterns

CASES = {
    "nested markdown under *.md": ("*.md\n", ["README.md", "docs/guide.md", "src/app.ts"]),
    "*.txt with a !keep.txt exception": ("*.txt\n!keep.txt\n", ["a.txt", "keep.txt", "sub/b.txt", "sub/keep.txt"]),
    "a directory pattern": ("node_modules/\ntmp\n", ["node_modules/x/index.js", "tmp/cache", "src/tmp.ts",
                                                      "src/node_modules/y.js"]),
    "** anywhere": ("**/*.log\n**/secret\n", ["a.log", "deep/er/b.log", "secret", "x/secret", "x/keep.ts"]),
    "exception re-including inside an ignored dir": ("build\n!build/keep.js\n", ["build/a.js", "build/keep.js"]),
    "comments and blank lines": ("# nothing\n\n  *.tmp  \n", ["a.tmp", "b.ts"]),
}


def make_context(root: Path, ignore: str, files: list[str]) -> BuildSpec:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    (root / ".dockerignore").write_text(ignore)
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"{rel}\n")
    return BuildSpec(root)


def sdk_sent(root: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """The member names of the tarball docker.APIClient.build makes for path=root."""
    exclude = dockerignore_patterns(root) or None
    with tar(str(root), exclude=exclude, dockerfile=process_dockerfile(dockerfile, str(root))) as fh, \
            tarfile.open(fileobj=fh) as archive:
        return sorted(archive.getnames())


@pytest.mark.parametrize("case", sorted(CASES))
def test_include_set_equals_the_sdk_tarball(case: str, tmp_path: Path) -> None:
    ignore, files = CASES[case]
    spec = make_context(tmp_path / "ctx", ignore, files)
    assert context_files(spec) == sdk_sent(spec.context)


@pytest.mark.parametrize("case", sorted(CASES))
def test_editing_a_sent_file_changes_the_hash_and_an_ignored_one_does_not(case: str, tmp_path: Path) -> None:
    ignore, files = CASES[case]
    spec = make_context(tmp_path / "ctx", ignore, files)
    sent = set(context_files(spec))
    for rel in files:
        before = context_hash(spec)
        (spec.context / rel).write_text((spec.context / rel).read_text() + "edit\n")
        changed = context_hash(spec) != before
        assert changed == (rel in sent), rel


def test_mode_and_new_empty_directories_count_and_tscloud_state_never_does(tmp_path: Path) -> None:
    spec = make_context(tmp_path / "ctx", "", ["run.sh"])
    before = context_hash(spec)
    (spec.context / "run.sh").chmod(0o755)
    assert context_hash(spec) != before
    before = context_hash(spec)
    (spec.context / "empty").mkdir()
    assert context_hash(spec) != before
    before = context_hash(spec)
    (spec.context / ".tscloud" / "build").mkdir(parents=True)
    (spec.context / ".tscloud" / "build" / "image-x.log").write_text("a build log\n")
    assert context_hash(spec) == before and not any(p.startswith(".tscloud") for p in context_files(spec))


def test_build_options_are_part_of_the_hash(tmp_path: Path) -> None:
    spec = make_context(tmp_path / "ctx", "", ["a"])
    base = context_hash(spec)
    assert context_hash(BuildSpec(spec.context, args={"X": "1"})) != base
    assert context_hash(BuildSpec(spec.context, platform="linux/arm64")) != base
    assert context_hash(BuildSpec(spec.context, target="prod")) != base


def test_instructions_keep_their_first_line_and_join_continuations() -> None:
    text = "# syntax-less comment\nFROM a AS build\n\nRUN one \\\n  # inside\n  two\nCOPY . /x\n"
    assert [(i.line, i.keyword, i.short()) for i in df.instructions(text)] == [
        (2, "FROM", "FROM a AS build"), (4, "RUN", "RUN one two"), (7, "COPY", "COPY . /x")]


@pytest.mark.parametrize(("text", "need"), [
    ("# syntax=docker/dockerfile:1\nFROM a\n", (1, "the `# syntax=docker/dockerfile:1` directive")),
    ("FROM a\nRUN --mount=type=cache,target=/c make\n", (2, "`RUN --mount`")),
    ("FROM a\nCOPY <<EOF /x\nhi\nEOF\n", (2, "a heredoc in `COPY`")),
    ("FROM a\nCOPY --link . /\n", (2, "`COPY --link`")),
    ("FROM a\n# syntax=late is only a comment\nRUN echo '<<not a heredoc'\nCOPY --from=b /x /y\n", None),
])
def test_buildkit_need(text: str, need: tuple[int, str] | None) -> None:
    assert df.buildkit_need(text) == need


def test_base_images_skip_stages_and_scratch_and_expand_args() -> None:
    text = "ARG BASE=busybox:1\nFROM ${BASE} AS build\nFROM scratch\nFROM build\nFROM --platform=x node AS node\n"
    assert df.base_images(text, {}) == [(2, "busybox:1"), (5, "node")]
    assert df.base_images(text, {"BASE": "alpine:3"})[0] == (2, "alpine:3")


def test_engine_discovery_follows_the_docker_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tscloud_py.build.docker_engine import resolve_endpoint

    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (certs / name).write_text("-----BEGIN CERTIFICATE-----\n")
    tls = resolve_endpoint({"DOCKER_HOST": "tcp://10.0.0.5:2376", "DOCKER_TLS_VERIFY": "1",
                            "DOCKER_CERT_PATH": str(certs), "DOCKER_CONTEXT": "ignored-when-host-is-set"})
    assert (tls.host, tls.source) == ("tcp://10.0.0.5:2376", "DOCKER_HOST")
    assert tls.tls is not None and tls.tls.ca_cert == str(certs / "ca.pem")
    assert tls.tls.cert == (str(certs / "cert.pem"), str(certs / "key.pem")) and tls.tls.verify

    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    assert resolve_endpoint({}).host == "unix:///var/run/docker.sock"
    meta = home / ".docker" / "contexts" / "meta" / hashlib.sha256(b"remote").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": "remote", "Metadata": {},
                                                "Endpoints": {"docker": {"Host": "unix:///run/remote.sock"}}}))
    (home / ".docker" / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    current = resolve_endpoint({})
    assert (current.host, current.source) == ("unix:///run/remote.sock", "docker context remote")
    assert resolve_endpoint({"DOCKER_CONTEXT": "default"}).host == "unix:///var/run/docker.sock"
