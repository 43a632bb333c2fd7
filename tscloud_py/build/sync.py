"""Planning an S3 sync from two file listings: pure functions, no AWS.

Files are compared by content (MD5, which is also the ETag S3 reports for a
single-part upload), never by mtime, so a rebuild with identical content
uploads nothing. Fingerprinted files (``index-3f2a9c1b.js``, anything under a
bundler's ``assets/`` dir) are served ``immutable``; HTML and everything else
must revalidate. Fingerprinted files of the previous build are kept for one
more deploy so that pages already open in a browser can still load them.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from tscloud_py.build.hash_cache import HashCache, Hashed
from tscloud_py.build.publish import walk

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
MANIFEST_KEY = "_tscloud/manifest.json"

# A hash-like segment: 8+ url-safe chars with at least one digit, or 8+ hex chars,
# delimited by '.', '-' or '_' (Vite: index-BxK3a9Zq.js, webpack: main.3f2a9c1b.js).
# '_' is deliberately neither part of a hash nor a delimiter: "hero_2024.png" is a name, not a hash.
# A word-like run of 5+ lowercase letters ("report2024final") is a name, not a hash.
_HASH_SEGMENT = re.compile(
    r"(?:^|[.\-~])(?:[0-9a-f]{8,64}|(?![A-Za-z0-9]*[a-z]{5})(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{8,32})(?=[.\-~]|$)"
)
_IMMUTABLE_DIRS = ("assets/", "_next/static/", "_nuxt/", "_astro/", "_app/immutable/", "static/media/")

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".wasm": "application/wasm",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".pdf": "application/pdf",
    ".mp4": "video/mp4",
}


# Files this big are uploaded in parts of PART_SIZE, several at once; S3 then reports an ETag made of
# the parts' MD5s, which the sync plan must predict to recognise the file as unchanged. The sizes are
# `aws s3`'s defaults, so a file it uploaded compares equal too.
MULTIPART_THRESHOLD = 8 * 1024 * 1024
PART_SIZE = 8 * 1024 * 1024


@dataclass(frozen=True)
class LocalFile:
    key: str
    path: Path
    md5: str  # hex, of the whole content
    size: int
    content_type: str
    cache_control: str
    part_md5s: tuple[str, ...] = ()  # hex, of each PART_SIZE part, when the file is uploaded in parts

    @property
    def multipart(self) -> bool:
        return bool(self.part_md5s)

    @property
    def etag(self) -> str:
        """The ETag S3 reports once we uploaded this file (MD5 for one part; MD5 of part MD5s, -count)."""
        if not self.part_md5s:
            return self.md5
        joined = b"".join(bytes.fromhex(m) for m in self.part_md5s)
        return f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(self.part_md5s)}"

    @property
    def fingerprinted(self) -> bool:
        return self.cache_control == IMMUTABLE



def _name(key: str) -> str:
    return key.rpartition("/")[2]


def _suffix(name: str) -> str:
    """PurePosixPath's suffix, without building a path for each of a hundred thousand keys."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def content_type(key: str) -> str:
    suffix = _suffix(_name(key)).lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(key)
    return guessed or "application/octet-stream"


# A whole file name is a hash only when it is a long hex digest (file-loader's bare [hash].png);
# short whole names like DSC01234 or html5shiv are names. An 8-digit date is a name too.
_BARE_HASH = re.compile(r"[0-9a-f]{16,64}")
_DATE = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


def is_page(key: str) -> bool:
    return key.endswith((".html", ".htm"))


def is_fingerprinted(key: str) -> bool:
    if key.startswith(_IMMUTABLE_DIRS) and not is_page(key):
        return True
    name = _name(key)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    for match in _HASH_SEGMENT.finditer(stem + "."):
        segment = match.group(0).lstrip(".-~")
        if segment == stem and not _BARE_HASH.fullmatch(segment):
            continue
        if _DATE.fullmatch(segment):
            continue
        return True
    return False


def cache_control(key: str) -> str:
    if is_page(key):
        return REVALIDATE
    return IMMUTABLE if is_fingerprinted(key) else REVALIDATE


def scan(root: Path, include: Sequence[str] = (), *, key_prefix: str = "",
         cache: HashCache | None = None) -> dict[str, LocalFile]:
    """Every file under ``root`` keyed by its S3 key (posix, relative), as ``publish.walk`` allows:
    private files (dotfiles, keys) only when ``include`` names them; a link out of ``root`` raises.
    A file whose stat ``cache`` knows is not read."""
    return hash_files(walk(root, include=include, key_prefix=key_prefix).files, cache)


