"""What the embedded emulator holds for a Lambda function, for running it on this machine.

moto keeps a function's code in memory and hands out a Code.Location nobody can
download, so whatever runs a deployed function locally (the local edge) reads
it here, from the emulator in this process. Nothing here mutates moto.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LocalFunction:
    name: str
    region: str
    runtime: str
    handler: str
    timeout_s: int
    memory_mb: int
    code_sha256: str
    zip_bytes: bytes = field(repr=False)
    environment: dict[str, str] = field(default_factory=dict, repr=False)
    invoke_mode: str = "BUFFERED"
    layers: tuple[str, ...] = ()  # layer version ARNs, in the order Lambda unpacks them in /opt
    architecture: str = "x86_64"


def function_for_url(url_host: str) -> LocalFunction | None:
    """The function whose Function URL has this host (``<id>.lambda-url.<region>.on.aws``), if the emulator
    in this process has it."""
    try:
        from moto.awslambda.models import lambda_backends
    except ImportError:
        return None
    for regions in list(lambda_backends.values()):
        for region, backend in list(regions.items()):
            for fn in list(backend._lambdas.latest()):
                config = fn.url_config
                if config is None or config.url.removeprefix("https://").rstrip("/") != url_host:
                    continue
                return describe(fn, region)
    return None


def describe(fn: Any, region: str | None = None) -> LocalFunction:
    """A moto LambdaFunction as what running it needs."""
    config = getattr(fn, "url_config", None)
    mode = config.config.get("InvokeMode") if config is not None else None
    return LocalFunction(
        name=fn.function_name, region=region or str(fn.region), runtime=str(fn.run_time or ""),
        handler=str(fn.handler or ""), timeout_s=int(fn.timeout or 3),
        memory_mb=int(fn.memory_size or 128), code_sha256=str(fn.code_sha_256),
        zip_bytes=bytes(fn.code_bytes or b""),
        environment={str(k): str(v) for k, v in (fn.environment_vars or {}).items()},
        invoke_mode=str(mode or "BUFFERED").upper(),
        layers=tuple(str(layer["Arn"]) for layer in getattr(fn, "layers", None) or []),
        architecture=str((getattr(fn, "architectures", None) or ["x86_64"])[0]))


def layer_zip(arn: str) -> bytes | None:
    """The zip of the layer version ``arn:aws:lambda:<region>:<account>:layer:<name>:<version>``, if the
    emulator in this process has it."""
    parts = arn.split(":")
    if len(parts) != 8:
        return None
    try:
        from moto.awslambda.models import lambda_backends
    except ImportError:
        return None
    regions = lambda_backends.get(parts[4])
    backend = regions.get(parts[3]) if regions is not None else None
    version = backend.layers_versions_by_arn(arn) if backend is not None else None
    return bytes(version.code_bytes) if version is not None and version.code_bytes else None


def function_by_arn(arn: str) -> LocalFunction | None:
    """The function ``arn:aws:lambda:<region>:<account>:function:<name>`` names, if the emulator in this process
    has it."""
    parts = arn.split(":")
    if len(parts) < 7:
        return None
    try:
        from moto.awslambda.models import lambda_backends
    except ImportError:
        return None
    region, account, name = parts[3], parts[4], parts[6]
    regions = lambda_backends.get(account)
    backend = regions.get(region) if regions is not None else None
    if backend is None:
        return None
    fn = next((f for f in list(backend._lambdas.latest()) if f.function_name == name), None)
    return describe(fn, region) if fn is not None else None
