"""plan_sync and friends: pure functions, no AWS."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tscloud_py.build.sync import (
    IMMUTABLE,
    REVALIDATE,
    LocalFile,
    SyncPlan,
    build_id,
    cache_control,
    content_type,
    invalidation_paths,
    is_fingerprinted,
    plan_sync,
    scan,
    sealed_listing,
    unrecorded_matches,
)

SITE = {
    "index.html": "<html>home</html>",
    "about/index.html": "<html>about</html>",
    "robots.txt": "User-agent: *\n",
    "favicon.svg": "<svg/>",
    "assets/index-BxK3a9Zq.js": "console.log(1)",
    "assets/index-C9d1e0Aa.css": "body{}",
}


def write(root: Path, files: dict[str, str]) -> Path:
    for key, text in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def applied(local: dict[str, LocalFile], plan: SyncPlan, remote: dict[str, str]) -> dict[str, str]:
    """The bucket listing after ``plan`` was applied to ``remote``."""
    after = dict(remote)
    for f in plan.uploads:
        after[f.key] = f.md5
    for key in plan.deletes:
        after.pop(key, None)
    return after


def deploy(local: dict[str, LocalFile], remote: dict[str, str],
           manifest: dict[str, object] | None) -> tuple[SyncPlan, dict[str, str]]:
    plan = plan_sync(local, remote, manifest)
    return plan, applied(local, plan, remote)


# -- scanning, hashing -----------------------------------------------------------------------
def test_scan_keys_md5_types_and_hidden_files(tmp_path: Path) -> None:
    write(tmp_path, {**SITE, ".DS_Store": "x", ".well-known/secret": "x"})
    files = scan(tmp_path)
    assert sorted(files) == sorted(SITE)
    f = files["robots.txt"]
    assert f.md5 == "7a0c3a6b4d4f5b8e8e6e2b9a8d0b4f3c" or len(f.md5) == 32
    import hashlib

    assert f.md5 == hashlib.md5(b"User-agent: *\n").hexdigest()
    assert f.size == len("User-agent: *\n")
    assert f.etag == f.md5 and not f.multipart


def test_a_big_file_is_compared_by_the_etag_its_multipart_upload_gets(tmp_path: Path) -> None:
    import hashlib

    from tscloud_py.build.sync import MULTIPART_THRESHOLD, PART_SIZE

    data = bytes(range(256)) * ((PART_SIZE * 2 + 1000) // 256)
    (tmp_path / "video.mp4").write_bytes(data)
    (tmp_path / "small.txt").write_bytes(b"x" * (MULTIPART_THRESHOLD - 1))
    files = scan(tmp_path)
    big = files["video.mp4"]
    parts = [data[i: i + PART_SIZE] for i in range(0, len(data), PART_SIZE)]
    assert big.part_md5s == tuple(hashlib.md5(p).hexdigest() for p in parts) and len(parts) == 3
    # S3's ETag of a multipart object: the MD5 of the parts' binary MD5s, then "-" and the part count.
    assert big.etag == hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-3"
    assert big.md5 == hashlib.md5(data).hexdigest()
    assert not files["small.txt"].multipart
    first, _remote = deploy(files, {}, None)
    assert {f.key for f in first.uploads} == {"video.mp4", "small.txt"}
    again = plan_sync(scan(tmp_path), {"video.mp4": big.etag, "small.txt": files["small.txt"].md5},
                      first.manifest)
    assert again.uploads == [] and again.empty


def test_unchanged_content_with_new_mtimes_uploads_nothing(tmp_path: Path) -> None:
    write(tmp_path, SITE)
    first, remote = deploy(scan(tmp_path), {}, None)
    assert len(first.uploads) == len(SITE)
    # A rebuild: identical bytes, every mtime moved.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            os.utime(path, (1_000_000_000, 1_000_000_000))
    again = plan_sync(scan(tmp_path), remote, first.manifest)
    assert again.uploads == [] and again.deletes == [] and again.empty


def test_changed_content_uploads_only_that_file(tmp_path: Path) -> None:
    write(tmp_path, SITE)
    first, remote = deploy(scan(tmp_path), {}, None)
    (tmp_path / "robots.txt").write_text("User-agent: *\nDisallow: /x\n")
    plan = plan_sync(scan(tmp_path), remote, first.manifest)
    assert [f.key for f in plan.uploads] == ["robots.txt"]
    assert plan.overwritten == ["robots.txt"]
    assert plan.manifest["changed_paths"] == ["robots.txt"]
    assert plan.manifest["previous_build_id"] == first.manifest["build_id"]


def test_same_content_same_size_different_bytes_is_a_change(tmp_path: Path) -> None:
    write(tmp_path, {"index.html": "aaaa"})
    first, remote = deploy(scan(tmp_path), {}, None)
    (tmp_path / "index.html").write_text("bbbb")  # same size, same mtime resolution
    assert [f.key for f in plan_sync(scan(tmp_path), remote, first.manifest).uploads] == ["index.html"]


def test_headers_only_change_reuploads(tmp_path: Path) -> None:
    """Same bytes but the manifest recorded other headers (say, an older type map): upload again."""
    write(tmp_path, SITE)
    first, remote = deploy(scan(tmp_path), {}, None)
    files = dict(first.manifest["files"])  # type: ignore[call-overload]
    files["favicon.svg"] = {**files["favicon.svg"], "content_type": "text/xml"}
    manifest = {**first.manifest, "files": files, "build_id": "older"}
    assert [f.key for f in plan_sync(scan(tmp_path), remote, manifest).uploads] == ["favicon.svg"]


def test_existing_bucket_without_manifest_uploads_everything(tmp_path: Path) -> None:
    """Without a manifest the headers the objects carry are unknown, so nothing is trusted."""
    write(tmp_path, SITE)
    local = scan(tmp_path)
    plan = plan_sync(local, {k: f.md5 for k, f in local.items()}, None)
    assert len(plan.uploads) == len(SITE)


def _waves(plan: SyncPlan) -> list[list[str]]:
    return [[f.key for f in wave] for wave in plan.waves()]


def test_a_first_upload_sends_pages_after_every_other_file(tmp_path: Path) -> None:
    write(tmp_path, {**SITE, "zzz.js": "1", "a.htm": "<p>"})
    plan = plan_sync(scan(tmp_path), {}, None)
    assert _waves(plan) == [["assets/index-BxK3a9Zq.js", "assets/index-C9d1e0Aa.css", "favicon.svg",
                             "robots.txt", "zzz.js"],
                            ["a.htm", "about/index.html", "index.html"]]
    assert [f.key for f in plan.uploads] == [k for wave in _waves(plan) for k in wave]


def test_pages_wait_only_for_files_the_bucket_does_not_have_yet(tmp_path: Path) -> None:
    write(tmp_path, SITE)
    _, remote = deploy(scan(tmp_path), {}, None)
    first = plan_sync(scan(tmp_path), {}, None)
    # A page and a file overwritten in place: the file already answers, so both go at once.
    write(tmp_path, {"index.html": "<html>home 2</html>", "robots.txt": "User-agent: *\nDisallow: /\n"})
    in_place = plan_sync(scan(tmp_path), remote, first.manifest)
    assert _waves(in_place) == [["robots.txt", "index.html"]]
    # A new file the page may reference goes first; the in-place one goes with the page.
    write(tmp_path, {"assets/chunk-Ab12Cd34.js": "export {}"})
    new_file = plan_sync(scan(tmp_path), remote, first.manifest)
    assert _waves(new_file) == [["assets/chunk-Ab12Cd34.js"], ["robots.txt", "index.html"]]
    # No page in the upload: nothing to wait for.
    (tmp_path / "index.html").write_text(SITE["index.html"])
    no_page = plan_sync(scan(tmp_path), remote, first.manifest)
    assert _waves(no_page) == [["assets/chunk-Ab12Cd34.js", "robots.txt"]]


# -- keeping the previous build's fingerprinted assets ---------------------------------------------
def test_previous_fingerprinted_assets_kept_exactly_one_build(tmp_path: Path) -> None:
    write(tmp_path, SITE)
    b1, remote = deploy(scan(tmp_path), {}, None)

    # Build 2: the JS gets a new hash, robots.txt is dropped.
    (tmp_path / "assets/index-BxK3a9Zq.js").rename(tmp_path / "assets/index-Dd4e5F6g.js")
    (tmp_path / "robots.txt").unlink()
    b2, remote = deploy(scan(tmp_path), remote, b1.manifest)
    assert b2.kept == ["assets/index-BxK3a9Zq.js"]
    assert b2.deletes == ["robots.txt"]  # not fingerprinted: removed once the new build is in place
    assert "assets/index-BxK3a9Zq.js" in remote

    # Build 3: build 1's asset goes now; build 2's replaced asset is kept one deploy.
    (tmp_path / "assets/index-Dd4e5F6g.js").rename(tmp_path / "assets/index-Hh7i8J9k.js")
    b3, remote = deploy(scan(tmp_path), remote, b2.manifest)
    assert b3.deletes == ["assets/index-BxK3a9Zq.js"]
    assert b3.kept == ["assets/index-Dd4e5F6g.js"]

    # Build 4 (no asset change but new HTML): build 3's kept asset goes, nothing new is kept.
    (tmp_path / "index.html").write_text("<html>v4</html>")
    b4, remote = deploy(scan(tmp_path), remote, b3.manifest)
    assert b4.deletes == ["assets/index-Dd4e5F6g.js"] and b4.kept == []


def test_rerun_of_the_same_build_keeps_the_same_kept_set(tmp_path: Path) -> None:
    write(tmp_path, SITE)
    b1, remote = deploy(scan(tmp_path), {}, None)
    (tmp_path / "assets/index-BxK3a9Zq.js").rename(tmp_path / "assets/index-Dd4e5F6g.js")
    b2, remote = deploy(scan(tmp_path), remote, b1.manifest)
    assert b2.kept == ["assets/index-BxK3a9Zq.js"]

    rerun = plan_sync(scan(tmp_path), remote, b2.manifest)
    assert rerun.kept == b2.kept
    assert rerun.deletes == [] and rerun.uploads == [] and not rerun.manifest_changed and rerun.empty
    assert rerun.manifest == b2.manifest


def test_a_sealed_manifest_plans_as_the_listing_would(tmp_path: Path) -> None:
    """Over several builds (a changed file, a new asset whose predecessor is kept, a removed file, a file
    back after it was deleted) the plan from the sealed manifest is the plan from the bucket's listing."""
    write(tmp_path, SITE)
    b1, remote = deploy(scan(tmp_path), {}, None)
    manifest = b1.manifest
    steps = [
        lambda: (tmp_path / "index.html").write_text("<html>v2</html>"),
        lambda: (tmp_path / "assets/index-BxK3a9Zq.js").rename(tmp_path / "assets/index-Dd4e5F6g.js"),
        lambda: (tmp_path / "robots.txt").unlink(),
        lambda: (tmp_path / "assets/index-BxK3a9Zq.js").write_text("console.log(1)"),
    ]
    for change in steps:
        change()
        local = scan(tmp_path)
        listed = plan_sync(local, remote, manifest)
        sealed = plan_sync(local, sealed_listing(manifest, local), manifest)
        assert [f.key for f in sealed.uploads] == [f.key for f in listed.uploads]
        assert (sealed.deletes, sealed.kept, sealed.manifest) == (listed.deletes, listed.kept, listed.manifest)
        remote, manifest = applied(local, listed, remote), listed.manifest


