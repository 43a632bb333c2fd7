"""ssr-app table: [ssr]. Owned by the ssr-app work (issue 6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tscloud_py.schema.common import meta

IAM_ACTION_PATTERN = r"[a-zA-Z0-9-]+:[A-Za-z0-9*]+"
ARN_PATTERN = r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:\S+"


@dataclass
class SsrPermission:
    actions: list[str] = field(metadata=meta(
        "IAM actions the server may call, e.g. bedrock:InvokeModel (never '*')",
        pattern=IAM_ACTION_PATTERN, pattern_help="expected service:Action, e.g. bedrock:InvokeModel"))
    resources: list[str] = field(metadata=meta(
        "ARNs the actions apply to (never '*')", pattern=ARN_PATTERN,
        pattern_help="expected an ARN like arn:aws:bedrock:us-east-1::foundation-model/anthropic.*"))


@dataclass
class SsrConfig:
    dir: str = field(default=".output", metadata=meta("the Nitro build output, relative to tscloud.toml"))
    streaming: bool | None = field(default=None, metadata=meta(
        "expect response streaming; default: decided by the build's nitro.json (a mismatch is an error)"))
    origin: Literal["function-url", "api-gateway"] = field(default="function-url", metadata=meta(
        "how CloudFront reaches the server: a Lambda Function URL (OAC) or a regional REST API"))
    runtime: str | None = field(default=None, metadata=meta(
        "Lambda runtime; default: the newest nodejs runtime botocore knows",
        pattern=r"nodejs\d+\.x", pattern_help="expected a Node runtime like nodejs22.x"))
    memory: int = field(default=2048, metadata=meta("Lambda memory in MB", min=128, max=10240))
    timeout: int = field(default=60, metadata=meta("Lambda timeout in seconds", min=1, max=900))
    architecture: Literal["arm64", "x86_64"] = field(default="arm64", metadata=meta("Lambda architecture"))
    environment: dict[str, str] = field(default_factory=dict, metadata=meta(
        "environment variables of the server function", key_pattern=r"[a-zA-Z][a-zA-Z0-9_]*"))
    layers: list[str] = field(default_factory=list, metadata=meta(
        "layer version ARNs attached to the server (at most 5)", max_items=5,
        pattern=r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+",
        pattern_help="expected a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)"))
    log_retention_days: int = field(default=14, metadata=meta(
        "CloudWatch Logs retention of the server's log group", choices=[
            1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
            3288, 3653]))
    permissions: list[SsrPermission] = field(default_factory=list, metadata=meta(
        "what the server's role may do besides writing its logs"))
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = field(
        default="PriceClass_100", metadata=meta("CloudFront price class"))