def hash_files(paths: Mapping[str, Path], cache: HashCache | None = None, *,
               key_prefix: str = "") -> dict[str, LocalFile]:
    """``scan`` of files already walked (relative path -> path), keyed by ``key_prefix`` + that path; the
    headers are the relative path's."""
    files: dict[str, LocalFile] = {}
    for rel, path in paths.items():
        st = path.stat()
        hashed = cache.get(rel, st) if cache is not None else None
        if hashed is None:
            hashed = _hash(path, st.st_size)
            if cache is not None:
                cache.put(rel, st, hashed)
        key = key_prefix + rel
        files[key] = LocalFile(key, path, hashed.md5, st.st_size, content_type(rel), cache_control(rel),
                               hashed.part_md5s)
    if cache is not None:
        cache.save()
    return files


def _hash(path: Path, size: int) -> Hashed:
    digest = hashlib.md5(usedforsecurity=False)
    parts: list[str] = []
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(PART_SIZE), b""):
            digest.update(chunk)
            if size >= MULTIPART_THRESHOLD:
                parts.append(hashlib.md5(chunk, usedforsecurity=False).hexdigest())
    return Hashed(digest.hexdigest(), tuple(parts))


def build_id(files: Mapping[str, LocalFile]) -> str:
    """A hash of the whole build: keys, contents and the headers we serve them with."""
    h = hashlib.sha256()
    for key in sorted(files):
        f = files[key]
        h.update(f"{key}\0{f.md5}\0{f.content_type}\0{f.cache_control}\n".encode())
    return h.hexdigest()[:20]


@dataclass
class SyncPlan:
    uploads: list[LocalFile] = field(default_factory=list)  # the ``ahead`` first, then the rest, pages last
    deletes: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # previous build's fingerprinted files, kept one deploy
    overwritten: list[str] = field(default_factory=list)  # keys that existed with other content/headers
    manifest: dict[str, object] = field(default_factory=dict)
    manifest_changed: bool = False
    # How many of ``uploads`` must be in the bucket before any of the rest is sent: the files at keys the
    # bucket does not have yet, when pages are uploaded too. A page sent beside one of them could be served
    # before it, and a viewer would get a 404 that CloudFront caches. A file overwritten in place already
    # answers, with the bytes the edge serves anyway until the invalidation, so pages go out beside it.
    ahead: int = 0

    def waves(self) -> list[list[LocalFile]]:
        """``uploads`` in the groups to send one after the other, each all at once."""
        return [wave for wave in (self.uploads[:self.ahead], self.uploads[self.ahead:]) if wave]

    @property
    def empty(self) -> bool:
        return not self.uploads and not self.deletes and not self.manifest_changed

    def summary(self) -> str:
        parts = []
        if self.uploads:
            parts.append(f"upload {len(self.uploads)} files")
        if self.deletes:
            parts.append(f"delete {len(self.deletes)} stale files")
        if self.kept:
            parts.append(f"keep {len(self.kept)} previous-build assets one more deploy")
        return ", ".join(parts) or "record the build manifest"


def _recorded_files(manifest: Mapping[str, object] | None) -> dict[str, dict[str, str]]:
    return dict((manifest or {}).get("files", {}) or {})  # type: ignore[call-overload]


def sealed_listing(manifest: Mapping[str, object], local: Mapping[str, LocalFile]) -> dict[str, str]:
    """What a listing would find in a bucket sealed with ``manifest`` (key -> ETag): its files and the
    previous build's kept ones, nothing else.

    A manifest records each file's MD5, not the ETag a multipart upload got; a file whose MD5 is the local
    one's has the local file's ETag, any other gets its MD5 (never equal to a local ETag it differs from).
    A kept file's bytes are not recorded: it lists with an empty ETag, so a build that has it again
    uploads it."""
    listing = {str(k): "" for k in manifest.get("kept", []) or []}  # type: ignore[attr-defined]
    for key, record in _recorded_files(manifest).items():
        md5 = str(record.get("md5") or "")
        f = local.get(key)
        listing[key] = f.etag if f is not None and f.md5 == md5 else md5
    return listing


def unrecorded_matches(local: Mapping[str, LocalFile], remote_etags: Mapping[str, str],
                       manifest: Mapping[str, object] | None) -> list[str]:
    """Keys whose object already holds our bytes but that no manifest records: uploaded by a run that
    was killed before it wrote its manifest, or by another tool. Only their headers (one HEAD each)
    tell whether they can stay; without that, a re-run after a crash would send them all again."""
    recorded = _recorded_files(manifest)
    return sorted(k for k, f in local.items() if k not in recorded and remote_etags.get(k) == f.etag)


