"""Every retry tscloud makes above a single request, in one place.

botocore retries each request itself (standard mode, ``session.ClientFactory``): throttling, a 5xx and a
dropped connection are sent again inside the client. What is here is what a client cannot know: that an
answer means "not yet" rather than "no". Each retry is bounded and logged; waits for a state
(``Deployed``, ``available``) are polls, not retries, and live in ``waiters.py``.

- ``create_or_adopt``: a create without an idempotency token, retried only after looking for what a lost
  answer may have created.
- ``retry_new_role``: IAM is eventually consistent, so a role created seconds ago may not be assumable yet.
- ``retrying``: the policy the others are built on (tenacity, loaded at the first retry), for callers with their own "not yet" answer
  (a target group still in use, an ENI not yet released, a distribution's ETag changed under us).
- ``transient`` and ``backoff``: the bulk PUT's own loop (``s3_put``, which signs its requests itself and
  so gets no botocore retry) retries what botocore's standard mode would, with the same jittered wait.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from tscloud_py.errors import AwsError

if TYPE_CHECKING:
    import tenacity

T = TypeVar("T")
log = logging.getLogger(__name__)

# Retry-worthy answers that say AWS did NOT act (so the request can be sent again as it is).
THROTTLED = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
                       "TooManyRequestsException", "RequestThrottled", "RequestThrottledException",
                       "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException"})
# S3's answers for a request it dropped on its side (botocore's standard mode retries them too).
TRANSIENT = frozenset({"RequestTimeout", "InternalError", "ServiceUnavailable"})
MAX_BACKOFF = 20.0  # seconds, as botocore's standard retry mode

# ~45 s in all (1, 2, 4, 8, then 10 s apart): IAM documents propagation as "a few seconds", and a role
# that is still not assumable after that is not going to be.
ROLE_ATTEMPTS = 8

# The waits' jitter comes from a generator of its own: drawing from the module-level one would move the
# state of the process's ``random``, which a program embedding tscloud (or a test seeding it) owns.
_jitter = random.Random()


def outcome_unknown(exc: AwsError) -> bool:
    """Whether AWS may have acted on a request that failed this way (a 5xx, or no answer at all)."""
    return exc.ambiguous or (exc.status is not None and exc.status >= 500)


def transient(status: int, code: str) -> bool:
    """Whether a request that got this answer may be sent again as it is (for an idempotent request)."""
    return status >= 500 or code in THROTTLED or code in TRANSIENT


def backoff(attempt: int) -> float:
    """The wait after failed attempt ``attempt`` (1-based): botocore's full jitter, 2**(n-1) s capped at 20 s."""
    return _jitter.random() * min(2.0 ** (attempt - 1), MAX_BACKOFF)


def jittered(low: float, high: float) -> float:
    """A wait drawn evenly from ``low`` to ``high`` seconds."""
    return _jitter.uniform(low, high)


def codes(*names: str) -> Callable[[BaseException], bool]:
    """A retry predicate: an AwsError with one of these codes."""
    return lambda exc: isinstance(exc, AwsError) and exc.code in names


def retrying(when: Callable[[BaseException], bool], *, what: str, attempts: int | None = None,
             within: float | None = None, first: float = 1.0, most: float = 10.0,
             waits: Callable[[int], float] | None = None,
             sleep: Callable[[float], None] | None = None) -> Policy:
    """Retry while ``when(exc)``: exponential waits from ``first`` to ``most`` seconds (or ``waits(n)``
    seconds after failed attempt n), at most ``attempts`` tries or ``within`` seconds; then the last error
    is raised as it was. Each retry is logged as ``what``."""
    return Policy(when, what=what, attempts=attempts, within=within, first=first, most=most, waits=waits,
                  sleep=sleep)


