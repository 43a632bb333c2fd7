"""CloudFront Functions for the embedded emulator, which moto lacks (every call is a bare 404 there).

Create, describe, get, list, update, publish, delete, and their association
with cache behaviors, with AWS's rules: a function is created in DEVELOPMENT;
every change needs the stage's current ETag as If-Match; publishing copies
DEVELOPMENT to LIVE; a distribution may associate only a published function
(by its ARN), at most one per event type; an associated function cannot be
deleted; code is at most 10 KB; a function is associated with at most one
KeyValueStore, which must exist (``emulator/cloudfront_kvs.py``). moto's
distribution model drops FunctionAssociations, so the association is kept here
too. Idempotent.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

MAX_CODE_BYTES = 10 * 1024
RUNTIMES = ("cloudfront-js-1.0", "cloudfront-js-2.0")
EVENT_TYPES = ("viewer-request", "viewer-response")
_applied = False
_lock = threading.Lock()


@dataclass
class _Stage:
    code: bytes
    comment: str
    runtime: str
    etag: str
    modified: datetime
    stores: tuple[str, ...] = ()  # the associated KeyValueStores' ARNs


@dataclass
class _Function:
    name: str
    arn: str
    created: datetime
    development: _Stage
    live: _Stage | None = None


def _etag() -> str:
    return "E" + secrets.token_hex(6).upper()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def add_cloudfront_functions() -> None:
    global _applied
    if _applied:
        return
    from moto.cloudfront import models, urls
    from moto.cloudfront.exceptions import CloudFrontException
    from moto.cloudfront.responses import CloudFrontResponse
    from moto.core.responses import ActionResult, EmptyResult

    class Error(CloudFrontException):
        """An error the CloudFront model names; moto takes its HTTP status from the model."""

    def missing(name: str) -> Error:
        return Error("NoSuchFunctionExists", f"The function {name} does not exist.")

    def store(response: Any) -> dict[str, _Function]:
        backend = response.backend
        if not hasattr(backend, "tscloud_functions"):
            backend.tscloud_functions = {}
        functions: dict[str, _Function] = backend.tscloud_functions
        return functions

    def associated(backend: Any, arn: str) -> bool:
        for dist in backend.distributions.values():
            for behavior in _behaviors(dist.distribution_config):
                if any(a.get("FunctionARN") == arn for a in _associations(behavior)):
                    return True
        return False

    def summary(fn: _Function, stage_name: str, backend: Any) -> dict[str, Any]:
        stage = fn.development if stage_name == "DEVELOPMENT" else fn.live
        assert stage is not None
        status = "UNPUBLISHED" if fn.live is None else ("ASSOCIATED" if associated(backend, fn.arn)
                                                        else "UNASSOCIATED")
        config: dict[str, Any] = {"Comment": stage.comment, "Runtime": stage.runtime}
        if stage.stores:
            config["KeyValueStoreAssociations"] = {
                "Quantity": len(stage.stores), "Items": [{"KeyValueStoreARN": a} for a in stage.stores]}
        return {"Name": fn.name, "Status": status, "FunctionConfig": config,
                "FunctionMetadata": {"FunctionARN": fn.arn, "Stage": stage_name, "CreatedTime": fn.created,
                                     "LastModifiedTime": stage.modified}}

    def stage_of(fn: _Function, stage_name: str | None) -> _Stage:
        if stage_name == "LIVE":
            if fn.live is None:
                raise missing(fn.name)
            return fn.live
        return fn.development

    def checked_code(code: Any, runtime: str) -> bytes:
        body = code if isinstance(code, bytes) else str(code or "").encode()
        if len(body) > MAX_CODE_BYTES:
            raise Error("FunctionSizeLimitExceeded",
                        f"The function code is {len(body)} bytes; the limit is {MAX_CODE_BYTES}.")
        if not body.strip():
            raise Error("InvalidArgument", "FunctionCode must not be empty.")
        if runtime not in RUNTIMES:
            raise Error("InvalidArgument", f"Runtime must be one of {', '.join(RUNTIMES)}.")
        return body

    def checked_stores(config: dict[str, Any]) -> tuple[str, ...]:
        from tscloud_py.emulator.cloudfront_kvs import store_by_arn

        block = config.get("KeyValueStoreAssociations") or {}
        items = block.get("Items") or [] if isinstance(block, dict) else []
        arns = tuple(str(i.get("KeyValueStoreARN") or "") for i in items if isinstance(i, dict))
        if len(arns) > 1:
            raise Error("InvalidArgument", "A function can be associated with at most one key value store.")
        for arn in arns:
            if store_by_arn(arn) is None:
                raise Error("EntityNotFound", f"The key value store {arn} was not found.")
        return arns

    def if_match(response: Any, stage: _Stage) -> None:
        given = response._get_param("IfMatch")
        if not given:
            raise Error("InvalidIfMatchVersion", "The If-Match version is missing or not valid.")
        if given != stage.etag:
            raise Error("PreconditionFailed", "The If-Match version does not match the current version.")

    def get_fn(response: Any) -> _Function:
        name = response._get_param("Name")
        fn = store(response).get(name)
        if fn is None:
            raise missing(name)
        return fn

    def create_function(self: Any) -> Any:
        name = self._get_param("Name")
        config = self._get_param("FunctionConfig") or {}
        runtime = str(config.get("Runtime") or "")
        code = checked_code(self._get_param("FunctionCode"), runtime)
        with _lock:
            functions = store(self)
            if name in functions:
                raise Error("FunctionAlreadyExists", f"A function with the name {name} already exists.")
            arn = f"arn:aws:cloudfront::{self.current_account}:function/{name}"
            now = _now()
            fn = _Function(name, arn, now, _Stage(code, str(config.get("Comment") or ""), runtime, _etag(), now,
                                                  checked_stores(config)))
            functions[name] = fn
        return ActionResult({"FunctionSummary": summary(fn, "DEVELOPMENT", self.backend),
                             "ETag": fn.development.etag,
                             "Location": f"https://cloudfront.amazonaws.com/2020-05-31/function/{arn}"})

    def describe_function(self: Any) -> Any:
        fn = get_fn(self)
        stage_name = self._get_param("Stage") or "DEVELOPMENT"
        stage = stage_of(fn, stage_name)
        return ActionResult({"FunctionSummary": summary(fn, stage_name, self.backend), "ETag": stage.etag})

    def get_function(self: Any) -> Any:
        fn = get_fn(self)
        stage = stage_of(fn, self._get_param("Stage") or "DEVELOPMENT")
        headers = {"ETag": stage.etag, "Content-Type": "application/octet-stream"}
        return 200, {**self.response_headers, **headers}, stage.code

    def list_functions(self: Any) -> Any:
        wanted = self._get_param("Stage")
        items = []
        for fn in store(self).values():
            if wanted == "LIVE" and fn.live is None:
                continue
            items.append(summary(fn, "LIVE" if wanted == "LIVE" else "DEVELOPMENT", self.backend))
        return ActionResult({"FunctionList": {"MaxItems": 100, "Quantity": len(items), "Items": items or None}})

    def update_function(self: Any) -> Any:
        fn = get_fn(self)
        config = self._get_param("FunctionConfig") or {}
        runtime = str(config.get("Runtime") or "")
        code = checked_code(self._get_param("FunctionCode"), runtime)
        with _lock:
            if_match(self, fn.development)
            fn.development = _Stage(code, str(config.get("Comment") or ""), runtime, _etag(), _now(),
                                    checked_stores(config))
        return ActionResult({"FunctionSummary": summary(fn, "DEVELOPMENT", self.backend),
                             "ETag": fn.development.etag})

    def publish_function(self: Any) -> Any:
        fn = get_fn(self)
        with _lock:
            if_match(self, fn.development)
            dev = fn.development
            fn.live = _Stage(dev.code, dev.comment, dev.runtime, _etag(), _now(), dev.stores)
        return ActionResult({"FunctionSummary": summary(fn, "LIVE", self.backend)})

    def delete_function(self: Any) -> Any:
        fn = get_fn(self)
        with _lock:
            if_match(self, fn.development)
            if associated(self.backend, fn.arn):
                raise Error("FunctionInUse", f"The function {fn.name} is associated with a distribution.")
            del store(self)[fn.name]
        return EmptyResult()

    for method in (create_function, describe_function, get_function, list_functions, update_function,
                   publish_function, delete_function):
        setattr(CloudFrontResponse, method.__name__, method)

    base = "{0}/2020-05-31/function"
    for path in ("$", "/(?P<Name>[^/]+)$", "/(?P<Name>[^/]+)/describe$", "/(?P<Name>[^/]+)/publish$"):
        urls.url_paths[base + path] = CloudFrontResponse.dispatch

    _keep_function_associations(models, Error)
    from tscloud_py.emulator.cloudfront_kvs import add_key_value_stores

    add_key_value_stores(_store_in_use)
    _applied = True


def _behaviors(config: Any) -> list[Any]:
    out = [config.DefaultCacheBehavior]
    block = config.CacheBehaviors
    out.extend(block.get("Items") or [] if isinstance(block, dict) else [])
    return out


def _associations(behavior: Any) -> list[dict[str, Any]]:
    block = getattr(behavior, "function_associations", None) or {}
    return list(block.get("Items") or [])


def _keep_function_associations(models: Any, error: Any) -> None:
    """moto replaces every behavior's FunctionAssociations with Quantity 0; AWS keeps and validates them."""
    original = models.DefaultCacheBehaviour.__init__

    def init(self: Any, config: dict[str, Any]) -> None:
        original(self, config)
        block = config.get("FunctionAssociations") or {}
        items = [dict(i) for i in (block.get("Items") or [])]
        seen: set[str] = set()
        for item in items:
            event = str(item.get("EventType"))
            if event not in EVENT_TYPES:
                raise error("InvalidFunctionAssociation",
                            f"EventType {event} is not valid for a CloudFront function.")
            if event in seen:
                raise error("InvalidFunctionAssociation", f"More than one function for {event}.")
            seen.add(event)
            if not _is_published(str(item.get("FunctionARN"))):
                raise error("InvalidFunctionAssociation",
                            f"The function {item.get('FunctionARN')} does not exist or is not published.")
        self.function_associations = {"Quantity": len(items), "Items": items} if items else {"Quantity": 0}

    models.DefaultCacheBehaviour.__init__ = init


def _store_in_use(backend: Any, arn: str) -> bool:
    functions: dict[str, _Function] = getattr(backend, "tscloud_functions", {})
    return any(arn in fn.development.stores or (fn.live is not None and arn in fn.live.stores)
               for fn in functions.values())


def _is_published(arn: str) -> bool:
    from moto.cloudfront.models import cloudfront_backends

    for per_account in cloudfront_backends.values():
        for backend in per_account.values():
            fn = getattr(backend, "tscloud_functions", {}).get(arn.rsplit("function/", 1)[-1])
            if fn is not None and fn.arn == arn and fn.live is not None:
                return True
    return False
