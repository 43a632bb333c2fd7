"""CloudFront KeyValueStores for the embedded emulator, which moto lacks in both planes.

The control plane (CloudFront's CreateKeyValueStore, DescribeKeyValueStore, ListKeyValueStores,
DeleteKeyValueStore) is routed into moto's CloudFront like the Functions are; the data plane (the
``cloudfront-keyvaluestore`` service: DescribeKeyValueStore, GetKey, PutKey, DeleteKey, ListKeys,
UpdateKeys) has no moto backend at all, so its requests are answered here before moto's dispatcher
looks for one. AWS's rules: every write names the store's current ETag (``If-Match``) and gets a new
one, a stale ETag is a ConflictException (409); a key is at most 512 bytes and a value 1 KB
(ValidationException, 400); the store at most 5 MB (ServiceQuotaExceededException, 402); an unknown
store or key is a ResourceNotFoundException (404); ListKeys gives at most 50 a page. A store
associated with a function cannot be deleted (CannotDeleteEntityWhileInUse).
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, unquote

MAX_STORE_BYTES = 5 * 1024 * 1024
MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 1024
MAX_PAGE = 50
DATA_PLANE = "cloudfront-keyvaluestore"
_lock = threading.RLock()
_applied = False


@dataclass
class Store:
    name: str
    id: str
    arn: str
    comment: str
    created: datetime
    modified: datetime
    etag: str
    items: dict[str, str] = field(default_factory=dict)
    control_etag: str = ""

    @property
    def size(self) -> int:
        return sum(len(k.encode()) + len(v.encode()) for k, v in self.items.items())


class KvsError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _etag() -> str:
    return "E" + secrets.token_hex(7).upper()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def stores(backend: Any) -> dict[str, Store]:
    """The stores of one account's CloudFront backend, by name (pickled with it in a snapshot)."""
    if not hasattr(backend, "tscloud_kvs"):
        backend.tscloud_kvs = {}
    found: dict[str, Store] = backend.tscloud_kvs
    return found


def _all_backends() -> Iterable[Any]:
    from moto.cloudfront.models import cloudfront_backends

    for per_account in cloudfront_backends.values():
        yield from per_account.values()


def store_by_arn(arn: str) -> Store | None:
    for backend in _all_backends():
        for store in stores(backend).values():
            if store.arn == arn:
                return store
    return None


def add_key_value_stores(in_use: Callable[[Any, str], bool]) -> None:
    """``in_use(backend, arn)``: whether a function of that backend is associated with the store."""
    global _applied
    if _applied:
        return
    from moto.cloudfront import urls
    from moto.cloudfront.exceptions import CloudFrontException
    from moto.cloudfront.responses import CloudFrontResponse
    from moto.core.responses import ActionResult, EmptyResult

    class Error(CloudFrontException):
        """An error the CloudFront model names; moto takes its HTTP status from the model."""

    def summary(store: Store) -> dict[str, Any]:
        return {"Name": store.name, "Id": store.id, "Comment": store.comment, "ARN": store.arn, "Status": "READY",
                "LastModifiedTime": store.modified}

    def named(response: Any) -> Store:
        name = response._get_param("Name")
        store = stores(response.backend).get(name)
        if store is None:
            raise Error("EntityNotFound", f"The key value store {name} was not found.")
        return store

    def create_key_value_store(self: Any) -> Any:
        name = str(self._get_param("Name") or "")
        if not name or len(name) > 64 or not all(c.isalnum() or c in "-_" for c in name):
            raise Error("InvalidArgument", "Name must be 1-64 characters of [a-zA-Z0-9-_].")
        with _lock:
            found = stores(self.backend)
            if name in found:
                raise Error("EntityAlreadyExists", f"A key value store named {name} already exists.")
            store_id = str(uuid.uuid4())
            now = _now()
            store = Store(name, store_id, f"arn:aws:cloudfront::{self.current_account}:key-value-store/{store_id}",
                          str(self._get_param("Comment") or ""), now, now, _etag(), control_etag=_etag())
            found[name] = store
        return ActionResult({"KeyValueStore": summary(store), "ETag": store.control_etag,
                             "Location": f"https://cloudfront.amazonaws.com/2020-05-31/key-value-store/{store.arn}"})

    def describe_key_value_store(self: Any) -> Any:
        store = named(self)
        return ActionResult({"KeyValueStore": summary(store), "ETag": store.control_etag})

    def list_key_value_stores(self: Any) -> Any:
        items = [summary(s) for s in stores(self.backend).values()]
        return ActionResult({"KeyValueStoreList": {"MaxItems": 100, "Quantity": len(items), "Items": items or None}})

    def delete_key_value_store(self: Any) -> Any:
        store = named(self)
        with _lock:
            given = self._get_param("IfMatch")
            if not given:
                raise Error("InvalidIfMatchVersion", "The If-Match version is missing or not valid.")
            if given != store.control_etag:
                raise Error("PreconditionFailed", "The If-Match version does not match the current version.")
            if in_use(self.backend, store.arn):
                raise Error("CannotDeleteEntityWhileInUse",
                            f"The key value store {store.name} is associated with a function.")
            del stores(self.backend)[store.name]
        return EmptyResult()

    for method in (create_key_value_store, describe_key_value_store, list_key_value_stores,
                   delete_key_value_store):
        setattr(CloudFrontResponse, method.__name__, method)
    base = "{0}/2020-05-31/key-value-store"
    for path in ("$", "/(?P<Name>[^/]+)$"):
        urls.url_paths[base + path] = CloudFrontResponse.dispatch
    _answer_data_plane()
    _applied = True


