"""The error catalogue.

Every error a user can see is a ``TscloudError``: one line of message, a hint
that says what to do next, and the process exit code. The CLI prints
``error: <message>`` and ``hint: <hint>`` and never a traceback (unless ``-v``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def closest(word: str, choices: Iterable[object]) -> str | None:
    """The choice a mistyped ``word`` most likely meant, for a did-you-mean; None when none is close."""
    import difflib  # only an error pays for it

    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return close[0] if close else None


class TscloudError(Exception):
    """Base of every user-facing error."""

    exit_code = 1
    default_hint = "re-run with -v for details"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint

    def __str__(self) -> str:
        return self.message


class UsageError(TscloudError):
    """Bad flags or arguments: exit 2, nothing done."""

    exit_code = 2
    default_hint = "see `tscloud --help`"


class ConfigError(UsageError):
    """A bad tscloud.toml. The message names the file and the key."""

    default_hint = "fix the file; `tscloud config schema` lists every key"

    def __init__(self, path: str, key: str, expected: str, hint: str | None = None) -> None:
        where = f"{path}: {key}" if key else path
        if hint is None and key:
            hint = f"fix {key} in {path}; `tscloud config schema` lists every key"
        super().__init__(f"{where}: {expected}", hint)
        self.path = path
        self.key = key
        self.expected = expected


class LockHeldError(TscloudError):
    """Another run holds the lock for this app and stage."""

    default_hint = "wait for it to finish, or pass --force-unlock if that run is dead"


class StateConflictError(TscloudError):
    """The lock or journal in the state store changed under this run: another run took over."""

    default_hint = "another run took this stage over; re-run once it is done"


class JournalDisagreesError(TscloudError):
    """The journal asks for a destructive action that what AWS holds does not bear out."""

    default_hint = ("the journal was changed or is stale; check what differs by hand, then undo it yourself "
                    "or delete the journal (`tscloud state show` names it) and re-run")


class AwsError(TscloudError):
    """An AWS API call failed. Carries the AWS error code."""

    default_hint = "check the AWS error code in the AWS documentation for this operation"

    def __init__(self, operation: str, code: str, message: str, hint: str | None = None, *,
                 status: int | None = None, ambiguous: bool = False) -> None:
        super().__init__(f"{operation} failed: {code}: {message}",
                         hint or _access_denied_hint(operation, code, message) or _hint_for_code(code))
        self.operation = operation
        self.code = code
        self.aws_message = message
        self.status = status  # the HTTP status, when AWS answered
        self.ambiguous = ambiguous  # no answer (connection dropped, timeout): AWS may have acted


class StepFailedError(TscloudError):
    """A deploy step failed; names the step, the AWS error code and a hint."""

    default_hint = "fix the cause and re-run `tscloud deploy`; finished steps are not redone"

    def __init__(self, step_id: str, cause: Exception, hint: str | None = None) -> None:
        cause_hint = getattr(cause, "hint", None)
        if isinstance(cause, AwsError):
            code = cause.code
            text = f"{cause.operation} returned {cause.code}: {cause.aws_message}"
        elif isinstance(cause, TscloudError):
            code = type(cause).__name__
            text = cause.message
        else:
            code = type(cause).__name__
            text = f"{code}: {cause}"
        super().__init__(f"step '{step_id}' failed: {text}", hint or cause_hint)
        self.step_id = step_id
        self.code = code
        self.cause = cause


class WaitTimeoutError(TscloudError):
    """A wait ran past its timeout."""

    default_hint = "the resource may still be settling; re-run the command to resume waiting"


class DeployFailedError(TscloudError):
    """One or more steps failed during a deploy/destroy run (details already printed)."""

    default_hint = "fix the cause and re-run; finished steps are not redone"


class NotDeployedError(UsageError):
    """A command needs outputs of a step that has never been deployed."""

    default_hint = "run `tscloud deploy` first"


class EmulatorUnavailableError(UsageError):
    """--local was asked for but moto's server is not installed."""

    default_hint = "pip install 'tscloud[local]'"


_CODE_HINTS = {
    "UnrecognizedClientException": "check AWS credentials (--profile or AWS_PROFILE)",
    "InvalidClientTokenId": "check AWS credentials (--profile or AWS_PROFILE)",
    "ExpiredToken": "refresh your AWS session credentials",
    "ExpiredTokenException": "refresh your AWS session credentials",
    "Throttling": "AWS throttled us past the retry budget; re-run shortly",
    "ThrottlingException": "AWS throttled us past the retry budget; re-run shortly",
    "TooManyRequestsException": "AWS throttled us past the retry budget; re-run shortly",
    "PreconditionFailed": "someone else changed the resource meanwhile; re-run to retry on fresh state",
    "BucketAlreadyExists": "the bucket name is taken in another account; choose another app name",
    "NoSuchDistribution": "check the distribution id with `aws cloudfront list-distributions`",
    "LimitExceededException": "an AWS quota was reached; request a quota increase",
    "TooManyCacheBehaviors": "the distribution is at its cache-behavior quota",
    "TooManyOrigins": "the distribution is at its origin quota",
}


def _hint_for_code(code: str) -> str | None:
    return _CODE_HINTS.get(code)


ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
                           "UnauthorizedAccess", "Forbidden"})
POLICY_HINT = "`tscloud iam policy` shows what the deploy role needs (`--for preview`: the preview role)"


def _access_denied_hint(operation: str, code: str, message: str) -> str | None:
    """For a refusal by IAM: the action and resource AWS names ("... not authorized to perform: s3:PutObject
    on resource: arn:aws:s3:::b/k ..."), else the operation refused, and where the policy it needs is."""
    if code not in ACCESS_DENIED:
        return None
    found = re.search(r"perform:? (?P<action>[\w-]+:[\w*]+)(?: on resource:? (?P<resource>\S+?)[,;.]?(?:\s|$))?",
                      message)
    action = found.group("action") if found else operation
    resource = found.group("resource") if found and found.group("resource") else None
    on = f" on {resource}" if resource else ""
    return f"these credentials may not {action}{on}; {POLICY_HINT}"
