"""Which API operation a REST-protocol request is (S3, CloudFront, Lambda, API Gateway, Route53, ...).

JSON and query requests name their operation (``X-Amz-Target``, ``Action``); a REST request only has a
method and a path. botocore's service models hold each operation's method and ``requestUri`` template,
so the request is matched against them: the most specific template that fits wins (most literal
characters, then most required query keys), as a router would; headers are not looked at.

It names requests from botocore's own models, for the emulator's IAM enforcement (``enforce_iam.py``: moto
names an S3 request by its own table, not by its API operation) and the tests' counting proxy; neither
moto nor botocore offers a request-to-operation lookup on the server side.
"""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import parse_qs

# The SigV4 signing name -> the botocore services that sign with it (API Gateway v1 and v2 share one).
_SERVICES = {"apigateway": ("apigateway", "apigatewayv2"), "ses": ("sesv2", "ses"), "s3": ("s3",)}


@cache
def _routes(service: str) -> tuple[tuple[str, re.Pattern[str], tuple[str, ...], int, str], ...]:
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    session = botocore.session.get_session()
    routes = []
    for name in _SERVICES.get(service, (service,)):
        try:
            model = session.get_service_model(name)
        except UnknownServiceError:
            continue
        for op_name in model.operation_names:
            op = model.operation_model(op_name)
            http = op.http
            uri = str(http.get("requestUri", "/"))
            path, _, query = uri.partition("?")
            literal = 0
            pattern = ""
            for part in re.split(r"(\{[^}]+\})", path):
                if part.startswith("{"):
                    pattern += ".+" if part.endswith("+}") else "[^/]+"
                else:
                    pattern += re.escape(part)
                    literal += len(part)
            keys = [k.split("=", 1)[0] for k in query.split("&") if k and not k.startswith("x-id=")]
            shape = op.input_shape
            if shape is not None:  # required query members (UploadPart's partNumber, uploadId) tell apart too
                keys += [m.serialization["name"] for n, m in shape.members.items()
                         if n in shape.required_members and m.serialization.get("location") == "querystring"]
            routes.append((str(http.get("method", "POST")), re.compile(pattern.rstrip("/") + "/?$"), tuple(keys),
                           literal, op_name))
    return tuple(routes)


def rest_operation(service: str, method: str, path: str, query: str) -> str:
    """The operation name (``CreateFunction``) of a REST request, or "" when no model route fits."""
    params = parse_qs(query, keep_blank_values=True)
    best: tuple[int, int] | None = None
    found = ""
    for route_method, pattern, keys, literal, op_name in _routes(service):
        if route_method != method or not pattern.match(path) or any(k not in params for k in keys):
            continue
        score = (literal, len(keys))
        if best is None or score >= best:  # a tie (CopyObject / PutObject): the later, plainer one
            best, found = score, op_name
    return found