def test_a_sealed_manifest_knows_a_big_files_multipart_etag(tmp_path: Path) -> None:
    write(tmp_path, {"index.html": "<html/>"})
    (tmp_path / "video.mp4").write_bytes(b"x" * (8 * 1024 * 1024 + 1))
    local = scan(tmp_path)
    first = plan_sync(local, {}, None)
    assert sealed_listing(first.manifest, local)["video.mp4"] == local["video.mp4"].etag
    assert plan_sync(local, sealed_listing(first.manifest, local), first.manifest).empty


def test_rerun_after_a_crash_before_deletes_finishes_them(tmp_path: Path) -> None:
    """Killed after the manifest was written but before stale files were deleted: the re-run deletes them."""
    write(tmp_path, SITE)
    b1, remote = deploy(scan(tmp_path), {}, None)
    (tmp_path / "robots.txt").unlink()
    b2 = plan_sync(scan(tmp_path), remote, b1.manifest)
    assert b2.deletes == ["robots.txt"]
    rerun = plan_sync(scan(tmp_path), remote, b2.manifest)  # remote still has robots.txt
    assert rerun.deletes == ["robots.txt"] and not rerun.manifest_changed


def test_changed_paths_survive_a_crash_mid_upload(tmp_path: Path) -> None:
    """Killed after some changed files were uploaded but before the manifest: the re-run still lists
    them as changed, so the invalidation covers them."""
    write(tmp_path, SITE)
    b1, remote = deploy(scan(tmp_path), {}, None)
    (tmp_path / "robots.txt").write_text("changed\n")
    (tmp_path / "index.html").write_text("<html>changed</html>")
    local = scan(tmp_path)
    b2 = plan_sync(local, remote, b1.manifest)
    assert sorted(b2.manifest["changed_paths"]) == ["index.html", "robots.txt"]  # type: ignore[call-overload]
    # The killed run uploaded robots.txt (assets before HTML), then died.
    partial = {**remote, "robots.txt": local["robots.txt"].md5}
    rerun = plan_sync(local, partial, b1.manifest)
    assert [f.key for f in rerun.uploads] == ["index.html"]
    assert sorted(rerun.manifest["changed_paths"]) == ["index.html", "robots.txt"]  # type: ignore[call-overload]


