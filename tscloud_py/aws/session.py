"""The client factory: every boto3 client in tscloud is built here.

It honours the profile, region and endpoint URL (flag or ``AWS_ENDPOINT_URL``),
uses botocore's *standard* retry mode with a larger attempt budget than the
default 3 (a deploy is long control-plane work; throttling must slow it, not
fail it), and keeps a count of API calls so benchmarks and ``-v`` can report
how many requests a run made and how many of them mutated anything.

Clients come from a botocore session, imported lazily so that ``tscloud --help`` starts fast: boto3's
own session adds nothing a client uses (its resource layer and s3transfer), only start-up time.
"""

from __future__ import annotations

import copy
import os
import threading
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tscloud_py.errors import AwsError

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS = 10
IDENTITY_ATTEMPTS = 3  # GetCallerIdentity, the first request of a run: see ClientFactory.account_id
# Every client's pool: the upload's default concurrency (presets/steps/upload.py), so the upload shares
# the S3 client the reads use instead of building one of its own. A pool opens connections only as needed.
DEFAULT_CONNECTIONS = 64
NO_CREDENTIALS_HINT = "set AWS_PROFILE / --profile, or use --local to deploy to a cloud on this machine"


def is_mutating(operation: str) -> bool:
    """Whether an API operation name changes anything (by AWS naming convention)."""
    return not operation.startswith(("Get", "List", "Describe", "Head", "Lookup", "Search", "Select", "Test"))


@dataclass
class RequestLog:
    """Counts API operations made through one factory (thread safe)."""

    calls: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, service: str, operation: str) -> None:
        with self._lock:
            self.calls[f"{service}:{operation}"] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def mutating(self) -> int:
        return sum(n for key, n in self.calls.items() if is_mutating(key.split(":", 1)[1]))

    def mutating_calls(self) -> dict[str, int]:
        return {k: n for k, n in self.calls.items() if is_mutating(k.split(":", 1)[1])}


