"""S3.upload against a moto server behind the counting proxy: multipart for big files (with the ETag the
sync plan predicts), the connection pool sized to the concurrency, and throttling that slows, never fails."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import MotoServer
from tests.fakes.aws_proxy import AwsProxy
from tscloud_py.aws.s3 import S3
from tscloud_py.aws.s3_put import Upload
from tscloud_py.aws.session import ClientFactory
from tscloud_py.build.sync import PART_SIZE, plan_sync, scan
from tscloud_py.errors import AwsError
from tscloud_py.presets.steps.upload import UploadStep


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[AwsProxy]:
    with AwsProxy(moto_server.endpoint) as p:
        yield p


def s3_through(proxy: AwsProxy) -> S3:
    return S3(ClientFactory(region="us-east-1", endpoint_url=proxy.endpoint,
                            credentials={"aws_access_key_id": "t", "aws_secret_access_key": "t"}))


def uploads(root: Path) -> list[Upload]:
    return [UploadStep._upload(f) for f in scan(root).values()]


def test_big_files_go_up_in_parts_and_their_etag_is_the_one_the_plan_predicts(proxy: AwsProxy,
                                                                               tmp_path: Path) -> None:
    s3 = s3_through(proxy)
    bucket = f"upload-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(bucket)
    big = bytes(range(256)) * ((2 * PART_SIZE + 4096) // 256)
    (tmp_path / "video.mp4").write_bytes(big)
    (tmp_path / "index.html").write_text("<!doctype html>")
    proxy.clear()
    s3.upload(bucket, uploads(tmp_path), concurrency=8)
    ops = proxy.counts()
    assert ops["s3:POST /" + bucket + "/video.mp4?uploads"] == 1
    assert sum(n for op, n in ops.items() if "partNumber=" in op) == 3
    assert sum(n for op, n in ops.items() if "uploadId=" in op and op.startswith("s3:POST")) == 1
    assert ops[f"s3:PUT /{bucket}/index.html"] == 1
    local = scan(tmp_path)
    remote = {o.key: o.etag for o in s3.list_objects(bucket)}
    assert remote["video.mp4"] == local["video.mp4"].etag and remote["video.mp4"].endswith("-3")
    assert remote["index.html"] == local["index.html"].md5
    assert hashlib.md5(s3.get_object_bytes(bucket, "video.mp4") or b"").hexdigest() == hashlib.md5(big).hexdigest()
    # Against that listing (and the manifest of this upload) the sync plan uploads nothing again.
    assert plan_sync(local, remote, plan_sync(local, {}, None).manifest).uploads == []
    assert s3.factory.client("s3", connections=8).meta.config.max_pool_connections == 8


def test_throttling_slows_the_upload_down_and_never_fails_it(proxy: AwsProxy, tmp_path: Path) -> None:
    """S3 answers 503 SlowDown to the first PUT of every key (as it does under a burst): botocore's
    standard retries send each again, and every file arrives."""
    s3 = s3_through(proxy)
    bucket = f"throttle-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(bucket)
    for i in range(40):
        (tmp_path / f"file-{i:02d}.txt").write_text(f"content {i}")
    seen: set[str] = set()
    lock = threading.Lock()

    def first_put_of_each_key(method: str, path: str, query: str) -> bool:
        if method != "PUT" or not path.startswith(f"/{bucket}/"):
            return False
        with lock:
            first = path not in seen
            seen.add(path)
        return first

    proxy.fail(first_put_of_each_key, 503, "SlowDown", "Please reduce your request rate.")
    proxy.clear()
    try:
        s3.upload(bucket, uploads(tmp_path), concurrency=16)
    finally:
        proxy.fail_none()
    puts = [r for r in proxy.requests() if r.method == "PUT"]
    assert len(puts) == 80 and sum(1 for r in puts if r.status == 503) == 40
    assert sorted(o.key for o in s3.list_objects(bucket)) == sorted(f"file-{i:02d}.txt" for i in range(40))


def test_keys_with_spaces_unicode_and_reserved_characters_land_at_their_keys(proxy: AwsProxy,
                                                                               tmp_path: Path) -> None:
    """Each PutObject is signed and sent by aws/s3_put.py, which encodes the key into the URL itself."""
    s3 = s3_through(proxy)
    bucket = f"keys-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(bucket)
    names = ["My Report.pdf", "café/naïve.txt", "a+b=c&d.txt", "100%.txt", "semi;colon,comma.txt",
             "tilde~dollar$at@.txt", "deep/er/still/x.js"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"body of {name}")
    s3.upload(bucket, uploads(tmp_path), concurrency=4)
    assert sorted(o.key for o in s3.list_objects(bucket)) == sorted(names)
    assert s3.get_object_bytes(bucket, "café/naïve.txt") == "body of café/naïve.txt".encode()
    assert s3.factory.requests.calls["s3:PutObject"] == len(names)
    head = s3.read_object(bucket, "My Report.pdf", head=True)
    assert head is not None and head.headers["Content-Type"] == "application/pdf"


def test_a_refused_put_fails_at_once_with_s3s_code_and_the_key(proxy: AwsProxy, tmp_path: Path) -> None:
    s3 = s3_through(proxy)
    bucket = f"refused-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(bucket)
    (tmp_path / "a.txt").write_text("a")
    proxy.fail(lambda method, path, query: method == "PUT" and path == f"/{bucket}/a.txt", 403, "AccessDenied",
               "Access Denied")
    proxy.clear()
    try:
        with pytest.raises(AwsError) as raised:
            s3.upload(bucket, uploads(tmp_path), concurrency=4)
    finally:
        proxy.fail_none()
    assert raised.value.code == "AccessDenied" and "a.txt" in str(raised.value)
    assert raised.value.operation == "s3:PutObject"
    assert sum(1 for r in proxy.requests() if r.method == "PUT") == 1  # not retried


def test_a_listing_split_in_ranges_lists_every_key_once_in_one_round(proxy: AwsProxy) -> None:
    """Split after build keys, the ranges are asked at once: keys the build lacks (before the first bound,
    between two, after the last, on a bound) are listed once each, like a plain listing."""
    s3 = s3_through(proxy)
    bucket = f"split-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(bucket)
    client = s3.factory.client("s3")
    keys = ["a", "b/1", "b/2", "c", "d", "e/x/y", "f", "zz"]
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    proxy.clear()
    proxy.latency = 0.5  # a range asked after another was answered would start half a second later
    listed = s3.list_objects_split(bucket, "", ["b/2", "d", "e/z"], concurrency=8)
    proxy.latency = 0.0
    assert [o.key for o in listed] == keys
    assert {o.etag for o in listed if o.key == "c"} == {hashlib.md5(b"c").hexdigest()}
    lists = [r for r in proxy.requests() if r.api_operation == "ListObjectsV2"]
    assert len(lists) == 4
    assert max(r.started for r in lists) < min(r.ended for r in lists)  # none waited for another


def test_a_buckets_settings_are_read_at_once_and_tell_whether_it_exists(proxy: AwsProxy) -> None:
    """One round trip of four reads and no existence check; a bucket that is not there reads as None from the
    same four requests."""
    s3 = s3_through(proxy)
    name = f"describe-{uuid.uuid4().hex[:10]}"
    assert s3.describe_bucket(name) is None
    assert sorted(r.api_operation for r in proxy.requests()) == [
        "GetBucketEncryption", "GetBucketOwnershipControls", "GetBucketTagging", "GetPublicAccessBlock"]
    s3.create_bucket(name)
    s3.block_public_access(name)
    proxy.clear()
    proxy.latency = 0.5  # a read asked after another was answered would start half a second later
    try:
        state = s3.describe_bucket(name)
    finally:
        proxy.latency = 0.0
    reads = proxy.requests()
    assert max(r.started for r in reads) < min(r.ended for r in reads)  # none waited for another
    assert state is not None and state.public_access_block["BlockPublicAcls"] is True and state.tags == {}
    assert len(proxy.requests()) == 4, [r.describe() for r in proxy.requests()]


def test_a_bucket_someone_else_owns_is_named_not_accessible(proxy: AwsProxy) -> None:
    """S3 refuses every read of a bucket another account owns (403 AccessDenied, as HeadBucket would): the
    bucket's name is taken, which is the error, not a missing bucket to create."""
    s3 = s3_through(proxy)
    name = f"taken-{uuid.uuid4().hex[:10]}"
    proxy.fail(lambda method, path, _query: path.endswith(name), 403, "AccessDenied", "Access Denied")
    try:
        with pytest.raises(AwsError) as raised:
            s3.describe_bucket(name)
    finally:
        proxy.fail_none()
    assert raised.value.code == "BucketAlreadyExists"
    assert f"bucket {name} exists but is not accessible" in str(raised.value)