def test_new_file_uploaded_by_a_killed_run_is_not_a_changed_path(tmp_path: Path) -> None:
    """A new asset the killed run already uploaded was never served: the re-run uploads it again (its
    headers are not on record) but does not invalidate it."""
    write(tmp_path, SITE)
    b1, remote = deploy(scan(tmp_path), {}, None)
    (tmp_path / "assets/index-BxK3a9Zq.js").rename(tmp_path / "assets/index-Dd4e5F6g.js")
    local = scan(tmp_path)
    partial = {**remote, "assets/index-Dd4e5F6g.js": local["assets/index-Dd4e5F6g.js"].md5}
    rerun = plan_sync(local, partial, b1.manifest)
    assert [f.key for f in rerun.uploads] == ["assets/index-Dd4e5F6g.js"]
    assert rerun.manifest["changed_paths"] == []
    assert rerun.kept == ["assets/index-BxK3a9Zq.js"]


def test_what_a_killed_first_deploy_landed_is_kept_when_s3_serves_it_with_our_headers(tmp_path: Path) -> None:
    """No manifest yet: the files whose ETag matches are looked at (their headers); those S3 serves as we
    would are not sent again, one served with other headers (another tool's upload) is."""
    write(tmp_path, SITE)
    local = scan(tmp_path)
    landed = {k: local[k].md5 for k in ("robots.txt", "favicon.svg", "assets/index-BxK3a9Zq.js")}
    assert unrecorded_matches(local, {**landed, "about/index.html": "other"}, None) == sorted(landed)
    heads = {k: (local[k].content_type, local[k].cache_control) for k in landed}
    heads["favicon.svg"] = (local["favicon.svg"].content_type, "max-age=60")
    plan = plan_sync(local, landed, None, heads)
    assert sorted(f.key for f in plan.uploads) == sorted(set(local) - {"robots.txt", "assets/index-BxK3a9Zq.js"})
    assert plan.manifest_changed