# -- the data plane ----------------------------------------------------------------------------------------
def _answer_data_plane() -> None:
    """Requests signed for ``cloudfront-keyvaluestore`` are answered by ``data_plane``, never reaching moto's
    dispatcher (which would look for a backend of that name and find none)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__

    def dispatch(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if f"/{DATA_PLANE}/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
            return data_plane(environ, start_response)
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = dispatch  # type: ignore[method-assign]


def data_plane(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    from tscloud_py.emulator.enforce_iam import refusal_outside_moto

    # moto never sees these requests, so IAM (when the emulator enforces it) is held to them here
    refusal = refusal_outside_moto(environ, DATA_PLANE)
    if refusal is not None:
        return list(refusal(environ, start_response))
    try:
        status, headers, body = _handle(environ)
    except KvsError as exc:
        status, headers, body = exc.status, {"x-amzn-ErrorType": exc.code}, {"Message": exc.message}
    payload = json.dumps(body, default=_timestamp).encode()
    phrase = {200: "OK", 400: "Bad Request", 402: "Payment Required", 404: "Not Found", 409: "Conflict"}
    start_response(f"{status} {phrase.get(status, 'Error')}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), *headers.items()])
    return [payload]


def _timestamp(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(type(value).__name__)


def _segments(environ: dict[str, Any]) -> list[str]:
    """The path's segments, each percent-decoded on its own (an ARN carries an encoded '/')."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
    path = raw.split("?", 1)[0]
    return [unquote(part) for part in path.split("/") if part]


def _body(environ: dict[str, Any]) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        raise KvsError(400, "ValidationException", "The request body is not JSON.") from None
    return parsed if isinstance(parsed, dict) else {}


def _handle(environ: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
    method = environ.get("REQUEST_METHOD", "GET")
    parts = _segments(environ)
    if len(parts) < 2 or parts[0] != "key-value-stores":
        raise KvsError(404, "ResourceNotFoundException", "Unknown operation.")
    with _lock:
        store = store_by_arn(parts[1])
        if store is None:
            raise KvsError(404, "ResourceNotFoundException", f"The key value store {parts[1]} was not found.")
        if len(parts) == 2 and method == "GET":
            return 200, {"ETag": store.etag}, {
                "ItemCount": len(store.items), "TotalSizeInBytes": store.size, "KvsARN": store.arn,
                "Created": store.created, "LastModified": store.modified, "Status": "READY"}
        if len(parts) == 3 and parts[2] == "keys":
            if method == "GET":
                return _list(store, parse_qs(environ.get("QUERY_STRING", "")))
            if method == "POST":
                body = _body(environ)
                puts = [(str(p.get("Key", "")), str(p.get("Value", ""))) for p in body.get("Puts") or []]
                deletes = [str(d.get("Key", "")) for d in body.get("Deletes") or []]
                return _write(store, environ, puts, deletes)
        if len(parts) == 4 and parts[2] == "keys":
            key = parts[3]
            if method == "GET":
                if key not in store.items:
                    raise KvsError(404, "ResourceNotFoundException", f"The key {key} was not found.")
                return 200, {}, {"Key": key, "Value": store.items[key], "ItemCount": len(store.items),
                                 "TotalSizeInBytes": store.size}
            if method == "PUT":
                return _write(store, environ, [(key, str(_body(environ).get("Value", "")))], [])
            if method == "DELETE":
                if key not in store.items:
                    raise KvsError(404, "ResourceNotFoundException", f"The key {key} was not found.")
                return _write(store, environ, [], [key])
    raise KvsError(404, "ResourceNotFoundException", "Unknown operation.")


def _list(store: Store, query: dict[str, list[str]]) -> tuple[int, dict[str, str], dict[str, Any]]:
    try:
        size = int((query.get("MaxResults") or ["10"])[0])
    except ValueError:
        raise KvsError(400, "ValidationException", "MaxResults must be a number.") from None
    if not 1 <= size <= MAX_PAGE:
        raise KvsError(400, "ValidationException", f"MaxResults must be between 1 and {MAX_PAGE}.")
    keys = sorted(store.items)
    start = 0
    token = (query.get("NextToken") or [""])[0]
    if token:
        try:
            start = int(token)
        except ValueError:
            raise KvsError(400, "ValidationException", "NextToken is not valid.") from None
    page = keys[start:start + size]
    body: dict[str, Any] = {"Items": [{"Key": k, "Value": store.items[k]} for k in page]}
    if start + size < len(keys):
        body["NextToken"] = str(start + size)
    return 200, {}, body


def _write(store: Store, environ: dict[str, Any], puts: list[tuple[str, str]],
           deletes: list[str]) -> tuple[int, dict[str, str], dict[str, Any]]:
    given = environ.get("HTTP_IF_MATCH")
    if not given:
        raise KvsError(400, "ValidationException", "If-Match is required.")
    if given != store.etag:
        raise KvsError(409, "ConflictException",
                       f"The ETag {given} does not match the key value store's current version.")
    for key, value in puts:
        if not key or len(key.encode()) > MAX_KEY_BYTES:
            raise KvsError(400, "ValidationException", f"A key must be 1 to {MAX_KEY_BYTES} bytes.")
        if len(value.encode()) > MAX_VALUE_BYTES:
            raise KvsError(400, "ValidationException", f"A value must be at most {MAX_VALUE_BYTES} bytes.")
    after = dict(store.items)
    for key in deletes:
        after.pop(key, None)
    after.update(puts)
    if sum(len(k.encode()) + len(v.encode()) for k, v in after.items()) > MAX_STORE_BYTES:
        raise KvsError(402, "ServiceQuotaExceededException",
                       f"The key value store would exceed its {MAX_STORE_BYTES} byte limit.")
    store.items = after
    store.etag = _etag()
    store.modified = _now()
    return 200, {"ETag": store.etag}, {"ItemCount": len(store.items), "TotalSizeInBytes": store.size}