@dataclass(frozen=True)
class Policy:
    """A retry policy: ``policy(fn, *args)`` calls ``fn`` until it returns or the policy gives up, and
    ``for attempt in policy: with attempt: ...`` retries a block (tenacity's protocol, for a block that
    needs its attempt's number). tenacity runs the retries; a call loads it at its first failure worth
    retrying, so a run that retries nothing (most runs) does not load it."""

    when: Callable[[BaseException], bool]
    what: str
    attempts: int | None
    within: float | None
    first: float
    most: float
    waits: Callable[[int], float] | None
    sleep: Callable[[float], None] | None

    def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if self.attempts == 1 or not self.when(exc):
                raise
            failed: list[BaseException] = [exc]

        def attempt() -> T:
            if failed:  # the first attempt, as it ended: tenacity counts it and waits before the second
                raise failed.pop()
            return fn(*args, **kwargs)

        return self._tenacity()(attempt)

    def __iter__(self) -> Iterator[tenacity.AttemptManager]:
        return iter(self._tenacity())

    def _tenacity(self) -> tenacity.Retrying:
        import tenacity

        stops: list[tenacity.stop.stop_base] = []
        if self.attempts:
            stops.append(tenacity.stop_after_attempt(self.attempts))
        if self.within:
            stops.append(tenacity.stop_after_delay(self.within))
        waits = self.waits
        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(self.when),
            stop=tenacity.stop_any(*stops) if stops else tenacity.stop_never,
            wait=(lambda state: waits(state.attempt_number)) if waits is not None else
            tenacity.wait_exponential(multiplier=self.first, min=self.first, max=self.most),
            sleep=self.sleep or time.sleep,
            before_sleep=lambda state: log.info("%s (attempt %d); retrying", self.what, state.attempt_number),
            reraise=True,
        )


def role_not_ready(exc: BaseException) -> bool:
    """A call that names a role IAM has not finished propagating. Each service says it its own way:

    - Lambda: InvalidParameterValueException "The role defined for the function cannot be assumed by
      Lambda." (or, for a VPC function, "The provided execution role does not have permissions to ...");
    - ECS: InvalidParameterException "Unable to assume role ...";
    - EventBridge Scheduler and Application Auto Scaling: ValidationException "The execution role you
      provide must allow ... to assume the role." / "Unable to assume IAM role".

    Any of those codes with "assume" or "role" in the message; other validation errors fail at once.
    """
    return (isinstance(exc, AwsError)
            and exc.code in ("InvalidParameterValueException", "InvalidParameterException", "ValidationException")
            and ("assume" in exc.aws_message.lower() or "role" in exc.aws_message.lower()))


def retry_new_role(fn: Callable[..., T], *, attempts: int = ROLE_ATTEMPTS,
                   sleep: Callable[[float], None] | None = None) -> Callable[..., T]:
    """``fn``, retried while a new IAM role propagates."""
    def call(*args: object, **kwargs: object) -> T:
        return retrying(role_not_ready, what="role not assumable yet", attempts=attempts, most=10.0,
                        sleep=sleep)(fn, *args, **kwargs)
    return call


def create_or_adopt(create: Callable[[], T], find: Callable[[], T | None], operation: str, *,
                    exists: tuple[str, ...] = (), attempts: int = 6,
                    sleep: Callable[[float], None] | None = None) -> T:
    """Create a resource that has no idempotency token, so that a lost response never makes a second one.

    ``create`` must send its request once (a client from ``factory.client(..., once=True)``). When the
    answer is a 5xx or never arrives, AWS may have created the resource: ``find`` looks it up (by its
    deterministic name or tag) and adopts it, and only if it is not there is the create sent again. An
    ``exists`` error (the name is taken) is resolved the same way. Throttling is simply retried.
    """
    def look_first() -> T:
        try:
            return create()
        except AwsError as exc:
            unknown = outcome_unknown(exc)
            if unknown or exc.code in exists:
                found = find()
                if found is not None:
                    return found
                if exc.code in exists and not unknown:
                    raise _Final(exc) from exc
            elif exc.code not in THROTTLED:
                raise _Final(exc) from exc
            raise

    def again(exc: BaseException) -> bool:
        return isinstance(exc, AwsError)

    try:
        return retrying(again, what=operation, attempts=attempts, first=1.0, most=20.0, sleep=sleep)(look_first)
    except _Final as final:
        raise final.error from final.error.__cause__


class _Final(Exception):
    """An answer ``create_or_adopt`` does not retry, carried past the retry policy."""

    def __init__(self, error: AwsError) -> None:
        super().__init__(str(error))
        self.error = error