def test_recorded_files_are_not_looked_at_again(tmp_path: Path) -> None:
    write(tmp_path, SITE)
    first, remote = deploy(scan(tmp_path), {}, None)
    assert unrecorded_matches(scan(tmp_path), remote, first.manifest) == []


def test_foreign_remote_files_are_deleted_after_upload(tmp_path: Path) -> None:
    write(tmp_path, SITE)
    local = scan(tmp_path)
    plan = plan_sync(local, {"old/page.html": "x"}, None)
    assert plan.deletes == ["old/page.html"] and plan.kept == []


def test_build_id_covers_content_and_headers(tmp_path: Path) -> None:
    write(tmp_path, SITE)
    a = scan(tmp_path)
    assert build_id(a) == build_id(dict(reversed(list(a.items()))))
    (tmp_path / "favicon.svg").write_text("<svg></svg>")
    assert build_id(scan(tmp_path)) != build_id(a)


# -- invalidation paths ------------------------------------------------------------------------
def test_invalidation_paths_index_and_directory_forms() -> None:
    assert invalidation_paths(["index.html"]) == ["/", "/index.html"]
    assert invalidation_paths(["docs/index.html", "robots.txt"]) == ["/docs/", "/docs/index.html", "/robots.txt"]
    assert invalidation_paths(["home.html"], index="home.html") == ["/", "/home.html"]
    assert invalidation_paths([]) == []


