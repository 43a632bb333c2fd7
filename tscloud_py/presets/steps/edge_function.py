"""A viewer-request CloudFront Function, created, published and kept at the code it is given.

ssr-app's copies the viewer's Host into x-forwarded-host; the preview host's routes each Host through its
KeyValueStore (``store_arn``: the store associated with the function, part of what the step compares).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext


class EdgeFunctionStep(Step):
    kind = "CloudFront Function"
    provides = frozenset({"function_arn"})

    def __init__(self, step_id: str, cloudfront: CloudFront, name: str, *, code: bytes, comment: str, what: str,
                 legacy_name: str | None = None, needs: Sequence[str] = (),
                 store_arn: Ref[str] | None = None) -> None:
        self.id, self.cloudfront, self.name, self.code = step_id, cloudfront, name, code
        self.comment, self.what = comment, what
        self.needs = tuple(needs)
        self.store_arn = store_arn
        # Its name before it carried the region: kept when the journal recorded it as this stage's.
        self.legacy_name = legacy_name

    def _stores(self, ctx: StepContext) -> tuple[str, ...]:
        return (ctx.get(self.store_arn),) if self.store_arn else ()

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        name = self.name
        found = self.cloudfront.describe_function(name, "DEVELOPMENT")
        recorded = ctx.previous.get(self.id, {}).get("function_arn")
        if found is None and self.legacy_name and recorded and recorded.endswith(f":function/{self.legacy_name}"):
            name = self.legacy_name
            found = self.cloudfront.describe_function(name, "DEVELOPMENT")
        if found is None:
            return None
        summary, etag = found
        observed = {"name": name, "etag": etag, "arn": summary.get("FunctionMetadata", {}).get("FunctionARN"),
                    "live_code": self.cloudfront.get_function_code(name, "LIVE"), "live_stores": ()}
        if self.store_arn is not None:  # what LIVE is associated with: only a function with a store asks
            live = self.cloudfront.describe_function(name, "LIVE")
            observed["live_stores"] = CloudFront.function_stores(live[0]) if live else ()
        return observed

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        if observed is None:
            return [Change(f"create and publish CloudFront Function {self.name} ({self.what})")]
        changes = []
        if observed.get("live_code") != self.code:
            changes.append(Change("code", "differs" if observed.get("live_code") else None, self.what))
        if tuple(observed.get("live_stores") or ()) != self._stores(ctx):
            changes.append(Change("key value store", list(observed.get("live_stores") or ()),
                                  list(self._stores(ctx))))
        return changes

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        name = observed.get("name", self.name) if observed is not None else self.name
        stores = self._stores(ctx)
        if observed is None:
            etag = self.cloudfront.create_function(name, self.code, self.comment, stores=stores)
        else:
            etag = self.cloudfront.update_function(name, self.code, self.comment, observed["etag"], stores=stores)
        return {"function_arn": self.cloudfront.publish_function(name, etag)}

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        return {"function_arn": observed["arn"]}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        if observed:
            name = observed.get("name", self.name)
            found = self.cloudfront.describe_function(name, "DEVELOPMENT")
            if found is not None:
                self.cloudfront.delete_function(name, found[1])
