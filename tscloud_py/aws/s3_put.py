"""PutObject for many small files at once, each request signed here and sent on the client's pool.

A boto3 ``put_object`` call spends about 3 ms of CPU before and after its round trip: the endpoint
rules evaluated again for every new key (the key is one of their inputs), the user agent rebuilt, the
parameters validated and serialized, some twenty event handlers and a checksum of the body. For an
upload of a thousand files over a latency-bound link that CPU, not the wire, becomes the limit. One
PutObject is a plain signed PUT: the bucket's URL is resolved once (from a presigned URL, so
path-style or virtual-hosted as the client would address it), and each file costs a SigV4 signature
and the send, about a third of the CPU. Retries are botocore's standard mode's (``aws/retry.py``):
throttling, a 5xx and a broken connection are sent again after a jittered exponential backoff (a PUT
of the same bytes to the same key is idempotent), anything else fails at once with S3's error code.
"""

from __future__ import annotations

import base64
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tscloud_py.aws.retry import backoff, transient
from tscloud_py.aws.session import NO_CREDENTIALS_HINT, ClientFactory
from tscloud_py.errors import AwsError

OPERATION = "s3:PutObject"


@dataclass(frozen=True)
class Upload:
    """One file to put at ``key``, with the MD5s S3 checks it against (hex)."""

    key: str
    path: Path
    md5: str
    content_type: str
    cache_control: str
    part_md5s: tuple[str, ...] = ()  # a multipart upload of parts of ``part_size`` when not empty
    part_size: int = 0


def b64_md5(hex_md5: str) -> str:
    """A hex MD5 as the base64 of its bytes (the Content-MD5 header)."""
    return base64.b64encode(bytes.fromhex(hex_md5)).decode()


def _error(status: int, body: bytes) -> tuple[str, str]:
    """(code, message) of an S3 error answer; the status when its body is not S3's XML."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return str(status), body[:200].decode("utf-8", "replace")
    return root.findtext("Code") or str(status), root.findtext("Message") or ""


class ObjectPutter:
    """Puts files into one bucket through ``client`` (an S3 client of ``factory``), one request each."""

    def __init__(self, factory: ClientFactory, client: Any, bucket: str, region: str, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        from botocore.auth import S3SigV4Auth

        self.factory = factory
        self.region = region
        self.attempts = factory.max_attempts
        self._signer = S3SigV4Auth
        self._credentials = factory.credentials()
        if self._credentials is None:
            raise AwsError(OPERATION, "NoCredentials", "no AWS credentials found",
                           NO_CREDENTIALS_HINT)
        # The client's own connection pool: its size, TLS verification and proxies hold here too.
        self._http = client._endpoint.http_session
        # Its before-send handlers may answer instead of the wire, as for its own calls (moto's mock_aws).
        self._events = client.meta.events
        sample = client.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
        self._base = sample.split("?", 1)[0][:-1]  # up to and with the "/" before the key
        self._sleep = sleep

    def url(self, key: str) -> str:
        return self._base + quote(key, safe="/~")  # S3's URI encoding of a key, as botocore's serializer

    def put(self, f: Upload) -> None:
        from botocore.awsrequest import AWSRequest
        from botocore.exceptions import BotoCoreError

        body = f.path.read_bytes()
        headers = {"Content-Type": f.content_type, "Cache-Control": f.cache_control, "Content-MD5": b64_md5(f.md5),
                   "User-Agent": "tscloud/0.1"}
        self.factory.requests.record("s3", "PutObject")
        for attempt in range(1, self.attempts + 1):
            request = AWSRequest("PUT", self.url(f.key), data=body, headers=dict(headers))
            self._signer(self._credentials.get_frozen_credentials(), "s3", self.region).add_auth(request)
            prepared = request.prepare()
            try:
                answered = [r for _, r in self._events.emit("before-send.s3.PutObject", request=prepared)
                            if r is not None]
                response = answered[0] if answered else self._http.send(prepared)
            except BotoCoreError as exc:  # no answer: the PUT may or may not have landed; sending it again is safe
                if attempt == self.attempts:
                    raise AwsError(OPERATION, type(exc).__name__, str(exc), "check network access and --endpoint-url",
                                   ambiguous=True) from exc
            else:
                status = response.status_code
                if status < 300:
                    return
                code, message = _error(status, response.content)
                if not transient(status, code) or attempt == self.attempts:
                    raise AwsError(OPERATION, code, f"{f.key}: {message}", status=status)
            self._sleep(backoff(attempt))