def test_invalidation_paths_are_url_encoded_where_cloudfront_requires() -> None:
    # AWS: URL-encode non-ASCII and RFC 1738-unsafe characters, nothing else (else InvalidArgument).
    assert invalidation_paths(["docs/My Report.pdf", "café/menü.html", "a+b=c.txt", "100%.txt", "x#y.txt"]) == [
        "/100%25.txt", "/a+b=c.txt", "/caf%C3%A9/men%C3%BC.html", "/docs/My%20Report.pdf", "/x%23y.txt"]
    assert invalidation_paths(["über uns/index.html"]) == ["/%C3%BCber%20uns/", "/%C3%BCber%20uns/index.html"]
    many = [f"neue seiten/{i}.html" for i in range(20)]
    assert invalidation_paths(many) == ["/neue%20seiten/*"]


def test_invalidation_paths_at_the_limit_stay_exact() -> None:
    keys = [f"a/{i}.txt" for i in range(15)]
    assert invalidation_paths(keys) == sorted("/" + k for k in keys)


def test_invalidation_paths_collapse_per_top_level_directory() -> None:
    keys = [f"blog/post-{i}.html" for i in range(20)] + ["robots.txt", "img/a.png", "img/b/c.png"]
    assert invalidation_paths(keys) == ["/blog/*", "/img/*", "/robots.txt"]


def test_invalidation_paths_collapse_to_everything() -> None:
    keys = [f"dir{i}/x.txt" for i in range(10)] + [f"dir{i}/y.txt" for i in range(10)] + \
        [f"file{i}.txt" for i in range(10)]
    assert invalidation_paths(keys) == ["/*"]
    assert invalidation_paths([f"f{i}.txt" for i in range(16)]) == ["/*"]
    assert invalidation_paths([f"f{i}.txt" for i in range(3)], limit=2) == ["/*"]


