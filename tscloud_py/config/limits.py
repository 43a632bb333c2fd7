"""AWS's documented limits, checked locally so a bad value fails as one line before the first write.

moto accepts most of these values; AWS rejects them, late, after the resources before them exist.
Each check raises ``ConfigError`` naming the key. Sources:

- Lambda: "Lambda quotas" (environment variables: 4 KB in total) and "Defined runtime environment
  variables" (the reserved keys, which a function configuration cannot set).
- ECS: "Amazon ECS service quotas" (a task definition is at most 64 KiB).
- EventBridge Scheduler: "Schedule types" (cron with six fields, one of day-of-month and day-of-week
  '?'; rate with a positive whole value and minute/minutes, hour/hours, day/days; at(yyyy-mm-ddThh:mm:ss)).
- VPC: "VPC CIDR blocks" (a block between /16 and /28 of a valid IPv4 network).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from functools import lru_cache

from tscloud_py.errors import ConfigError, closest

LAMBDA_ENV_BYTES = 4096
TASK_DEFINITION_BYTES = 64 * 1024
LAMBDA_RESERVED_ENV = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})


def lambda_environment(shown: str, key: str, env: Mapping[str, str], *, added: Mapping[str, str] = {}) -> None:
    """Reserved names and the 4 KB total (Lambda counts the JSON of the variables map)."""
    for name in env:
        if name in LAMBDA_RESERVED_ENV:
            raise ConfigError(shown, f"{key}.{name}", "is reserved by Lambda (set by the runtime); rename it")
    size = len(json.dumps({**env, **added}, separators=(",", ":")).encode())
    if size > LAMBDA_ENV_BYTES:
        raise ConfigError(shown, key, f"the function's environment is {size} bytes; Lambda allows "
                          f"{LAMBDA_ENV_BYTES} in total", "move large values to S3, SSM or Secrets Manager")


def task_environment(shown: str, key: str, env: Mapping[str, str], secrets: Mapping[str, str]) -> None:
    size = len(json.dumps([{"name": k, "value": v} for k, v in env.items()]).encode()) + \
        len(json.dumps([{"name": k, "valueFrom": v} for k, v in secrets.items()]).encode())
    if size > TASK_DEFINITION_BYTES:
        raise ConfigError(shown, key, f"the environment is {size} bytes; a task definition is at most "
                          f"{TASK_DEFINITION_BYTES} bytes", "move large values to S3, SSM or Secrets Manager")


# -- schedule expressions -----------------------------------------------------------------------
def schedule_expression(shown: str, key: str, expression: str) -> None:
    from tscloud_py.config.schedule_expression import ExpressionError, parse

    try:
        parse(expression)
    except ExpressionError as problem:
        raise ConfigError(shown, key, f"{problem}, got {expression!r}",
                          "see EventBridge Scheduler's schedule types: cron(0 3 * * ? *), rate(5 minutes), "
                          "at(2030-01-01T00:00:00)") from None


# -- time zones ---------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def timezone(shown: str, key: str, name: str) -> None:
    zones = _zones()
    if not zones or name in zones or name == "UTC":  # no tz database here: AWS will judge
        return
    close = closest(name, sorted(zones))
    raise ConfigError(shown, key, f"{name!r} is not an IANA time zone" +
                      (f" (did you mean {close!r}?)" if close else ""), "e.g. Europe/Berlin, America/New_York")


# -- networks -----------------------------------------------------------------------------------
def vpc_cidr(shown: str, key: str, cidr: str, *, prefix: int = 16) -> None:
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise ConfigError(shown, key, f"not a valid IPv4 network ({exc}), got {cidr!r}",
                          "e.g. 10.0.0.0/16") from None
    if not isinstance(net, ipaddress.IPv4Network) or net.prefixlen != prefix:
        raise ConfigError(shown, key, f"expected an IPv4 /{prefix}, got {cidr!r}", "e.g. 10.0.0.0/16")


# -- engine versions ----------------------------------------------------------------------------
_ENGINE_VERSION = {
    "postgres": re.compile(r"(1[1-9]|[2-9]\d)(\.\d{1,2})?"),
    "aurora-postgresql": re.compile(r"(1[1-9]|[2-9]\d)\.\d{1,2}"),
}


def engine_version(shown: str, key: str, engine: str, version: str) -> None:
    """The form RDS uses for the engine (major, or major.minor); whether RDS offers that exact version is
    asked of the API before the first write."""
    pattern = _ENGINE_VERSION.get(engine)
    if pattern is not None and not pattern.fullmatch(version):
        form = "MAJOR.MINOR like 16.4" if engine == "aurora-postgresql" else "MAJOR or MAJOR.MINOR like 16 or 16.4"
        raise ConfigError(shown, key, f"expected a {engine} version of the form {form}, got {version!r}")


# The distribution spec's reference grammar (distribution/reference, reference.go), as ECS pulls by it:
# [host[:port]/]path[:tag][@digest]; a digest of a known algorithm has that algorithm's length (OCI
# image-spec, descriptor.md: sha256 is 64 and sha512 128 lowercase hex digits).
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = re.compile(
    rf"(?:(?P<host>{_HOST})/)?(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<algorithm>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*)"
    r":(?P<hex>[0-9a-fA-F]{32,}))?")
_DIGEST_HEX = {"sha256": re.compile(r"[a-f0-9]{64}"), "sha512": re.compile(r"[a-f0-9]{128}")}
NAME_MAX = 255


def image_reference(shown: str, key: str, value: str) -> None:
    """An image reference as the distribution spec reads it, pinned by a tag or a digest."""
    match = _IMAGE_REFERENCE.fullmatch(value)
    expected = "an image reference like registry.example.com/team/app:1.4 or app@sha256:<64 hex digits>"
    if match is None:
        raise ConfigError(shown, key, f"expected {expected}, got {value!r}")
    name = (match["host"] + "/" if match["host"] else "") + match["path"]
    if len(name) > NAME_MAX:
        raise ConfigError(shown, key, f"the repository name is over {NAME_MAX} characters")
    if match["tag"] is None and match["algorithm"] is None:
        raise ConfigError(shown, key, f"pin the image by tag or digest, got {value!r}")
    algorithm = match["algorithm"]
    if algorithm is not None and algorithm in _DIGEST_HEX and not _DIGEST_HEX[algorithm].fullmatch(match["hex"]):
        raise ConfigError(shown, key, f"a {algorithm} digest is {64 if algorithm == 'sha256' else 128} lowercase hex "
                          f"digits, got {value!r}")
