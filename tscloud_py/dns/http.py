"""A small JSON-over-HTTPS client for DNS provider APIs (stdlib only).

429 responses (and 5xx for idempotent requests) are retried a bounded number
of times, honouring ``Retry-After`` (seconds or an HTTP date), else the provider's own hint
(``retry_hint``). Auth failures become one line that names the provider and the environment
variables to check. Credentials are registered with ``tscloud_py.redact`` and scrubbed from a
response body before any of it is shortened, so no part of one reaches a message.
"""

from __future__ import annotations

import email.utils
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tscloud_py import redact
from tscloud_py.dns.base import DnsAuthError, DnsError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ERROR_TEXT_LIMIT = 300
# a body larger than this is not an API answer; reading it whole would only cost memory
MAX_BODY = 8 * 1024 * 1024


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse a Retry-After header: delta seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class JsonApi:
    """Requests against one provider's base URL."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        credential_vars: Sequence[str],
        auth_hint: str = "",
        headers: dict[str, str] | None = None,
        secrets: Sequence[str] = (),
        is_auth_failure: Callable[[int, Any], bool] = lambda status, body: status in (401, 403),
        error_text: Callable[[Any], str] = lambda body: json.dumps(body) if body is not None else "",
        retry_hint: Callable[[Response], float | None] = lambda resp: None,
        max_attempts: int = 6,
        max_wait: float = 60.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.credential_vars = tuple(credential_vars)
        self.auth_hint = auth_hint
        self._headers = {"Accept": "application/json", "User-Agent": "tscloud/0.1", **(headers or {})}
        for secret in secrets:
            redact.register(secret)
        self.is_auth_failure = is_auth_failure
        self.error_text = error_text
        self.retry_hint = retry_hint
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.timeout = timeout
        self.sleep = sleep
        self.requests = 0

    def __repr__(self) -> str:
        return f"<JsonApi {self.provider} {self.base_url}>"

    def redact(self, text: str) -> str:
        return redact.scrub(text)

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        # Path segments come from config and API answers (zone ids, record ids): one that could climb
        # out of the API's path or start a query is refused, never sent.
        for segment in path.split("/"):
            if segment in (".", "..") or any(c in segment for c in "?#\\") or any(ord(c) < 0x21 for c in segment):
                raise DnsError(self.provider, f"refusing to request {path!r}: {segment!r} is not a plain path "
                               "segment", "check the zone or record id (a [dns] zone_id in tscloud.toml?)",
                               code="BadPath")
        url = self.base_url + "/" + path.lstrip("/")
        if params:
            clean = {k: v for k, v in params.items() if v is not None}
            if clean:
                url += "?" + urllib.parse.urlencode(clean)
        return url

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
                allow: Sequence[int] = (), idempotent: bool | None = None,
                headers: dict[str, str] | None = None) -> Response:
        """Send one request (with retries). Statuses in ``allow`` are returned, not raised.

        ``headers`` are added to this request only (every attempt sends the same ones, so an
        ``Idempotency-Key`` makes a retried create replay rather than repeat)."""
        url = self.url(path, params)
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self._headers, **(headers or {})}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE")
        where = f"{method} {urllib.parse.urlparse(url).path}"
        backoff = 1.0
        for attempt in range(1, self.max_attempts + 1):
            self.requests += 1
            try:
                resp = self._send(method, url, data, headers)
            except OSError as exc:  # connection refused, timeout, DNS failure
                if not idempotent or attempt == self.max_attempts:
                    raise DnsError(self.provider, f"{where}: cannot reach {self.base_url}: {self.redact(str(exc))}",
                                   "check network access (and TSCLOUD_*_API_URL if set)",
                                   code="ConnectionError") from exc
                self.sleep(min(backoff, self.max_wait))
                backoff *= 2
                continue
            # 429: the request was not processed, always safe to resend. 5xx: it may have been, so only
            # idempotent requests are resent (a re-run reads first, so it converges either way).
            retryable = resp.status == 429 or (resp.status in RETRY_STATUSES and idempotent)
            if retryable and attempt < self.max_attempts:
                wait = retry_after_seconds(resp.headers.get("retry-after"))
                if wait is None:
                    wait = self.retry_hint(resp)
                if wait is None:
                    wait = backoff
                    backoff *= 2
                self.sleep(min(wait, self.max_wait))
                continue
            if 200 <= resp.status < 300 or resp.status in allow:
                return resp
            raise self.failure(where, resp)
        raise AssertionError("unreachable")  # pragma: no cover

    def failure(self, where: str, resp: Response) -> DnsError:
        # scrub the whole body first: the provider's text and the cut below only ever see masked values
        text = redact.cut(self.error_text(redact.scrub_obj(resp.body)), ERROR_TEXT_LIMIT) or f"HTTP {resp.status}"
        if self.is_auth_failure(resp.status, resp.body):
            return DnsAuthError(
                self.provider, f"the API rejected the credentials (HTTP {resp.status}: {text})",
                f"check {' and '.join(self.credential_vars)}{self.auth_hint}", code="AuthFailed", status=resp.status)
        if resp.status in RETRY_STATUSES:
            return DnsError(self.provider, f"{where}: still HTTP {resp.status} after {self.max_attempts} attempts: "
                            f"{text}", "the provider is rate limiting or failing; re-run shortly",
                            code="RateLimited" if resp.status == 429 else "ServerError", status=resp.status)
        return DnsError(self.provider, f"{where}: HTTP {resp.status}: {text}", code=f"HTTP{resp.status}",
                        status=resp.status)

    def _send(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> Response:
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        host = urllib.parse.urlparse(url).hostname or ""
        # a local fake (tests) is never reached through an HTTP proxy from the environment
        handlers = [urllib.request.ProxyHandler({})] if host in ("localhost", "::1") or host.startswith("127.") else []
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(req, timeout=self.timeout) as raw:
                return Response(raw.status, _parse(raw.read(MAX_BODY)), {k.lower(): v for k, v in raw.headers.items()})
        except urllib.error.HTTPError as err:
            payload = err.read(MAX_BODY)
            return Response(err.code, _parse(payload), {k.lower(): v for k, v in err.headers.items()})


def _parse(payload: bytes) -> Any:
    if not payload:
        return None
    try:
        return json.loads(payload)
    except ValueError:
        # whole: a cut here would come before redaction (failure() scrubs, then shortens)
        return payload.decode("utf-8", "replace")