def plan_sync(local: Mapping[str, LocalFile], remote_etags: Mapping[str, str],
              manifest: Mapping[str, object] | None,
              remote_headers: Mapping[str, tuple[str, str]] | None = None) -> SyncPlan:
    """What to upload and delete to make the bucket serve ``local``.

    ``remote_etags`` is the bucket listing (key -> ETag, manifest excluded);
    ``manifest`` is the previous deploy's manifest (None for a first deploy);
    ``remote_headers`` the (Content-Type, Cache-Control) S3 holds for the ``unrecorded_matches``.
    """
    previous = dict(manifest or {})
    prev_files = _recorded_files(manifest)
    heads = remote_headers or {}
    uploads: list[LocalFile] = []
    overwritten: list[str] = []
    for key, f in local.items():
        etag = remote_etags.get(key)
        recorded = prev_files.get(key, {})
        same_content = etag == f.etag
        same_headers = ((recorded.get("content_type"), recorded.get("cache_control")) == (f.content_type,
                                                                                           f.cache_control)
                        or (not recorded and heads.get(key) == (f.content_type, f.cache_control)))
        if same_content and same_headers:
            if recorded.get("md5") not in (None, f.md5):
                # Uploaded by a run that died before writing its manifest: still a change to invalidate.
                overwritten.append(key)
            continue
        uploads.append(f)
        # Changed for viewers only if it was there before with other bytes or other headers; a new file
        # that a killed run already uploaded (no record of it in the manifest) was never served.
        if etag is not None and (etag != f.etag or (recorded and not same_headers)):
            overwritten.append(key)
    pages = any(is_page(f.key) for f in uploads)
    ahead = {f.key for f in uploads if pages and not is_page(f.key) and f.key not in remote_etags}
    uploads.sort(key=lambda f: (f.key not in ahead, is_page(f.key), f.key))

    new_id = build_id(local)
    same_build = previous.get("build_id") == new_id
    stale = sorted(k for k in remote_etags if k not in local)
    if same_build:
        # A re-run of the recorded build keeps exactly what that deploy decided to keep.
        keep = set(previous.get("kept", []) or [])  # type: ignore[call-overload]
    else:
        # A new build keeps the fingerprinted files of the build it replaces, for one deploy.
        keep = {k for k, rec in prev_files.items() if rec.get("cache_control") == IMMUTABLE}
    kept = [k for k in stale if k in keep]
    deletes = [k for k in stale if k not in keep]

    changed_paths = sorted(set(overwritten) | set(deletes))
    if same_build:
        new_manifest = dict(previous)
        manifest_changed = False
    else:
        new_manifest = {
            "build_id": new_id,
            "previous_build_id": previous.get("build_id"),
            "changed_paths": changed_paths,
            "kept": kept,
            "files": {k: {"md5": f.md5, "content_type": f.content_type, "cache_control": f.cache_control}
                      for k, f in sorted(local.items())},
        }
        manifest_changed = True
    return SyncPlan(uploads, deletes, kept, overwritten, new_manifest, manifest_changed, len(ahead))


def invalidation_paths(keys: Iterable[str], *, index: str = "index.html", limit: int = 15) -> list[str]:
    """CloudFront paths for changed keys, collapsed to wildcards past ``limit``.

    ``a/index.html`` also invalidates ``/a/`` (how it is requested). Past the
    limit, paths collapse to one wildcard per top-level directory, then to ``/*``.
    """
    paths: set[str] = set()
    for key in keys:
        paths.add("/" + key)
        if key == index:
            paths.add("/")
        elif key.endswith("/" + index):
            paths.add("/" + key[: -len(index)])
    if len(paths) <= limit:
        return sorted(_url_path(p) for p in paths)
    grouped: set[str] = set()
    for p in paths:
        parts = p.strip("/").split("/")
        grouped.add(f"/{parts[0]}/*" if len(parts) > 1 else p)
    if len(grouped) <= limit:
        return sorted(_url_path(p) for p in grouped)
    return ["/*"]


def _url_path(path: str) -> str:
    """CloudFront wants non-ASCII and RFC 1738-unsafe characters (space, %, #, ...) URL-encoded in an
    invalidation path, and nothing else: a key like "docs/My Report.pdf" is "/docs/My%20Report.pdf"."""
    return quote(path, safe="/!$&'()*+,;=:@?~")
