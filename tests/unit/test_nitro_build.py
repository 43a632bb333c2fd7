"""Reading Nitro build output and deterministic zips (pure, no AWS)."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from tscloud_py.build.nitro import NotNitroBuildError, read_nitro_build, streaming_of
from tscloud_py.build.zipper import ZipEntry, build_zip, code_sha256, sha256_hex, zip_dir


def make_build(root: Path, meta: dict[str, object], *, index: str = "export { h as handler };\n") -> Path:
    (root / "server").mkdir(parents=True)
    (root / "server" / "index.mjs").write_text(index)
    (root / "public" / "assets").mkdir(parents=True)
    (root / "public" / "assets" / "app-1a2b.js").write_text("console.log(1)")
    (root / "public" / "favicon.ico").write_bytes(b"\0\1")
    (root / "public" / ".hidden").write_text("x")
    (root / "nitro.json").write_text(json.dumps(meta))
    return root


@pytest.mark.parametrize(("meta", "expected"), [
    ({"preset": "aws-lambda-streaming"}, True),
    ({"preset": "aws_lambda_streaming"}, True),
    ({"preset": "aws-lambda", "config": {"awsLambda": {"streaming": True}}}, True),
    ({"preset": "aws-lambda", "config": {"awsLambda": {"streaming": False}}}, False),
    ({"preset": "aws-lambda"}, False),
    ({"preset": "node-server", "config": {"awsLambda": {"streaming": True}}}, False),
])
def test_streaming_forms(meta: dict[str, object], expected: bool) -> None:
    assert streaming_of(meta) is expected


def test_read_build(tmp_path: Path) -> None:
    build = read_nitro_build(make_build(tmp_path / ".output", {
        "preset": "aws-lambda", "config": {"awsLambda": {"streaming": True}, "entry": "src/nitro/entry"}}))
    assert build.streaming and build.is_lambda
    assert build.handler == "index.handler"
    assert build.exports_handler()
    assert build.entry == "src/nitro/entry"
    assert [(e.name, e.path_pattern) for e in build.public_entries()] == [
        ("assets", "/assets/*"), ("favicon.ico", "/favicon.ico")]


@pytest.mark.parametrize("index", [
    "export const handler = async () => {}",
    "export async function handler(e) {}",
    "export{a as handler,b as c};",
    "exports.handler = function () {}",
])
def test_handler_export_forms(tmp_path: Path, index: str) -> None:
    assert read_nitro_build(make_build(tmp_path, {"preset": "aws-lambda"}, index=index)).exports_handler()


def test_handler_missing(tmp_path: Path) -> None:
    build = read_nitro_build(make_build(tmp_path, {"preset": "aws-lambda"}, index="export default {}"))
    assert not build.exports_handler()
    (tmp_path / "server" / "index.mjs").unlink()
    assert build.handler_file() is None and not build.exports_handler()


def test_not_a_build(tmp_path: Path) -> None:
    with pytest.raises(NotNitroBuildError) as err:
        read_nitro_build(tmp_path)
    assert err.value.exit_code == 2 and "nitro.json" in err.value.message
    (tmp_path / "nitro.json").write_text("{nope")
    with pytest.raises(NotNitroBuildError, match="not valid JSON"):
        read_nitro_build(tmp_path)
    (tmp_path / "nitro.json").write_text("{}")
    with pytest.raises(NotNitroBuildError, match="server"):
        read_nitro_build(tmp_path)
    with pytest.raises(NotNitroBuildError, match="not a directory"):
        read_nitro_build(tmp_path / "missing")


def test_zip_is_deterministic(tmp_path: Path) -> None:
    build = read_nitro_build(make_build(tmp_path / "a", {"preset": "aws-lambda"}))
    first = build.server_zip()
    # Touch every file: new mtimes, same content -> same bytes.
    for path in (tmp_path / "a").rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
    assert build.server_zip() == first
    # A copy created in a different order gives the same bytes too.
    other = tmp_path / "b"
    (other / "server").mkdir(parents=True)
    (other / "server" / "index.mjs").write_text("export { h as handler };\n")
    assert zip_dir(other / "server") == first
    assert sha256_hex(first) == sha256_hex(build.server_zip())
    (tmp_path / "a" / "server" / "index.mjs").write_text("export { h as handler }; // changed\n")
    assert build.server_zip() != first


def test_zip_layout_and_modes(tmp_path: Path) -> None:
    (tmp_path / "z" / "sub").mkdir(parents=True)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("x")
    (tmp_path / "a" / "run.sh").write_text("#!/bin/sh\n")
    (tmp_path / "a" / "run.sh").chmod(0o700)
    (tmp_path / "a" / ".DS_Store").write_text("junk")
    data = zip_dir(tmp_path / "a", prefix="bin")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["bin/run.sh", "bin/x.txt"]
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in infos}
        assert modes == {"bin/run.sh": 0o755, "bin/x.txt": 0o644}


def test_build_zip_rejects_duplicates_and_hashes() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        build_zip([ZipEntry("a", b"1"), ZipEntry("a", b"2")])
    data = build_zip([ZipEntry("b", b"2"), ZipEntry("a", b"1")])
    assert data == build_zip([ZipEntry("a", b"1"), ZipEntry("b", b"2")])
    assert len(code_sha256(data)) == 44
