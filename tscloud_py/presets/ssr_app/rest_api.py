"""ssr-app's api-gateway origin: a regional REST API proxying every path to the server function.

With a streaming build the integrations use the response-streaming invocation URI and
``responseTransferMode: STREAM`` (as the seed's CDK ``ResponseTransferMode.STREAM`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tscloud_py.aws.apigateway import ApiGateway
from tscloud_py.aws.lambda_ import Lambda
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.presets.naming import Names

PROXY_PART = "{proxy+}"
API_SID = "tscloud-apigateway"


def lambda_uri(region: str, function_arn: str, *, streaming: bool) -> str:
    if streaming:
        return (f"arn:aws:apigateway:{region}:lambda:path/2021-11-15/functions/{function_arn}"
                "/response-streaming-invocations")
    return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


class RestApiStep(Step):
    kind = "API Gateway REST API"
    provides = frozenset({"api_id", "api_domain", "origin_path"})

    def __init__(self, step_id: str, api: ApiGateway, name: str, names: Names, *, streaming: bool,
                 function_arn: Ref[str], needs: Sequence[str], stage_name: str = "live") -> None:
        self.id, self.api, self.name, self.region = step_id, api, name, names.region
        self.streaming = streaming
        self.names, self.stage_name = names, stage_name
        self.function_arn = function_arn
        self.needs = tuple(needs)
        self.transfer_mode = "STREAM" if streaming else "BUFFERED"

    def uri(self, ctx: StepContext) -> str:
        return lambda_uri(self.region, ctx.get(self.function_arn), streaming=self.streaming)

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        found = self.api.find_rest_api(self.name)
        if found is None:
            return None
        api_id = str(found["id"])
        by_path = {r.get("path"): r for r in self.api.resources(api_id)}
        root, proxy = by_path.get("/"), by_path.get(f"/{PROXY_PART}")
        integrations: dict[str, dict[str, Any] | None] = {}
        for path, resource in (("/", root), (f"/{PROXY_PART}", proxy)):
            got = self.api.get_integration(api_id, resource["id"], "ANY") if resource else None
            integrations[path] = {k: v for k, v in got.items() if k != "ResponseMetadata"} if got else None
        return {"id": api_id, "root_id": root["id"] if root else None, "proxy_id": proxy["id"] if proxy else None,
                "integrations": integrations, "stage": self.api.get_stage(api_id, self.stage_name) is not None}

    def _integration_changes(self, ctx: StepContext, observed: dict[str, Any]) -> dict[str, str]:
        """Paths whose ANY integration is missing or differs -> why."""
        uri, out = self.uri(ctx), {}
        for path, integ in observed["integrations"].items():
            if integ is None:
                out[path] = "missing"
            elif integ.get("type") != "AWS_PROXY" or integ.get("uri") != uri:
                out[path] = f"uri {integ.get('uri')}"
            elif integ.get("responseTransferMode") != self.transfer_mode:
                out[path] = f"responseTransferMode {integ['responseTransferMode']}"
        return out

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        if observed is None:
            return [Change(f"create regional REST API {self.name}: ANY / and /{PROXY_PART} -> Lambda proxy "
                           f"({self.transfer_mode}), stage {self.stage_name}")]
        changes = [Change(f"integration ANY {path}", why, f"AWS_PROXY {self.transfer_mode}")
                   for path, why in self._integration_changes(ctx, observed).items()]
        if not observed["stage"]:
            changes.append(Change(f"stage {self.stage_name}", None, "deploy"))
        return changes

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        if observed is None:
            api_id = str(self.api.create_rest_api(self.name, self.names.tags(self.id),
                                                  self.names.description("server"))["id"])
            observed = {"id": api_id, "root_id": None, "proxy_id": None, "stage": False,
                        "integrations": {"/": None, f"/{PROXY_PART}": None}}
        api_id = observed["id"]
        resources = {r.get("path"): r["id"] for r in self.api.resources(api_id)}
        if f"/{PROXY_PART}" not in resources:
            resources[f"/{PROXY_PART}"] = self.api.create_resource(api_id, resources["/"], PROXY_PART)["id"]
        changed = self._integration_changes(ctx, observed)
        for path in changed:
            resource_id = resources[path]
            if self.api.get_method(api_id, resource_id, "ANY") is None:
                self.api.put_method(api_id, resource_id, "ANY")
            self.api.put_lambda_proxy_integration(api_id, resource_id, "ANY", self.uri(ctx),
                                                  transfer_mode=self.transfer_mode)
        if changed or not observed["stage"]:
            self.api.create_deployment(api_id, self.stage_name, "tscloud deploy")
        return self.outputs(ctx, observed)

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        api_id = observed["id"]
        return {"api_id": api_id, "api_domain": f"{api_id}.execute-api.{self.region}.amazonaws.com",
                "origin_path": f"/{self.stage_name}"}

    def destroy(self, ctx: StepContext, observed: dict[str, Any]) -> None:
        self.api.delete_rest_api(observed["id"])


class ApiPermissionStep(Step):
    """API Gateway (this API only) may invoke the server function."""

    kind = "Lambda permission"

    def __init__(self, step_id: str, lam: Lambda, function_name: str, region: str, account: Callable[[], str], *,
                 api_id: Ref[str], needs: Sequence[str]) -> None:
        self.id, self.lam, self.function_name, self.region, self._account = step_id, lam, function_name, region, account
        self.api_id = api_id
        self.needs = tuple(needs)

    def source_arn(self, ctx: StepContext) -> str:
        return f"arn:aws:execute-api:{self.region}:{self._account()}:{ctx.get(self.api_id)}/*"

    def read(self, ctx: StepContext) -> str | None:
        for statement in self.lam.policy_statements(self.function_name):
            if statement.get("Sid") == API_SID:
                condition = statement.get("Condition", {})
                return str((condition.get("ArnLike") or condition.get("ArnEquals") or {}).get("AWS:SourceArn"))
        return None

    def diff(self, ctx: StepContext, observed: str | None) -> list[Change]:
        source = self.source_arn(ctx)
        return [] if observed == source else [Change(f"permission {API_SID}", observed, source)]

    def apply(self, ctx: StepContext, observed: str | None) -> Outputs:
        if observed is not None:
            self.lam.remove_permission(self.function_name, API_SID)
        self.lam.add_permission(self.function_name, statement_id=API_SID, action="lambda:InvokeFunction",
                                principal="apigateway.amazonaws.com", source_arn=self.source_arn(ctx))
        return {}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.lam.remove_permission(self.function_name, API_SID)
