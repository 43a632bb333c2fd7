"""The estimator: cost inputs + prices + traffic assumptions -> line items and a monthly total."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tscloud_py.cost.prices import PriceTable

GIB = 1024**3

NOT_INCLUDED = [
    "free tiers, Savings Plans and Reserved Instances",
    "CloudWatch Logs ingestion and storage, Secrets Manager secrets ($0.40 each), SQS and SES requests",
    "ECR image storage, scheduled ECS tasks, data transfer between AZs, internet egress from the ALB "
    "(origin fetches from CloudFront are free)",
    "an existing [frontend] distribution and Route53 zones (billed already, not created by tscloud)",
    "WAF's paid rule groups (Bot Control, Fraud Control) and CAPTCHA; SNS email past the free 1,000 a month",
]


@dataclass(frozen=True)
class Assumptions:
    """Traffic assumptions; each has a `tscloud cost` flag and is printed with every estimate."""

    requests_per_month: int = 1_000_000
    gb_out_per_month: float = 10.0
    cache_hit_ratio: float = 0.9
    nat_gb_per_month: float = 5.0
    lambda_ms: float = 200.0
    worker_messages_per_month: int = 100_000
    alb_azs: int = 2

    def describe(self, item_ids: list[str] | None = None) -> list[str]:
        """One line per assumption; with ``item_ids``, only those that priced one of these items."""
        ids = item_ids if item_ids is not None else list(_ASSUMPTION_ITEMS)
        used = {name for name, prefixes in _ASSUMPTION_ITEMS.items()
                if not prefixes or any(i.startswith(prefixes) for i in ids)}
        api = any(i.startswith(("alb", "lambda:", "api-gateway", "fargate:")) for i in ids)
        lines = {
            "requests_per_month": f"{self.requests_per_month:,} requests/month (--requests-per-month): each "
            + ("reaches the API (ALB or Lambda) and, where tscloud creates one, CloudFront" if api
               else "reaches CloudFront"),
            "gb_out_per_month": f"{self.gb_out_per_month:g} GB/month to viewers (--gb-out-per-month)",
            "cache_hit_ratio": f"{self.cache_hit_ratio:g} CloudFront cache hit ratio for S3 origins "
            "(--cache-hit-ratio)",
            "nat_gb_per_month": f"{self.nat_gb_per_month:g} GB/month through the NAT gateway (--nat-gb-per-month)",
            "lambda_ms": f"{self.lambda_ms:g} ms average Lambda duration (--lambda-ms)",
            "worker_messages_per_month": f"{self.worker_messages_per_month:,} queue messages/month per Lambda "
            "worker (--worker-messages-per-month)",
            "alb_azs": f"{self.alb_azs} AZs for the load balancer, one public IPv4 each (--alb-azs; a default "
            "VPC spans every AZ of the region)",
        }
        shown = [text for name, text in lines.items() if name in used]
        hours = "730 hours a month; traffic spread evenly"
        return [*shown, hours + ("; every ALB request opens a new connection" if "alb_azs" in used else "")]


#: which line items each assumption prices (item id prefixes); () for every estimate
_ASSUMPTION_ITEMS: dict[str, tuple[str, ...]] = {
    "requests_per_month": (),
    "gb_out_per_month": (),
    "cache_hit_ratio": ("cloudfront", "s3"),
    "nat_gb_per_month": ("nat", "ipv4:nat"),
    "lambda_ms": ("lambda:",),
    "worker_messages_per_month": ("lambda:worker",),
    "alb_azs": ("alb", "ipv4:alb"),
}


@dataclass(frozen=True)
class Item:
    id: str
    label: str
    usd: float
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "usd": round(self.usd, 6), "detail": self.detail}


@dataclass
class Estimate:
    region: str
    as_of: str
    items: list[Item] = field(default_factory=list)
    assumptions: Assumptions = field(default_factory=Assumptions)

    @property
    def total(self) -> float:
        return sum(i.usd for i in self.items)

    def to_json(self) -> dict[str, Any]:
        return {"currency": "USD", "price_region": self.region, "prices_as_of": self.as_of,
                "items": [i.to_json() for i in self.items], "total_usd": round(self.total, 2),
                "assumptions": asdict(self.assumptions), "not_included": NOT_INCLUDED}


def _money(x: float) -> str:
    return f"${x:g}"


def estimate(inputs: dict[str, Any], prices: PriceTable, assumptions: Assumptions | None = None) -> Estimate:
    a = assumptions or Assumptions()
    h = prices.hours_per_month
    est = Estimate(prices.region, prices.as_of, assumptions=a)
    add = est.items.append
    ipv4 = prices.usd("public_ipv4_hour")

    for svc in inputs.get("services", []):
        arch = svc["arch"]
        vcpu, gb, count = svc["cpu"] / 1024, svc["memory"] / 1024, svc["count"]
        p_cpu, p_gb = prices.usd(f"fargate_vcpu_hour_{arch}"), prices.usd(f"fargate_gb_hour_{arch}")
        add(Item(f"fargate:{svc['role']}", f"Fargate {svc['role']} ({count} x {vcpu:g} vCPU / {gb:g} GB, {arch})",
                 count * h * (vcpu * p_cpu + gb * p_gb),
                 f"{count} task x {h:g} h x ({vcpu:g} vCPU x {_money(p_cpu)} + {gb:g} GB x {_money(p_gb)})"))
        if inputs.get("task_public_ip") and count:
            add(Item(f"ipv4:{svc['role']}", f"public IPv4 of the {svc['role']} tasks", count * h * ipv4,
                     f"{count} address x {h:g} h x {_money(ipv4)} (tasks in public subnets)"))

    if inputs.get("alb"):
        p_h, p_lcu = prices.usd("alb_hour"), prices.usd("alb_lcu_hour")
        add(Item("alb", "Application Load Balancer hours", h * p_h, f"{h:g} h x {_money(p_h)}"))
        by_conn = a.requests_per_month / 25 / 3600
        by_bytes = a.gb_out_per_month / 1.0
        lcu_hours = max(by_conn, by_bytes)
        add(Item("alb-lcu", "ALB capacity units", lcu_hours * p_lcu,
                 f"max({a.requests_per_month:,} new connections / 25/s / 3600, {a.gb_out_per_month:g} GB / 1 GB) "
                 f"= {lcu_hours:.3f} LCU-h x {_money(p_lcu)}"))
        add(Item("ipv4:alb", "public IPv4 of the load balancer", a.alb_azs * h * ipv4,
                 f"{a.alb_azs} addresses x {h:g} h x {_money(ipv4)}"))

    db = inputs.get("database")
    if db is not None:
        if db["engine"] == "aurora-postgresql":
            p_acu, p_st = prices.usd("aurora_acu_hour"), prices.usd("aurora_storage_gb_month")
            add(Item("database", f"Aurora Serverless v2 at {db['min_capacity']:g} ACU (min_capacity)",
                     db["min_capacity"] * h * p_acu,
                     f"{db['min_capacity']:g} ACU x {h:g} h x {_money(p_acu)} (up to "
                     f"{db['max_capacity'] * h * p_acu:.2f} at max_capacity {db['max_capacity']:g})"))
            add(Item("database-storage", f"Aurora storage ({db['storage']} GB assumed)", db["storage"] * p_st,
                     f"{db['storage']} GB x {_money(p_st)}"))
        else:
            p_i = prices.usd("rds_postgres_instance_hour", db["instance_class"])
            p_st = prices.usd("rds_gp3_gb_month")
            add(Item("database", f"RDS PostgreSQL {db['instance_class']} (Single-AZ)", h * p_i,
                     f"{h:g} h x {_money(p_i)}"))
            add(Item("database-storage", f"RDS gp3 storage ({db['storage']} GB)", db["storage"] * p_st,
                     f"{db['storage']} GB x {_money(p_st)}"))

    cache = inputs.get("cache")
    if cache is not None:
        p_n = prices.usd("elasticache_node_hour", cache["node_type"])
        add(Item("cache", f"ElastiCache {cache['node_type']} x {cache['nodes']}", cache["nodes"] * h * p_n,
                 f"{cache['nodes']} node x {h:g} h x {_money(p_n)}"))

    if inputs.get("nat"):
        p_h, p_gb = prices.usd("nat_gateway_hour"), prices.usd("nat_gateway_gb")
        add(Item("nat", "NAT gateway hours", h * p_h, f"{h:g} h x {_money(p_h)}"))
        add(Item("nat-data", "NAT gateway data processing", a.nat_gb_per_month * p_gb,
                 f"{a.nat_gb_per_month:g} GB x {_money(p_gb)}"))
        add(Item("ipv4:nat", "public IPv4 of the NAT gateway", h * ipv4, f"1 address x {h:g} h x {_money(ipv4)}"))

    for fn in inputs.get("functions", []):
        arch = fn["arch"]
        p_gbs, p_req = prices.usd(f"lambda_gb_second_{arch}"), prices.usd("lambda_requests_million")
        if fn["trigger"] == "queue":
            invocations = a.worker_messages_per_month / fn["batch_size"]
            why = f"{a.worker_messages_per_month:,} messages / batch {fn['batch_size']}"
        else:
            invocations = float(a.requests_per_month)
            why = "one per request"
        gb_s = invocations * a.lambda_ms / 1000 * fn["memory"] / 1024
        add(Item(f"lambda:{fn['role']}", f"Lambda {fn['role']} ({fn['memory']} MB, {arch})",
                 gb_s * p_gbs + invocations / 1e6 * p_req,
                 f"{invocations:,.0f} invocations ({why}) x {a.lambda_ms:g} ms x {fn['memory'] / 1024:g} GB "
                 f"= {gb_s:,.0f} GB-s x {_money(p_gbs)} + {invocations / 1e6:g} M requests x {_money(p_req)}"))

    if inputs.get("api_gateway"):
        p_api = prices.usd("apigateway_rest_million")
        add(Item("api-gateway", "API Gateway REST API calls", a.requests_per_month / 1e6 * p_api,
                 f"{a.requests_per_month / 1e6:g} M calls x {_money(p_api)}"))

    if inputs.get("distribution"):
        p_gb, p_req = prices.usd("cloudfront_gb_out"), prices.usd("cloudfront_https_10000")
        add(Item("cloudfront-data", "CloudFront data to viewers", a.gb_out_per_month * p_gb,
                 f"{a.gb_out_per_month:g} GB x {_money(p_gb)}"))
        add(Item("cloudfront-requests", "CloudFront HTTPS requests", a.requests_per_month / 10_000 * p_req,
                 f"{a.requests_per_month:,} / 10,000 x {_money(p_req)}"))
        p_st = prices.usd("s3_gb_month")
        stored = inputs.get("site_bytes", 0) / GIB
        usd = stored * p_st
        detail = f"{stored:.6f} GB stored x {_money(p_st)}"
        if inputs.get("s3_origin"):
            p_get = prices.usd("s3_get_1000")
            gets = a.requests_per_month * (1 - a.cache_hit_ratio)
            usd += gets / 1000 * p_get
            detail += f" + {gets:,.0f} origin GETs / 1,000 x {_money(p_get)}"
        add(Item("s3", "S3 site files", usd, detail))

    waf = inputs.get("waf")
    if waf is not None:
        p_acl, p_rule, p_req = (prices.usd("waf_web_acl_month"), prices.usd("waf_rule_month"),
                                prices.usd("waf_requests_million"))
        add(Item("waf", f"WAF web ACL and {waf['rules']} rules", p_acl + waf["rules"] * p_rule,
                 f"1 web ACL x {_money(p_acl)} + {waf['rules']} rules x {_money(p_rule)}"))
        add(Item("waf-requests", "WAF requests inspected", a.requests_per_month / 1e6 * p_req,
                 f"{a.requests_per_month / 1e6:g} M requests x {_money(p_req)}"))

    alarms = inputs.get("alarms")
    if alarms is not None:
        p_metric, p_board = prices.usd("cloudwatch_alarm_metric_month"), prices.usd("cloudwatch_dashboard_month")
        add(Item("alarms", f"CloudWatch alarms ({alarms['metrics']} metrics) and {alarms['dashboards']} dashboard",
                 alarms["metrics"] * p_metric + alarms["dashboards"] * p_board,
                 f"{alarms['metrics']} alarm metrics x {_money(p_metric)} + {alarms['dashboards']} dashboard x "
                 f"{_money(p_board)}"))
    return est
