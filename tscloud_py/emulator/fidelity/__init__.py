"""Where moto is wrong (not merely lax), make the embedded emulator behave like AWS.

One module per service; each fix's docstring names the AWS behaviour it
restores. They patch moto's classes in this process, so they cover the
in-process emulator, `tscloud local serve`, and the test suite's moto server
alike. This is the only place where AWS and moto are told apart: ``aws/`` and
``presets/`` are written against AWS's behaviour alone.
"""

from __future__ import annotations

_applied = False


def patch_moto_fidelity() -> None:
    """Apply every fix once per process (idempotent); without moto installed there is nothing to fix."""
    global _applied
    if _applied:
        return
    try:
        import moto  # noqa: F401
    except ImportError:
        return
    from tscloud_py.emulator.fidelity import (
        acm,
        apigateway,
        cloudfront,
        ecs,
        ecs_tasks,
        elasticache,
        iam,
        lambda_,
        lambda_vpc,
        rds,
        s3,
        scheduler,
        sns,
        ssm,
        wafv2,
    )

    for service in (acm, iam, cloudfront, apigateway, ecs, ecs_tasks, elasticache, lambda_, lambda_vpc, rds, s3,
                    scheduler, sns, ssm, wafv2):
        service.apply()
    _applied = True
