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
from datetime import datetime
from functools import lru_cache

from tscloud_py.errors import ConfigError

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
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")


def _cron_field(value: str, lo: int, hi: int, names: str = "", extra: str = "") -> bool:
    if value == "*" or (extra and re.fullmatch(extra, value)):
        return True
    atom = rf"(\d+|{names})" if names else r"(\d+)"
    for part in value.split(","):
        m = re.fullmatch(rf"{atom}(-{atom})?(/(\d+))?|\*/(\d+)", part)
        if not m:
            return False
        for raw in (m.group(1), m.group(3)):
            if raw is not None and raw.isdigit() and not lo <= int(raw) <= hi:
                return False
        step = m.group(5) or m.group(6)
        if step is not None and int(step) == 0:
            return False
    return True


def schedule_expression(shown: str, key: str, expression: str) -> None:
    problem = _expression_problem(expression)
    if problem:
        raise ConfigError(shown, key, f"{problem}, got {expression!r}",
                          "see EventBridge Scheduler's schedule types: cron(0 3 * * ? *), rate(5 minutes), "
                          "at(2030-01-01T00:00:00)")


def _expression_problem(expression: str) -> str | None:
    if expression.startswith("rate("):
        m = _RATE.fullmatch(expression)
        if not m or int(m.group(1)) <= 0:
            return "expected rate(N unit) with a whole N > 0 and unit minute(s), hour(s) or day(s)"
        if (int(m.group(1)) == 1) != (not m.group(2).endswith("s")):
            return "rate(1 ...) takes a singular unit and rate(N ...) a plural one"
        return None
    if expression.startswith("at("):
        m = _AT.fullmatch(expression)
        if not m:
            return "expected at(yyyy-mm-ddThh:mm:ss)"
        try:
            datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return "at(...) is not a real date and time"
        return None
    m = re.fullmatch(r"cron\((.*)\)", expression)
    if not m:
        return "expected cron(...), rate(...) or at(...)"
    fields = m.group(1).split()
    if len(fields) != 6:
        return "expected cron(minutes hours day-of-month month day-of-week year), six fields"
    minute, hour, dom, month, dow, year = fields
    checks = [
        _cron_field(minute, 0, 59), _cron_field(hour, 0, 23),
        _cron_field(dom, 1, 31, extra=r"\?|L|W|\d{1,2}W|L-\d{1,2}"),
        _cron_field(month, 1, 12, _MONTHS),
        _cron_field(dow, 1, 7, _DAYS, extra=r"\?|L|\d[L]|(\d|" + _DAYS + r")#[1-5]"),
        _cron_field(year, 1970, 2199),
    ]
    if not all(checks):
        names = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
        return f"the cron {names[checks.index(False)]} field is not valid"
    if (dom == "?") == (dow == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    return None


# -- time zones ---------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def timezone(shown: str, key: str, name: str) -> None:
    zones = _zones()
    if not zones or name in zones or name == "UTC":  # no tz database here: AWS will judge
        return
    import difflib

    close = difflib.get_close_matches(name, sorted(zones), n=1)
    raise ConfigError(shown, key, f"{name!r} is not an IANA time zone" +
                      (f" (did you mean {close[0]!r}?)" if close else ""), "e.g. Europe/Berlin, America/New_York")


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