# -- content types, cache control, fingerprints -------------------------------------------------
@pytest.mark.parametrize(("key", "expected"), [
    ("index.html", "text/html; charset=utf-8"),
    ("a/b.HTM", "text/html; charset=utf-8"),
    ("app.js", "text/javascript; charset=utf-8"),
    ("mod.mjs", "text/javascript; charset=utf-8"),
    ("style.css", "text/css; charset=utf-8"),
    ("data.json", "application/json"),
    ("app.js.map", "application/json"),
    ("site.webmanifest", "application/manifest+json"),
    ("logo.svg", "image/svg+xml"),
    ("robots.txt", "text/plain; charset=utf-8"),
    ("sitemap.xml", "application/xml"),
    ("mod.wasm", "application/wasm"),
    ("f.woff2", "font/woff2"),
    ("favicon.ico", "image/x-icon"),
    ("photo.JPG", "image/jpeg"),
    ("img.webp", "image/webp"),
    ("img.avif", "image/avif"),
    ("doc.pdf", "application/pdf"),
    ("clip.mp4", "video/mp4"),
    ("no-extension", "application/octet-stream"),
    ("blob.unknownext", "application/octet-stream"),
])
def test_content_type(key: str, expected: str) -> None:
    assert content_type(key) == expected


@pytest.mark.parametrize("key", [
    "assets/index-BxK3a9Zq.js",  # vite
    "assets/logo.png",  # a bundler's assets dir
    "_next/static/chunks/main.js",
    "_astro/client.js",
    "static/media/logo.6ce24c58.svg",  # create-react-app
    "main.3f2a9c1b.js",  # webpack [name].[contenthash]
    "index.1a2b3c4d.css",  # parcel
    "chunk-ABCD1234.js",  # esbuild
    "workbox-4754cb34.js",
    "d41d8cd98f00b204e9800998ecf8427e.png",  # file-loader's bare [hash]
    "fonts/inter-var.9a8b7c6d.woff2",
    "app.bundle.0123abcd4567ef89.js",
])
def test_fingerprinted(key: str) -> None:
    assert is_fingerprinted(key)
    assert cache_control(key) == IMMUTABLE


@pytest.mark.parametrize("key", [
    "hero_2024.png",
    "report2024final.pdf",
    "favicon-32x32.png",
    "icon-192x192.png",
    "jquery-3.7.1.min.js",
    "bootstrap.min.css",
    "img/team-2023-offsite.jpg",
    "robots.txt",
    "favicon.svg",
    "sw.js",
    "_app-abc123.js",
    "DSC01234.jpg",  # a camera's file name, not a hash
    "P1010001.JPG",
    "html5shiv.js",
    "photo-20240115.jpg",  # a date
    "news/2024-01-15.json",
])
def test_not_fingerprinted(key: str) -> None:
    assert not is_fingerprinted(key)
    assert cache_control(key) == REVALIDATE


def test_html_always_revalidates() -> None:
    assert cache_control("assets/page.html") == REVALIDATE
    assert cache_control("index-BxK3a9Zq.html") == REVALIDATE
    assert not is_fingerprinted("assets/page.html")


def test_the_manifest_is_stored_gzipped_and_read_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip
    import json
    import zlib

    from tscloud_py.presets.steps import upload
    from tscloud_py.presets.steps.upload import manifest_body, parse_manifest

    manifest = {"build_id": "b2", "files": {f"assets/f-{i:05}.js": {
        "md5": f"{i:032x}", "content_type": "text/javascript; charset=utf-8",
        "cache_control": "public, max-age=31536000, immutable"} for i in range(1000)}}
    body = manifest_body(manifest)
    plain = json.dumps(manifest, separators=(",", ":")).encode()
    assert body[:2] == b"\x1f\x8b" and len(body) * 4 < len(plain)  # what goes up on every changing deploy
    assert manifest_body(manifest) == body  # the same manifest is the same bytes (and ETag)
    assert parse_manifest(body) == manifest
    assert parse_manifest(plain) == manifest  # as older runs stored it
    assert parse_manifest(gzip.compress(b"[1, 2]")) is None and parse_manifest(b"\x1f\x8bnot gzip") is None
    # a body that inflates past the bound is not taken (the bucket is listed instead)
    monkeypatch.setattr(upload, "MANIFEST_MAX_BYTES", len(plain))
    assert parse_manifest(body) == manifest
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = squeeze.compress(b" " * (len(plain) + 1)) + squeeze.flush()
    assert parse_manifest(bomb) is None