class ReadCache:
    """One run's memo of reads that two steps make of the same resource (thread safe).

    Only reads that opt in are kept (never a waiter's polls, which must see change), and any mutating
    call to a service drops what was kept for that service, so a read made after a write is fresh.
    Two steps asking at once make one request: the second waits for the first's answer. Callers get a
    deep copy, so one step changing what it was given cannot change what the next step reads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, Hashable], Any] = {}
        self._inflight: dict[tuple[str, Hashable], threading.Event] = {}
        self._generation: Counter[str] = Counter()

    def get(self, service: str, key: Hashable, fetch: Callable[[], T]) -> T:
        slot = (service, key)
        while True:
            with self._lock:
                if slot in self._values:
                    return copy.deepcopy(self._values[slot])
                pending = self._inflight.get(slot)
                if pending is None:
                    done = self._inflight[slot] = threading.Event()
                    generation = self._generation[service]
                    break
            pending.wait()  # then take its value, or fetch ourselves if it failed or was dropped
        try:
            value = fetch()
        except BaseException:
            with self._lock:
                self._inflight.pop(slot, None)
            done.set()
            raise
        with self._lock:
            self._inflight.pop(slot, None)
            if self._generation[service] == generation:
                self._values[slot] = copy.deepcopy(value)
        done.set()
        return value

    def invalidate(self, service: str) -> None:
        with self._lock:
            self._generation[service] += 1
            for slot in [s for s in self._values if s[0] == service]:
                del self._values[slot]

    def clear(self) -> None:
        with self._lock:
            for service in {s[0] for s in self._values}:
                self._generation[service] += 1
            self._values.clear()


# The KeyValueStore data plane. AWS signs it with SigV4A (botocore needs awscrt for that) at
# ``{account}.cloudfront-kvs.global.api.aws``; its endpoint rules put the account in front of any endpoint URL's
# host too. At an endpoint of one's own (the emulator, a proxy) the request goes to that host as given,
# signed with SigV4, which needs nothing more than botocore.
KVS_DATA = "cloudfront-keyvaluestore"


def sigv4a_available() -> bool:
    """Whether botocore can sign SigV4A requests (AWS's KeyValueStore data plane needs it)."""
    try:
        import awscrt  # noqa: F401
    except ImportError:
        return False
    return True


def _at_endpoint(endpoint_url: str) -> Callable[..., None]:
    from urllib.parse import urlsplit, urlunsplit

    authority = urlsplit(endpoint_url).netloc

    def rewrite(request: Any = None, **_: Any) -> None:
        if request is None:
            return
        parts = urlsplit(request.url)
        if parts.netloc != authority and parts.netloc.endswith("." + authority):
            request.url = urlunsplit(parts._replace(netloc=authority))

    return rewrite


class ClientFactory:
    """Builds and caches boto3 clients for one (profile, region, endpoint)."""

    def __init__(
        self,
        *,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        credentials: dict[str, str] | None = None,
    ) -> None:
        self.profile = profile
        self.region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.max_attempts = max_attempts
        self.requests = RequestLog()
        self.reads = ReadCache()
        self._credentials = credentials
        self._session: Any = None
        self._clients: dict[tuple[str, str, int], Any] = {}
        self._lock = threading.Lock()
        self._account_id: str | None = None
        self._account_lock = threading.Lock()  # one GetCallerIdentity per run, however many threads ask
        self._wanted: list[tuple[str, str]] = []

    def _boto_session(self) -> Any:
        if self._session is None:
            import botocore.session

            from tscloud_py import redact
            from tscloud_py.aws import model_cache

            # the credentials themselves (never a fixed pair passed in, such as --local's, which is no secret)
            if not self._credentials:
                for var in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
                    redact.register(os.environ.get(var))
            try:
                session = botocore.session.Session(profile=self.profile or None)
                model_cache.install(session)
                if self.profile:
                    session.get_scoped_config()  # an unknown profile is named now, not at the first request
                if self._credentials:
                    session.set_credentials(self._credentials["aws_access_key_id"],
                                            self._credentials["aws_secret_access_key"],
                                            self._credentials.get("aws_session_token"))
                session.set_config_variable("region", self.region)
                session.get_component("response_parser_factory").set_parser_defaults(
                    timestamp_parser=_timestamp)
                self._session = session
            except Exception as exc:  # ProfileNotFound and friends
                from tscloud_py.errors import UsageError

                raise UsageError(f"--profile: {exc}", "list profiles with `aws configure list-profiles`") from exc
        return self._session

    def sibling(self) -> ClientFactory:
        """A factory on the same session and account whose requests are counted apart.

        The state backend's lock and journal requests go through one, so a run can report its
        resource requests and its state requests separately.
        """
        other = ClientFactory(profile=self.profile, region=self.region, endpoint_url=self.endpoint_url,
                              max_attempts=self.max_attempts, credentials=self._credentials)
        other._session = self._boto_session()
        other._account_id = self._account_id
        other._lock = self._lock  # botocore sessions are not safe for concurrent client creation
        return other

    def _record_call(self, model: Any = None, **_: Any) -> None:
        if model is not None:
            service = model.service_model.service_name
            self.requests.record(service, model.name)
            if is_mutating(model.name):
                self.reads.invalidate(service)

    def _after_call(self, model: Any = None, **_: Any) -> None:
        # Again once the write is answered: a read that started while it was in flight may hold the
        # state from before it.
        if model is not None and is_mutating(model.name):
            self.reads.invalidate(model.service_model.service_name)

    def client(self, service: str, region: str | None = None, *, once: bool = False, attempts: int | None = None,
               connections: int = DEFAULT_CONNECTIONS) -> Any:
        """A cached boto3 client for ``service`` in ``region`` (default: the factory's).

        ``once``: a client that sends each request exactly once (``attempts=1``). For creates without an
        idempotency token: botocore's automatic retry after a 500 or a dropped connection would send the
        create again although AWS may have acted on the first one; ``create_or_adopt`` retries instead,
        and looks for the resource first.

        ``attempts``: how often a request is sent at most, first try included (default: the factory's
        budget, which rides out throttling).

        ``connections``: how many requests it keeps open at once; a caller that makes more at once (an
        upload) asks for a client whose pool matches, or connections beyond the pool are opened and
        thrown away again for every request.
        """
        region = region or self.region
        total = 1 if once else attempts
        key = (service + (f"#{total}" if total else ""), region, connections)
        built = self._clients.get(key)
        if built is not None:  # not behind the lock: a client being built for another thread takes tens of ms
            return built
        with self._lock:
            if key not in self._clients:
                from botocore.config import Config

                config = Config(
                    retries={"mode": "standard", "total_max_attempts": total} if total else
                    {"mode": "standard", "max_attempts": self.max_attempts},
                    connect_timeout=10,
                    read_timeout=60,
                    max_pool_connections=connections,
                    user_agent_extra="tscloud/0.1",
                )
                if service == KVS_DATA and self.endpoint_url:
                    config = config.merge(Config(signature_version="v4"))
                client = self._boto_session().create_client(
                    service, region_name=region, endpoint_url=self.endpoint_url, config=config
                )
                if service == KVS_DATA and self.endpoint_url:
                    client.meta.events.register("before-sign", _at_endpoint(self.endpoint_url))
                # Counted per client, not per session: a sibling factory shares the session.
                client.meta.events.register("before-call", self._record_call)
                client.meta.events.register("after-call", self._after_call)
                self._clients[key] = client
            return self._clients[key]

    def want(self, service: str, region: str | None = None) -> None:
        """Note that a client for ``service`` will be asked for; ``warm()`` builds it ahead of time."""
        wanted = (service, region or self.region)
        if wanted not in self._wanted:
            self._wanted.append(wanted)

    def warm(self) -> None:
        """Build every client ``want`` noted. A client costs tens of milliseconds of CPU (its service model,
        its endpoint rules); built while the run waits on the network (the lock, the journal), the first
        reads do not pay for it, nor wait in turn for each other's."""
        for service, region in list(self._wanted):
            self.client(service, region)

    def credentials(self) -> Any:
        """The session's botocore credentials (refreshed as they expire), for requests this package
        signs itself."""
        return self._boto_session().get_credentials()

    def account_id(self) -> str:
        from tscloud_py.aws.account_cache import cached_account, remember_account

        with self._account_lock:
            if self._account_id is None:
                credentials = self.credentials()
                access_key = credentials.access_key if credentials is not None else None
                self._account_id = cached_account(self.endpoint_url, access_key)
            if self._account_id is None:
                # Else the first request of the run, made before anything is done: where the endpoint
                # cannot be reached at all (no network, a wrong --endpoint-url) the run ends within
                # seconds, not after the minute of backoff the factory's budget allows every later request.
                sts = self.client("sts", attempts=IDENTITY_ATTEMPTS)
                ident = call(sts.get_caller_identity, "sts:GetCallerIdentity")
                self._account_id = str(ident["Account"])
                remember_account(self.endpoint_url, access_key, self._account_id)
            return self._account_id


def _timestamp(value: str) -> Any:
    """botocore's timestamp parser, with the ISO 8601 form AWS answers in parsed by the standard library
    first: botocore's own (dateutil) costs ~0.3 ms each, and a listing of 1,000 objects carries 1,000."""
    import datetime

    try:
        parsed = datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        parsed = None
    if parsed is not None and parsed.tzinfo is not None:
        return parsed
    from botocore.utils import parse_timestamp

    return parse_timestamp(value)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def call(fn: Callable[..., T], operation: str, /, **kwargs: Any) -> T:
    """Invoke a boto3 method, turning botocore errors into ``AwsError``."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
    from botocore.parsers import ResponseParserError

    try:
        return fn(**kwargs)
    except ResponseParserError as exc:  # an answer that is not AWS's (a proxy's 5xx page): AWS may have acted
        raise AwsError(operation, "ResponseParserError", str(exc).splitlines()[0],
                       "a proxy or load balancer between here and AWS answered; re-run", ambiguous=True) from exc
    except ClientError as exc:
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        raise AwsError(operation, str(err.get("Code", "Unknown")), str(err.get("Message", exc)),
                       status=int(status) if status else None) from exc
    except NoCredentialsError as exc:
        raise AwsError(
            operation,
            "NoCredentials",
            "no AWS credentials found",
            NO_CREDENTIALS_HINT,
        ) from exc
    except BotoCoreError as exc:
        raise AwsError(operation, type(exc).__name__, str(exc), "check network access and --endpoint-url",
                       ambiguous=True) from exc


def paginate(client: Any, method: str, result_key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item of a paginated list operation, across all pages."""
    from botocore.exceptions import ClientError

    paginator = client.get_paginator(method)
    try:
        for page in paginator.paginate(**kwargs):
            node: Any = page
            for part in result_key.split("."):
                node = node.get(part, {}) if isinstance(node, dict) else {}
            yield from (node or [])
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise AwsError(method, str(err.get("Code", "Unknown")), str(err.get("Message", exc))) from exc


@contextmanager
def ignoring(*codes: str) -> Iterator[None]:
    """Swallow an AwsError whose code is one of ``codes`` (e.g. NotFound on delete)."""
    try:
        yield
    except AwsError as exc:
        if exc.code not in codes:
            raise
