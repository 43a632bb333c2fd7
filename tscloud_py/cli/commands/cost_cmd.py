"""`tscloud cost`: a monthly estimate for the current config from the bundled, dated price table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import pass_app

if TYPE_CHECKING:
    from tscloud_py.cost.estimating import Estimate
    from tscloud_py.operations.context import AppContext

_DEFAULTS: dict[str, Any] = {
    "requests_per_month": 1_000_000, "gb_out_per_month": 10.0, "cache_hit_ratio": 0.9,
    "nat_gb_per_month": 5.0, "lambda_ms": 200.0, "worker_messages_per_month": 100_000, "alb_azs": 2,
}


@click.command()
@click.option("--requests-per-month", type=click.IntRange(min=0), default=_DEFAULTS["requests_per_month"],
              show_default=True, help="Requests reaching the app (ALB, Lambda, CloudFront).")
@click.option("--gb-out-per-month", type=click.FloatRange(min=0), default=_DEFAULTS["gb_out_per_month"],
              show_default=True, help="GB sent to viewers.")
@click.option("--cache-hit-ratio", type=click.FloatRange(0, 1), default=_DEFAULTS["cache_hit_ratio"],
              show_default=True, help="Share of CloudFront requests served without an S3 GET.")
@click.option("--nat-gb-per-month", type=click.FloatRange(min=0), default=_DEFAULTS["nat_gb_per_month"],
              show_default=True, help="GB through the NAT gateway (image pulls, outbound API calls).")
@click.option("--lambda-ms", type=click.FloatRange(min=1), default=_DEFAULTS["lambda_ms"], show_default=True,
              help="Average Lambda invocation duration.")
@click.option("--worker-messages-per-month", type=click.IntRange(min=0),
              default=_DEFAULTS["worker_messages_per_month"], show_default=True,
              help="Queue messages per Lambda worker.")
@click.option("--alb-azs", type=click.IntRange(min=1, max=16), default=_DEFAULTS["alb_azs"], show_default=True,
              help="AZs the load balancer spans (one public IPv4 each).")
@click.option("--price-region", metavar="REGION", help="Price at another bundled region's prices.")
@pass_app
def cost(app: AppContext, requests_per_month: int, gb_out_per_month: float, cache_hit_ratio: float,
         nat_gb_per_month: float, lambda_ms: float, worker_messages_per_month: int, alb_azs: int,
         price_region: str | None) -> None:
    """A monthly estimate for the current config: one line per item, a total, the assumptions."""
    from tscloud_py.cli.ui import print_json
    from tscloud_py.cost import Assumptions, cost_inputs, estimate, load_prices

    config = app.config()
    assumptions = Assumptions(requests_per_month=requests_per_month, gb_out_per_month=gb_out_per_month,
                              cache_hit_ratio=cache_hit_ratio, nat_gb_per_month=nat_gb_per_month,
                              lambda_ms=lambda_ms, worker_messages_per_month=worker_messages_per_month,
                              alb_azs=alb_azs)
    prices = load_prices(price_region or config.region)
    est = estimate(cost_inputs(config), prices, assumptions)
    if app.json:
        print_json({"app": config.app, "stage": config.stage, "preset": config.preset, "region": config.region,
                    **est.to_json()})
        return
    click.echo(render_estimate(est, f"{config.app}-{config.stage} ({config.preset}, {config.region})"))


def render_estimate(est: Estimate, title: str) -> str:
    from tscloud_py.cost.estimating import NOT_INCLUDED

    lines = [f"monthly estimate for {title}, {est.region} prices as of {est.as_of} (USD, On-Demand)"]
    width = max([len(i.label) for i in est.items] + [5])
    for item in est.items:
        lines.append(f"  {item.label:<{width}} {item.usd:>9.2f}   {item.detail}")
    if not est.items:
        lines.append("  (nothing billable: tscloud creates no resources with an hourly or per-request price here)")
    lines.append(f"  {'total':<{width}} {est.total:>9.2f}   per month")
    lines.append("assumptions:")
    lines += [f"  {a}" for a in est.assumptions.describe([i.id for i in est.items])]
    lines.append("not included: " + "; ".join(NOT_INCLUDED))
    return "\n".join(lines)


def register(group: click.Group) -> None:
    group.add_command(cost)
