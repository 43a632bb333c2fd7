"""S3: buckets with their guard rails (Block Public Access, encryption, ownership, TLS-only policy) and objects."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from tscloud_py.aws.s3_put import ObjectPutter, Upload, b64_md5
from tscloud_py.aws.session import ClientFactory, call, ignoring, paginate
from tscloud_py.concurrency import each, together
from tscloud_py.errors import AwsError

T = TypeVar("T")

UNCHANGED: tuple[bytes, str] = (b"", "")  # ``get_object_tagged(..., unless=etag)``: the object still has that ETag

BLOCK_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
SSE_S3 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]}


@dataclass
class BucketState:
    name: str
    tags: dict[str, str]
    public_access_block: dict[str, bool]
    encryption: str | None  # the default SSE algorithm
    ownership: str | None


@dataclass
class RemoteObject:
    key: str
    etag: str  # without quotes
    size: int


_OBJECT_HEADERS = (("ContentType", "Content-Type"), ("ContentLength", "Content-Length"), ("ETag", "ETag"),
                   ("CacheControl", "Cache-Control"), ("ContentEncoding", "Content-Encoding"),
                   ("ContentDisposition", "Content-Disposition"))


@dataclass
class ObjectRead:
    headers: dict[str, str]
    body: Iterator[bytes] | None


class S3:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.factory = factory
        self.region = region or factory.region
        self._putters: dict[tuple[str, int], ObjectPutter] = {}  # an upload's waves share one (one presign)
        factory.want("s3", self.region)

    @property
    def _client(self) -> Any:
        return self.factory.client("s3", self.region)

    # -- buckets -----------------------------------------------------------------
    def describe_bucket(self, name: str) -> BucketState | None:
        """The bucket's settings, None when there is no such bucket. The four are read at once (one round
        trip), and no existence check is sent beside them: on a bucket that is not there each fails
        NoSuchBucket, on one that is someone else's each is refused, and the tags' answer says which."""
        def absent_ok(read: Callable[[str], T]) -> Callable[[], T | None]:
            def run() -> T | None:
                with ignoring("NoSuchBucket"):
                    return read(name)
                return None
            return run

        tags, pab, encryption, ownership = together(
            lambda: self._owned_tags(name), absent_ok(self._public_access_block), absent_ok(self._encryption),
            absent_ok(self._ownership))
        if tags is None:
            return None
        return BucketState(name, tags, pab or {}, encryption, ownership)

    def _owned_tags(self, name: str) -> dict[str, str] | None:
        """The bucket's tags; None if it does not exist; AwsError if someone else owns it."""
        try:
            return self._tags(name)
        except AwsError as exc:
            if exc.code == "NoSuchBucket":
                return None
            if exc.code in ("AccessDenied", "403"):
                raise AwsError("s3:GetBucketTagging", "BucketAlreadyExists",
                               f"bucket {name} exists but is not accessible to these credentials") from exc
            raise

    def _tags(self, name: str) -> dict[str, str]:
        with ignoring("NoSuchTagSet", "NoSuchTagSetError"):
            resp = call(self._client.get_bucket_tagging, "s3:GetBucketTagging", Bucket=name)
            return {t["Key"]: t["Value"] for t in resp.get("TagSet", [])}
        return {}

    def _public_access_block(self, name: str) -> dict[str, bool]:
        with ignoring("NoSuchPublicAccessBlockConfiguration"):
            resp = call(self._client.get_public_access_block, "s3:GetPublicAccessBlock", Bucket=name)
            return dict(resp.get("PublicAccessBlockConfiguration", {}))
        return {}

    def _encryption(self, name: str) -> str | None:
        with ignoring("ServerSideEncryptionConfigurationNotFoundError"):
            resp = call(self._client.get_bucket_encryption, "s3:GetBucketEncryption", Bucket=name)
            rules = resp.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
            if rules:
                found = rules[0].get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
                return str(found) if found else None
        return None

    def _ownership(self, name: str) -> str | None:
        with ignoring("OwnershipControlsNotFoundError"):
            resp = call(self._client.get_bucket_ownership_controls, "s3:GetBucketOwnershipControls", Bucket=name)
            rules = resp.get("OwnershipControls", {}).get("Rules", [])
            if rules:
                found = rules[0].get("ObjectOwnership")
                return str(found) if found else None
        return None

    def create_bucket(self, name: str) -> None:
        kwargs: dict[str, Any] = {"Bucket": name, "ObjectOwnership": "BucketOwnerEnforced"}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        with ignoring("BucketAlreadyOwnedByYou"):
            call(self._client.create_bucket, "s3:CreateBucket", **kwargs)

    def block_public_access(self, name: str) -> None:
        call(self._client.put_public_access_block, "s3:PutPublicAccessBlock", Bucket=name,
             PublicAccessBlockConfiguration=BLOCK_ALL)

    def enable_default_encryption(self, name: str) -> None:
        call(self._client.put_bucket_encryption, "s3:PutBucketEncryption", Bucket=name,
             ServerSideEncryptionConfiguration=SSE_S3)

    def enforce_bucket_owner(self, name: str) -> None:
        call(self._client.put_bucket_ownership_controls, "s3:PutBucketOwnershipControls", Bucket=name,
             OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})

    def put_tags(self, name: str, tags: dict[str, str]) -> None:
        call(self._client.put_bucket_tagging, "s3:PutBucketTagging", Bucket=name,
             Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]})

    def get_policy(self, name: str) -> dict[str, Any] | None:
        with ignoring("NoSuchBucketPolicy"):
            resp = call(self._client.get_bucket_policy, "s3:GetBucketPolicy", Bucket=name)
            return dict(json.loads(resp["Policy"]))
        return None

    def put_policy(self, name: str, policy: dict[str, Any]) -> None:
        call(self._client.put_bucket_policy, "s3:PutBucketPolicy", Bucket=name, Policy=json.dumps(policy))

    def delete_policy(self, name: str) -> None:
        with ignoring("NoSuchBucket", "NoSuchBucketPolicy"):
            call(self._client.delete_bucket_policy, "s3:DeleteBucketPolicy", Bucket=name)

    def empty_and_delete(self, name: str) -> int:
        """Delete every object version and delete marker, then the bucket. Returns objects removed."""
        removed = 0
        with ignoring("NoSuchBucket"):
            batch: list[dict[str, str]] = []
            for kind in ("Versions", "DeleteMarkers"):
                for v in paginate(self._client, "list_object_versions", kind, Bucket=name):
                    batch.append({"Key": v["Key"], "VersionId": v["VersionId"]})
                    if len(batch) == 1000:
                        removed += self._delete_batch(name, batch)
                        batch = []
            if batch:
                removed += self._delete_batch(name, batch)
            # Unversioned buckets list plain objects too (moto lists them as versions; AWS does as well).
            keys = [o.key for o in self.list_objects(name)]
            removed += self.delete_objects(name, keys)
            call(self._client.delete_bucket, "s3:DeleteBucket", Bucket=name)
        return removed

    def _delete_batch(self, name: str, objects: list[dict[str, str]]) -> int:
        resp = call(self._client.delete_objects, "s3:DeleteObjects", Bucket=name,
                    Delete={"Objects": objects, "Quiet": True})
        errors = resp.get("Errors") or []
        if errors:
            first = errors[0]
            raise AwsError("s3:DeleteObjects", str(first.get("Code")), f"{first.get('Key')}: {first.get('Message')}")
        return len(objects)

    # -- objects -----------------------------------------------------------------
    def list_objects(self, name: str, prefix: str = "") -> Iterator[RemoteObject]:
        for obj in paginate(self._client, "list_objects_v2", "Contents", Bucket=name, Prefix=prefix):
            yield _remote(obj)

    def list_objects_split(self, name: str, prefix: str, after: list[str], *,
                           concurrency: int) -> list[RemoteObject]:
        """Every object under ``prefix``, listed as key ranges at once: up to the first of ``after`` (sorted
        keys), then after each one up to the next. Split every few hundred keys, a listing costs a round
        trip or two, not one per thousand objects."""
        client = self.factory.client("s3", self.region, connections=concurrency)
        edges: list[str | None] = [None, *after, None]

        def span(i: int) -> list[RemoteObject]:
            start, stop = edges[i], edges[i + 1]
            kwargs: dict[str, Any] = {"Bucket": name, "Prefix": prefix}
            if start is not None:
                kwargs["StartAfter"] = start
            found: list[RemoteObject] = []
            while True:
                page = call(client.list_objects_v2, "s3:ListObjectsV2", **kwargs)
                for obj in page.get("Contents", []):
                    if stop is not None and obj["Key"] > stop:
                        return found
                    found.append(_remote(obj))
                if not page.get("IsTruncated"):
                    return found
                kwargs["ContinuationToken"] = page["NextContinuationToken"]

        return [obj for part in each(range(len(edges) - 1), span, workers=concurrency) for obj in part]

    def served_headers(self, name: str, keys: list[str], *, concurrency: int) -> dict[str, tuple[str, str]]:
        """(Content-Type, Cache-Control) of each key, one HEAD each, ``concurrency`` at once; a key
        gone meanwhile is left out."""
        if not keys:
            return {}
        client = self.factory.client("s3", self.region, connections=concurrency)

        def head(key: str) -> tuple[str, tuple[str, str] | None]:
            with ignoring("NoSuchKey", "404", "NotFound"):
                resp = call(client.head_object, "s3:HeadObject", Bucket=name, Key=key)
                return key, (str(resp.get("ContentType", "")), str(resp.get("CacheControl", "")))
            return key, None

        return {key: found for key, found in each(keys, head, workers=concurrency) if found is not None}

    def abort_multipart_uploads(self, name: str, prefix: str = "") -> int:
        """Abort every multipart upload under ``prefix`` that was started and never completed (a killed
        run's: S3 keeps and bills its parts until then). Returns how many were aborted."""
        client = self._client
        pending = list(paginate(client, "list_multipart_uploads", "Uploads", Bucket=name, Prefix=prefix))

        def abort(upload: dict[str, Any]) -> None:
            with ignoring("NoSuchUpload"):
                call(client.abort_multipart_upload, "s3:AbortMultipartUpload", Bucket=name, Key=upload["Key"],
                     UploadId=upload["UploadId"])

        each(pending, abort)
        return len(pending)

    def get_object_bytes(self, name: str, key: str) -> bytes | None:
        found = self.get_object_tagged(name, key)
        return found[0] if found is not None else None

    def get_object_tagged(self, name: str, key: str, *, unless: str | None = None) -> tuple[bytes, str] | None:
        """An object's body and its ETag (without quotes); None if absent. ``unless``: an ETag; an object
        that still has it is answered ``UNCHANGED``, without its body (S3's 304)."""
        condition = {"IfNoneMatch": f'"{unless}"'} if unless else {}
        with ignoring("NoSuchKey", "404"):
            try:
                resp = call(self._client.get_object, "s3:GetObject", Bucket=name, Key=key, **condition)
            except AwsError as exc:
                if unless and exc.code in ("304", "NotModified"):
                    return UNCHANGED
                raise
            return bytes(resp["Body"].read()), str(resp.get("ETag", "")).strip('"')
        return None

    def read_object(self, name: str, key: str, *, head: bool = False) -> ObjectRead | None:
        """An object's body (a stream of chunks; none for ``head``) and its HTTP headers; None if absent."""
        op = "s3:HeadObject" if head else "s3:GetObject"
        with ignoring("NoSuchKey", "404", "NotFound"):
            resp = call(self._client.head_object if head else self._client.get_object, op, Bucket=name, Key=key)
            headers = {http: str(resp[field]) for field, http in _OBJECT_HEADERS if resp.get(field) is not None}
            if "LastModified" in resp:
                from datetime import timezone
                from email.utils import format_datetime

                headers["Last-Modified"] = format_datetime(resp["LastModified"].astimezone(timezone.utc),
                                                           usegmt=True)
            body = None if head else resp["Body"].iter_chunks(64 * 1024)
            return ObjectRead(headers=headers, body=body)
        return None

    def put_object(self, name: str, key: str, body: bytes, *, content_type: str, cache_control: str,
                   content_encoding: str | None = None) -> str:
        """The object's new ETag (without quotes)."""
        encoding = {"ContentEncoding": content_encoding} if content_encoding else {}
        resp = call(self._client.put_object, "s3:PutObject", Bucket=name, Key=key, Body=body,
                    ContentType=content_type, CacheControl=cache_control, **encoding)
        return str(resp.get("ETag", "")).strip('"')

    def upload(self, name: str, files: list[Upload], *, concurrency: int) -> None:
        """Upload every file, ``concurrency`` requests at once on a client whose connection pool is as
        big. A file with parts goes up as a multipart upload, its parts at once; the others as one
        PutObject each, signed and sent by ``ObjectPutter`` (a fraction of a boto3 call's CPU). The
        first error is raised once the requests in flight have ended. Throttling (503 SlowDown) is
        retried with backoff: it slows an upload, it does not fail it."""
        if not files:
            return
        client = self.factory.client("s3", self.region, connections=concurrency)
        # Multipart files one after another, each with its parts in parallel; then the rest in parallel.
        # The pool never holds more than ``concurrency`` requests, and no request waits on another's.
        for f in files:
            if f.part_md5s:
                self._multipart(client, name, f, concurrency)
        singles = [f for f in files if not f.part_md5s]
        if not singles:
            return
        putter = self._putters.get((name, concurrency))
        if putter is None:
            putter = self._putters[(name, concurrency)] = ObjectPutter(self.factory, client, name, self.region)
        # A write drops what the run's read cache kept of S3, before (a read in flight) and after.
        self.factory.reads.invalidate("s3")
        try:
            each(singles, putter.put, workers=concurrency)
        finally:
            self.factory.reads.invalidate("s3")

    def _multipart(self, client: Any, name: str, f: Upload, concurrency: int) -> None:
        upload_id = call(client.create_multipart_upload, "s3:CreateMultipartUpload", Bucket=name, Key=f.key,
                         ContentType=f.content_type, CacheControl=f.cache_control)["UploadId"]

        def part(number: int) -> dict[str, Any]:
            with f.path.open("rb") as fh:
                fh.seek((number - 1) * f.part_size)
                body = fh.read(f.part_size)
            resp = call(client.upload_part, "s3:UploadPart", Bucket=name, Key=f.key, UploadId=upload_id,
                        PartNumber=number, Body=body, ContentMD5=b64_md5(f.part_md5s[number - 1]))
            return {"PartNumber": number, "ETag": resp["ETag"]}

        try:
            parts = each(range(1, len(f.part_md5s) + 1), part, workers=concurrency)
            call(client.complete_multipart_upload, "s3:CompleteMultipartUpload", Bucket=name, Key=f.key,
                 UploadId=upload_id, MultipartUpload={"Parts": parts})
        except BaseException:
            # Parts of an upload never completed are stored (and billed) until aborted.
            with contextlib.suppress(AwsError):
                call(client.abort_multipart_upload, "s3:AbortMultipartUpload", Bucket=name, Key=f.key,
                     UploadId=upload_id)
            raise

    def delete_objects(self, name: str, keys: list[str]) -> int:
        removed = 0
        for i in range(0, len(keys), 1000):
            chunk = keys[i: i + 1000]
            removed += self._delete_batch(name, [{"Key": k} for k in chunk])
        return removed

    def regional_domain(self, name: str) -> str:
        return f"{name}.s3.{self.region}.amazonaws.com"


def _remote(listed: dict[str, Any]) -> RemoteObject:
    return RemoteObject(listed["Key"], str(listed.get("ETag", "")).strip('"'), int(listed.get("Size", 0)))
