"""Uploading a build to its bucket, and invalidating only what changed."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.s3 import S3, UNCHANGED
from tscloud_py.aws.s3_put import Upload
from tscloud_py.build.hash_cache import HashCache
from tscloud_py.build.kept_manifest import KeptManifest
from tscloud_py.build.publish import Tree, walk
from tscloud_py.build.sync import (
    MANIFEST_KEY,
    PART_SIZE,
    LocalFile,
    SyncPlan,
    hash_files,
    invalidation_paths,
    plan_sync,
    sealed_listing,
    unrecorded_matches,
)
from tscloud_py.concurrency import Background, together
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.presets.naming import Names

# Sized for latency, not for this machine: a request to a far S3 endpoint is mostly waiting, so
# 1,000 small files at 64 at once and 30 ms a round trip take 16 round trips, about half a second.
DEFAULT_UPLOAD_CONCURRENCY = 64
GZIP_MAGIC = b"\x1f\x8b"
# A manifest past this inflated is not taken (a 100,000-file site's is 15 MB): the bucket is listed.
MANIFEST_MAX_BYTES = 256 * 1024 * 1024
# Keys per listed range: a page holds 1,000, and the slack is for what the bucket has and the build
# has not (its manifest, stale files), which would otherwise cost a second page, one round trip later.
LIST_SPLIT = 800


@dataclass
class BucketContents:
    etags: dict[str, str]  # key -> ETag: listed, or what the sealed manifest says a listing would find
    manifest: dict[str, Any] | None
    headers: dict[str, tuple[str, str]]  # of the objects that hold our bytes but are on no manifest
    manifest_etag: str | None = None
    plan: SyncPlan | None = None  # worked out once, for diff, apply and outputs alike


def manifest_body(manifest: dict[str, Any]) -> bytes:
    """The manifest as stored: compact JSON, which the standard library encodes in C (an indented document
    is encoded in Python, ten times slower), gzipped (``Content-Encoding: gzip``). Its entries repeat the
    same types and headers: a 1,000-file site's 144 KB goes up as 28 KB, a 100,000-file site's 14.6 MB as
    about 3 MB, on every deploy that changes a file. ``mtime=0``: the same manifest is the same bytes."""
    return gzip.compress(json.dumps(manifest, separators=(",", ":")).encode(), compresslevel=1, mtime=0)


def parse_manifest(raw: bytes | None) -> dict[str, Any] | None:
    """The manifest a body holds (gzipped, or plain JSON as older runs stored it); None for one that is
    not a manifest, or inflates past ``MANIFEST_MAX_BYTES`` (the bucket is then listed instead)."""
    if not raw:
        return None
    if raw[:2] == GZIP_MAGIC:
        inflate = zlib.decompressobj(wbits=31)
        try:
            raw = inflate.decompress(raw, MANIFEST_MAX_BYTES)
        except zlib.error:
            return None
        if inflate.unconsumed_tail:
            return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


class UploadStep(Step):
    """Sync a directory to the bucket: only changed files, in parallel, pages after the new files they may
    reference, stale files after.

    The bucket is listed unless the journal holds a seal that still stands. A sync that ended with the
    bucket holding exactly what its manifest records (its own files, the kept ones, nothing else: a
    finished apply, or a listing that found nothing to do) outputs ``sealed``, that manifest's ETag. The
    next run trusts the manifest instead of a listing only when the journal is current (the run that wrote
    it finished, and no run held the lock after it without finishing: a run that stops early marks the
    journal unfinished before it gives the lock back, and one that dies leaves a lock the next run takes
    over) and the manifest in the bucket still has that ETag. Objects changed by hand behind tscloud's
    back are found by the next run that lists.
    """

    kind = "S3 upload"
    has_resources = False
    provides = frozenset({"build_id", "previous_build_id", "changed_paths", "files", "sealed", "manifest_written"})

    def __init__(self, step_id: str, s3: S3, source: Path, *, needs: Sequence[str], bucket: Ref[str],
                 prefix: str = "", concurrency: int | None = None, include: tuple[str, ...] = (),
                 hash_cache: Path | None = None, walked: Callable[[], Tree | None] | None = None) -> None:
        """``walked``: the build's tree if this run already walked it (the preset's check of what it
        publishes, ``Preset.checked_tree``), else None and the step walks it."""
        self.id = step_id
        self.s3 = s3
        self.source = source
        self.needs = tuple(needs)
        self.bucket = bucket
        self.prefix = prefix
        self.concurrency = concurrency or DEFAULT_UPLOAD_CONCURRENCY
        self.include = include
        self.hash_cache = hash_cache  # a directory: hashes of unchanged files are not computed again
        self.walked = walked
        self.hashed = 0  # files read and hashed by this run (the others' stat matched the cache)
        self._tree: dict[str, Path] | None = None
        self._local: dict[str, LocalFile] | None = None

    @property
    def tree(self) -> dict[str, Path]:
        """The build's files by relative path, walked once: what the listing is split by, before any is
        hashed."""
        if self._tree is None:
            tree = self.walked() if self.walked is not None else None
            if tree is None:
                tree = walk(self.source, include=self.include, key_prefix=self.prefix)
            self._tree = tree.files
        return self._tree

    @property
    def local(self) -> dict[str, LocalFile]:
        if self._local is None:
            cache = HashCache.of(self.hash_cache, self.source)
            self._local = hash_files(self.tree, cache, key_prefix=self.prefix)
            self.hashed = cache.misses
        return self._local

    @property
    def manifest_key(self) -> str:
        return self.prefix + MANIFEST_KEY

    def _kept(self, bucket: str) -> KeptManifest:
        return KeptManifest.of(self.hash_cache, f"{bucket}/{self.manifest_key}")

    def read(self, ctx: StepContext) -> BucketContents | None:
        """None when nothing was ever uploaded (no object, no manifest): the first upload creates."""
        bucket = ctx.get(self.bucket)
        seal = ctx.recorded("sealed") if ctx.journal_current else None
        if seal:
            # The local build is hashed while the manifest is on its way; where this working copy kept the
            # sealed manifest, S3 is asked only whether it still has that ETag (no body: a 100,000-file
            # site's manifest is megabytes).
            kept = self._kept(bucket).read(seal)
            found, _ = together(lambda: self.s3.get_object_tagged(bucket, self.manifest_key,
                                                                  unless=seal if kept is not None else None),
                                lambda: self.local)
            if found is UNCHANGED and kept is not None:
                found = (kept, seal)
            elif found is not None and found is not UNCHANGED:
                self._kept(bucket).keep(*found)
            manifest = parse_manifest(found[0]) if found is not None and found is not UNCHANGED else None
            if found is not None and found[1] == seal and manifest is not None:
                return BucketContents(sealed_listing(manifest, self.local), manifest, {}, seal)
        # The local build is hashed while the bucket's listing is on its way. The listing is split into
        # ranges of the build's keys, asked at once: the bucket holds about what the build has.
        after = [self.prefix + k for k in sorted(self.tree)[LIST_SPLIT - 1:-1:LIST_SPLIT]]
        listing, found, _ = together(
            lambda: self.s3.list_objects_split(bucket, self.prefix, after, concurrency=self.concurrency),
            lambda: self.s3.get_object_tagged(bucket, self.manifest_key),
            lambda: self.local)
        etags = {o.key: o.etag for o in listing if not o.key.startswith(self.prefix + "_tscloud/")}
        manifest = parse_manifest(found[0]) if found is not None else None
        if found is not None and manifest is not None:
            self._kept(bucket).keep(*found)
        if not etags and not listing and manifest is None:
            return None
        unrecorded = unrecorded_matches(self.local, etags, manifest)
        return BucketContents(etags, manifest,
                              self.s3.served_headers(bucket, unrecorded, concurrency=self.concurrency),
                              found[1] if found is not None and manifest is not None else None)

    def plan(self, observed: BucketContents | None) -> SyncPlan:
        if observed is None:
            return plan_sync(self.local, {}, None, {})
        if observed.plan is None:
            observed.plan = plan_sync(self.local, observed.etags, observed.manifest, observed.headers)
        return observed.plan

    def diff(self, ctx: StepContext, observed: BucketContents | None) -> list[Change]:
        plan = self.plan(observed)
        if plan.empty:
            return []
        changes = [Change(plan.summary())]
        changes += [Change(f"upload {f.key}") for f in plan.uploads[:10]]
        changes += [Change(f"delete {k}", destructive=True) for k in plan.deletes[:10]]
        return changes

    def apply(self, ctx: StepContext, observed: BucketContents | None) -> Outputs:
        bucket = ctx.get(self.bucket)
        plan = self.plan(observed)
        ctx.log(f"hashed {self.hashed} of {len(self.local)} files (the others' size, mtime and inode are "
                "unchanged since the last run)")
        if plan.uploads:
            ctx.log(f"uploading {len(plan.uploads)} files, {self.concurrency} at once")
        # A killed run's unfinished multipart uploads are aborted beside ours, or before ours when we
        # have some (started first, ours could be among those listed).
        tidy = Background(lambda: self.s3.abort_multipart_uploads(bucket, self.prefix),
                          name="multipart-tidy") if plan.uploads else None
        if tidy is not None and any(f.multipart for f in plan.uploads):
            tidy.result()
        # The manifest goes up beside the files, not after them: what makes a manifest trusted is its seal,
        # its ETag in this step's journal record, which exists only once every file below is in place (a
        # failed or killed upload leaves no record, and the next run lists the bucket). It is encoded on its
        # own thread too, beside the files' PUTs rather than before them.
        def put_manifest() -> tuple[bytes, str | None]:
            body = manifest_body(plan.manifest)
            return body, self.s3.put_object(bucket, self.manifest_key, body, content_type="application/json",
                                            cache_control="no-cache", content_encoding="gzip")

        manifest = Background(put_manifest, name="manifest") if plan.manifest_changed else None
        try:
            # A page is never served before a file it may reference that the bucket does not have yet.
            for wave in plan.waves():
                self.s3.upload(bucket, [self._upload(f) for f in wave], concurrency=self.concurrency)
            if tidy is not None:
                tidy.result()
        finally:
            if manifest is not None:
                manifest.wait()
        body, sealed = manifest.result() if manifest is not None else \
            (b"", observed.manifest_etag if observed is not None else None)
        if plan.manifest_changed and sealed:
            self._kept(bucket).keep(body, sealed)
        # Only now, with the new build in place, remove what it no longer has.
        if plan.deletes:
            self.s3.delete_objects(bucket, plan.deletes)
        return self._outputs(plan.manifest, len(self.local), sealed=sealed, written=plan.manifest_changed)

    @staticmethod
    def _upload(f: LocalFile) -> Upload:
        return Upload(f.key, f.path, f.md5, f.content_type, f.cache_control, f.part_md5s, PART_SIZE)

    def outputs(self, ctx: StepContext, observed: BucketContents | None) -> Outputs:
        # Sealed only when there is nothing to do: the bucket then holds what its manifest records (outputs
        # are also asked of an unselected step, whose bucket may differ).
        sealed = observed.manifest_etag if observed is not None and self.plan(observed).empty else None
        return self._outputs((observed.manifest if observed else None) or {}, len(self.local), sealed=sealed,
                             written=False)

    def _outputs(self, manifest: dict[str, Any], count: int, *, sealed: str | None, written: bool) -> Outputs:
        return {
            "build_id": manifest.get("build_id"),
            "previous_build_id": manifest.get("previous_build_id"),
            "changed_paths": list(manifest.get("changed_paths") or []),
            "files": count,
            "sealed": sealed,
            "manifest_written": written,  # this run put the build's manifest in place
        }

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        return None  # the bucket step empties the bucket


class InvalidationStep(Step):
    """Invalidate the paths the last upload changed; none when nothing changed.

    Reality decides: the newest invalidation's CallerReference names the build
    it was made for, so a run killed between upload and invalidation still
    invalidates on the next run, and a finished one never does it twice.

    The deploy does not wait for CloudFront to finish (seconds to minutes on AWS, while edges still holding
    the old files drop them), unless ``wait`` asks: the next deploy needs nothing of it, and a pipeline
    that checks the live site right after asks for the wait (``deploy --wait-invalidation``).
    """

    kind = "CloudFront invalidation"
    has_resources = False
    settled_by_read = True  # the newest invalidation's CallerReference names the build it was made for

    def __init__(self, step_id: str, cloudfront: CloudFront, names: Names, *, needs: Sequence[str],
                 upload: UploadStep, distribution_id: Ref[str], limit: int = 15, index: str = "index.html",
                 wait: bool = False) -> None:
        self.id = step_id
        self.wait = wait
        self.cloudfront = cloudfront
        self.names = names
        self.needs = tuple(needs)
        self.build_id: Ref[str | None] = upload.output("build_id")
        self.previous_build_id: Ref[str | None] = upload.output("previous_build_id")
        self.changed_paths: Ref[list[str]] = upload.output("changed_paths")
        self.manifest_written: Ref[bool] = upload.output("manifest_written")
        self.distribution_id = distribution_id
        self.limit = limit
        self.index = index
        self.prefix = upload.prefix
        self.upload_id = upload.id

    def settled_while_pending(self, step_id: str) -> bool:
        # The upload waits for its bucket only when there is none yet: a first build, never invalidated.
        return step_id == self.upload_id

    def _paths(self, ctx: StepContext) -> list[str]:
        if not ctx.get(self.previous_build_id):
            return []  # a first build: nothing of it can be cached yet
        keys = [k[len(self.prefix):] for k in ctx.get(self.changed_paths)]
        return invalidation_paths(keys, index=self.index, limit=self.limit)

    def _reference(self, ctx: StepContext) -> str:
        return f"tscloud-{self.names.prefix}-{ctx.get(self.build_id)}"

    def read(self, ctx: StepContext) -> dict[str, Any]:
        if not self._paths(ctx) or ctx.get(self.manifest_written):
            # This run put the build in place: viewers may hold what it replaced, whatever an earlier
            # invalidation with this build's reference refreshed (a build can come back after another).
            return {"latest": None}
        dist_id = ctx.get(self.distribution_id)
        return {"latest": self.cloudfront.latest_invalidation_reference(dist_id)}

    def diff(self, ctx: StepContext, observed: dict[str, Any]) -> list[Change]:
        paths = self._paths(ctx)
        if not paths or observed.get("latest") == self._reference(ctx):
            return []
        return [Change(f"invalidate {', '.join(paths)}")]

    def apply(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        dist_id = ctx.get(self.distribution_id)
        inv_id = self.cloudfront.create_invalidation(dist_id, self._paths(ctx), self._reference(ctx))
        if self.wait:
            self.cloudfront.wait_invalidation(dist_id, inv_id, progress=ctx.progress(), clock=ctx.clock)
        else:
            ctx.log(f"invalidation {inv_id} sent; CloudFront finishes it on its own (deploy --wait-invalidation "
                    "waits for it)")
        return {"invalidation_id": inv_id}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        return None
