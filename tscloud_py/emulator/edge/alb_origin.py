"""An Application Load Balancer origin at the local edge: its listener's rules, evaluated as the ALB would.

The rules come from the emulator (describe-listeners / describe-rules): by
priority, the default last, the first whose conditions all match wins; an
http-header condition compares the name case-insensitively and the values with
``*``/``?`` wildcards, case-insensitively, as ALB documents. So the origin-verify
rule holds locally: a request without the header gets the listener's default
action (the preset's fixed 403). A fixed-response or redirect action is answered
here; a forward reaches the service's task definition run as a local container
on a real Docker engine (``alb_tasks``), or a 502 page saying why it cannot run.

Reachability is the VPC's: an internet-facing load balancer's listeners are reachable from outside (the edge
connects to them by DNS name, and each has a loopback URL a test can call as a viewer would); an internal
one's are reachable only from inside its VPC, which here means only through a CloudFront VPC origin. So an
origin naming an internal load balancer by DNS name gets CloudFront's 502, and its listeners get no loopback
URL; an origin with a VpcOriginConfig reaches the load balancer that VPC origin names, on the port its
protocol policy gives.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.elbv2 import Elbv2
from tscloud_py.emulator.edge.alb_tasks import ServiceTasks, TaskUnavailableError
from tscloud_py.emulator.edge.http_io import read_request, write_response
from tscloud_py.emulator.edge.origins import (
    Distribution,
    EdgeRequest,
    EdgeResponse,
    error_page,
    forward,
)
from tscloud_py.emulator.edge.routing import items_of
from tscloud_py.loopback import Loopback, QuietHandler, serve


def _like(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def condition_matches(condition: Mapping[str, Any], *, path: str, host: str, method: str,
                      headers: list[tuple[str, str]]) -> bool:
    field = condition.get("Field")
    if field == "http-header":
        config = condition.get("HttpHeaderConfig") or {}
        name = str(config.get("HttpHeaderName", "")).lower()
        values = [v for k, v in headers if k.lower() == name]
        return any(_like(str(p), v) for p in config.get("Values") or [] for v in values)
    if field == "path-pattern":
        patterns = (condition.get("PathPatternConfig") or {}).get("Values") or condition.get("Values") or []
        return any(fnmatch.fnmatchcase(path, str(p)) for p in patterns)
    if field == "host-header":
        patterns = (condition.get("HostHeaderConfig") or {}).get("Values") or condition.get("Values") or []
        return any(_like(str(p), host.rsplit(":", 1)[0]) for p in patterns)
    if field == "http-request-method":
        return method in ((condition.get("HttpRequestMethodConfig") or {}).get("Values") or [])
    return False  # a condition the edge does not evaluate never matches, so nothing is let through by mistake


def choose_actions(rules: Sequence[Mapping[str, Any]], *, path: str, host: str, method: str,
                   headers: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The actions of the first rule (by priority, the default last) whose conditions all match."""
    def order(rule: Mapping[str, Any]) -> float:
        return float("inf") if rule.get("IsDefault") or rule.get("Priority") == "default" else float(rule["Priority"])

    for rule in sorted(rules, key=order):
        conditions = rule.get("Conditions") or []
        if rule.get("IsDefault") or all(condition_matches(c, path=path, host=host, method=method, headers=headers)
                                        for c in conditions):
            return [dict(a) for a in rule.get("Actions") or []]
    return []


