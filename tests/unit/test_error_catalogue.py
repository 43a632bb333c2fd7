"""Every user-facing error says what to do next: a specific default hint on every TscloudError subclass."""

from __future__ import annotations

import importlib
import pkgutil

import tscloud_py
from tscloud_py.errors import TscloudError, UsageError

GENERIC = {TscloudError.default_hint, UsageError.default_hint}


def all_error_classes() -> list[type[TscloudError]]:
    for mod in pkgutil.walk_packages(tscloud_py.__path__, "tscloud_py."):
        if not mod.name.endswith("__main__"):  # __main__ runs the CLI
            importlib.import_module(mod.name)
    found: list[type[TscloudError]] = []

    def walk(cls: type[TscloudError]) -> None:
        for sub in cls.__subclasses__():
            if sub not in found:
                found.append(sub)
                walk(sub)

    walk(TscloudError)
    return found


def test_the_walk_finds_errors_across_the_package() -> None:
    modules = {c.__module__ for c in all_error_classes()}
    assert {"tscloud_py.errors", "tscloud_py.dns.base", "tscloud_py.aws.cloudfront.splice"} <= modules
    assert len(all_error_classes()) >= 20


def test_every_error_has_a_specific_hint() -> None:
    missing = []
    for cls in all_error_classes():
        hint = cls.default_hint
        # UsageError's own hint is the generic usage hint by design: every raise site passes the flag and
        # what was expected in the message, and the CLI prints Click's usage for it.
        if cls is UsageError:
            assert hint.strip()
            continue
        if not hint or not hint.strip() or hint in GENERIC:
            missing.append(f"{cls.__module__}.{cls.__name__}: {hint!r}")
    assert missing == [], "errors without a specific default_hint:\n" + "\n".join(missing)


def test_exit_codes_are_1_or_2() -> None:
    for cls in all_error_classes():
        assert cls.exit_code in (1, 2), cls
        if issubclass(cls, UsageError):
            assert cls.exit_code == 2, cls


def test_access_denied_names_the_action_the_resource_and_the_policy_command() -> None:
    from tscloud_py.errors import AwsError, StepFailedError

    message = ("User: arn:aws:sts::123456789012:assumed-role/deploy/gh is not authorized to perform: "
               "cloudfront:CreateDistribution on resource: arn:aws:cloudfront::123456789012:distribution/* "
               "because no identity-based policy allows the cloudfront:CreateDistribution action")
    failed = StepFailedError("distribution", AwsError("cloudfront:CreateDistributionWithTags", "AccessDenied", message))
    assert failed.hint == ("these credentials may not cloudfront:CreateDistribution on "
                           "arn:aws:cloudfront::123456789012:distribution/*; "
                           "`tscloud iam policy` shows what the deploy role needs (`--for preview`: the preview role)")
    # an answer that names no action: the operation that was refused
    terse = AwsError("ecs:CreateCluster", "AccessDeniedException", "Access denied")
    assert terse.hint == ("these credentials may not ecs:CreateCluster; `tscloud iam policy` shows what the deploy "
                          "role needs (`--for preview`: the preview role)")
    assert AwsError("ecs:CreateCluster", "ClusterNotFoundException", "x").hint != terse.hint