class AlbOrigin:
    def __init__(self, elbv2: Elbv2, tasks: ServiceTasks | None = None, cloudfront: CloudFront | None = None) -> None:
        self.elbv2, self.tasks, self.cloudfront = elbv2, tasks, cloudfront
        self._lock = threading.Lock()
        self._listeners: dict[str, Loopback] = {}

    def listener_url(self, listener_arn: str, host: str) -> str:
        """A loopback port that answers as this ALB listener does, for requests sent straight to the ALB."""
        with self._lock:
            server = self._listeners.get(listener_arn)
            if server is None:
                origin = self

                class Handler(QuietHandler):
                    def _serve(self) -> None:
                        req = read_request(self)
                        if req is not None:
                            write_response(self, origin.answer(listener_arn, req, req.headers, host,
                                                               "local ALB listener"))

                    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

                server = serve(Handler, name="alb-listener")
                self._listeners[listener_arn] = server
            return server.url

    def _through_vpc_origin(self, origin: Mapping[str, Any], label: str
                            ) -> tuple[dict[str, Any], int] | EdgeResponse:
        """The load balancer and port a VpcOriginConfig origin reaches, or CloudFront's 502 saying why not."""
        origin_id = str((origin.get("VpcOriginConfig") or {}).get("VpcOriginId"))
        found = self.cloudfront.vpc_origin(origin_id) if self.cloudfront is not None else None
        if found is None:
            return error_page(502, "Bad gateway", f"VPC origin {origin_id} does not exist", label)
        endpoint = found[0].get("VpcOriginEndpointConfig") or {}
        https = endpoint.get("OriginProtocolPolicy") == "https-only"
        lb = self.elbv2.find_load_balancer(str(endpoint.get("Arn")))
        if lb is None:
            return error_page(502, "Bad gateway", f"the load balancer of VPC origin {origin_id} is gone", label)
        return lb, int(endpoint.get("HTTPSPort") or 443) if https else int(endpoint.get("HTTPPort") or 80)

    def fetch(self, dist: Distribution, origin: Mapping[str, Any], req: EdgeRequest) -> EdgeResponse:
        domain = str(origin.get("DomainName"))
        label = f"{origin.get('Id')} (alb)"
        if origin.get("VpcOriginConfig"):
            reached = self._through_vpc_origin(origin, label)
            if isinstance(reached, EdgeResponse):
                return reached
            lb, port = reached
        else:
            custom = origin.get("CustomOriginConfig") or {}
            https = custom.get("OriginProtocolPolicy") == "https-only"
            port = int(custom.get("HTTPSPort") or 443) if https else int(custom.get("HTTPPort") or 80)
            found = self.elbv2.load_balancer_by_dns(domain)
            if found is None:
                return error_page(502, "Bad gateway", f"no load balancer in this emulator has the DNS name {domain}",
                                  label)
            if found.get("Scheme") == "internal":
                return error_page(502, "Bad gateway", f"load balancer {found.get('LoadBalancerName')} is internal: "
                                  "only its VPC reaches it (a CloudFront VPC origin), not CloudFront over the internet",
                                  label)
            lb = found
        listener = self.elbv2.listener_on_port(str(lb["LoadBalancerArn"]), port)
        if listener is None:
            return error_page(502, "Bad gateway", f"load balancer {lb.get('LoadBalancerName')} has no listener "
                              f"on port {port}", label)
        headers = list(req.headers) + [(str(h.get("HeaderName")), str(h.get("HeaderValue")))
                                       for h in items_of(origin.get("CustomHeaders"))]
        listener_arn = str(listener["ListenerArn"])
        response = self.answer(listener_arn, req, headers, domain, label)
        if lb.get("Scheme") != "internal":  # an internal listener is not reachable from outside its VPC
            response.headers.append(("X-Tscloud-Alb-Listener", self.listener_url(listener_arn, domain)))
        return response

    def answer(self, listener_arn: str, req: EdgeRequest, headers: list[tuple[str, str]], host: str,
               label: str) -> EdgeResponse:
        """What the listener answers ``req`` carrying ``headers`` (what a viewer sends straight to the ALB)."""
        actions = choose_actions(self.elbv2.rules(listener_arn), path=req.uri, host=host, method=req.method,
                                 headers=headers)
        action = next((a for a in actions if a.get("Type") in ("fixed-response", "redirect", "forward")), None)
        if action is None:
            return error_page(502, "Bad gateway", "the listener has no action the local edge can take", label)
        if action["Type"] == "fixed-response":
            config = action.get("FixedResponseConfig") or {}
            body = str(config.get("MessageBody") or "").encode()
            return EdgeResponse(int(config.get("StatusCode") or 200),
                                [("Content-Type", str(config.get("ContentType") or "text/plain")),
                                 ("Content-Length", str(len(body)))], [body], origin=label,
                                notes=["ALB fixed response"])
        if action["Type"] == "redirect":
            config = action.get("RedirectConfig") or {}
            status = 301 if config.get("StatusCode") == "HTTP_301" else 302
            location = (f"{str(config.get('Protocol', 'https')).lower()}://{host}:{config.get('Port', '443')}"
                        f"{req.uri}" + (f"?{req.query}" if req.query else ""))
            return EdgeResponse(status, [("Location", location), ("Content-Length", "0")], [b""], origin=label)
        tg_arn = str(action.get("TargetGroupArn") or "")
        group = tg_arn.rsplit("/", 2)[-2] if "/" in tg_arn else tg_arn
        if self.tasks is None:
            return error_page(502, "Bad gateway", f"the ALB forwards this request to target group {group}; the "
                              "local edge runs no ECS tasks here, so nothing answers it", label)
        try:
            task = self.tasks.endpoint(tg_arn)
        except TaskUnavailableError as exc:
            return error_page(502, "Bad gateway", f"the ALB forwards this request to target group {group}, "
                              f"whose service cannot run here: {exc}", label)
        # ALB adds these for its targets; CloudFront's own hop is already in the headers it sent.
        sent = [*headers, ("X-Forwarded-For", req.client_ip), ("X-Forwarded-Proto", "http")]
        path = req.uri + (f"?{req.query}" if req.query else "")
        response = forward("127.0.0.1", task.port, req.method, path, sent, req.body, label)
        response.notes.append(f"ALB target group {group} -> service {task.service} in container "
                              f"{task.container_id[:12]}")
        return response

    def close(self) -> None:
        with self._lock:
            servers, self._listeners = list(self._listeners.values()), {}
        for server in servers:
            server.close()
        if self.tasks is not None:
            self.tasks.close()
