"""IAM enforced in the emulator (``TSCLOUD_LOCAL_ENFORCE_IAM=1`` when it starts): a request signed with
credentials of a role assumed in the emulator is allowed only as far as that role's policies allow it, so a
deploy run as the role `tscloud iam policy` describes meets an AccessDenied wherever the policy falls short,
as on AWS. Requests signed with any other key (``--local``'s own, the aws CLI's) act as the account itself.

moto can authorize its own requests (``INITIAL_NO_AUTH_ACTION_COUNT``), but it takes each API operation's
name for the IAM action (CloudFront's CreateDistributionWithTags, where IAM asks for cloudfront:CreateDistribution
and cloudfront:TagResource), names S3 requests from a table of its own, passes no resource but S3's, and denies
on a condition it cannot read. Here instead: the operation is named from botocore's models
(``rest_operations``), the IAM actions it needs are AWS's Service Authorization Reference as
``aws/actions.py`` holds it, an S3 action is checked against the bucket or object ARN the request names
(other services' requests carry no ARN moto could give, so their statements are matched by action), and
a statement's condition is met by the values AWS puts in the request's context for that action (the service
a role is passed to). The refusal names the action and resource, as AWS's does.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
from typing import Any
from urllib.parse import unquote, urlparse

from tscloud_py.aws.actions import CATALOGUE, Grant

ENFORCE_IAM_ENV = "TSCLOUD_LOCAL_ENFORCE_IAM"


def enforcing() -> bool:
    return os.environ.get(ENFORCE_IAM_ENV) == "1"


@functools.cache
def _by_signing_name() -> dict[tuple[str, str], str]:
    """(SigV4 signing name, API operation) -> the catalogue's "service:Operation"."""
    import botocore.session

    session = botocore.session.get_session()
    found = {}
    for key in CATALOGUE:
        service, _, op = key.partition(":")
        model = session.get_service_model(service)
        found[(model.metadata.get("signingName") or model.endpoint_prefix, op)] = key
    return found


def catalogue_key(service: str, operation: str) -> str | None:
    """The catalogue's "service:Operation" of ``operation`` signed for ``service`` (a SigV4 signing name)."""
    return _by_signing_name().get((service, operation))


def actions_for(service: str, operation: str) -> tuple[Grant, ...]:
    """What IAM must allow for ``operation`` signed for ``service``; an operation tscloud never sends is its
    own action on any resource."""
    key = catalogue_key(service, operation)
    if key is None:
        return (Grant((f"{service}:{operation}",), "*"),)
    return CATALOGUE[key]


def s3_resource(path: str, grant: Grant) -> str:
    """The ARN a path-style S3 request acts on: its bucket, or its object where the grant is on objects."""
    bucket, _, key = path.lstrip("/").partition("/")
    if grant.resource.endswith("object"):
        return f"arn:aws:s3:::{bucket}/{unquote(key)}"
    return f"arn:aws:s3:::{bucket}"


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def allows(policies: list[dict[str, Any]], action: str, resource: str | None,
           context: dict[str, str] | None = None) -> bool:
    """Whether an Allow statement of ``policies`` covers ``action`` on ``resource`` (``None``: a request that
    names no ARN) in ``context`` and no Deny statement does."""
    from tscloud_py.emulator.fidelity.iam import conditions_met

    allowed = False
    for policy in policies:
        for stmt in _as_list(policy.get("Statement", [])):
            if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _as_list(stmt.get("Action", []))):
                continue
            if resource is not None and not any(fnmatch.fnmatchcase(resource, r)
                                                for r in _as_list(stmt.get("Resource", "*"))):
                continue
            if stmt.get("Condition") and not conditions_met(stmt["Condition"], context or {}):
                continue
            if stmt.get("Effect") == "Deny":
                return False
            allowed = True
    return allowed


def request_context(service: str, body: bytes | str, region: str, account: str) -> dict[str, str]:
    """The condition keys AWS fills from the request itself: lambda:FunctionArn, the function a Lambda
    request's body names (an event source mapping's target)."""
    if service != "lambda" or not body:
        return {}
    try:
        doc = json.loads(body)
    except ValueError:
        return {}
    name = doc.get("FunctionName") if isinstance(doc, dict) else None
    if not isinstance(name, str):
        return {}
    arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
    return {"lambda:FunctionArn": arn}


def refused(policies: list[dict[str, Any]], service: str, operation: str, path: str,
            request: dict[str, str] | None = None) -> tuple[str, str] | None:
    """The first (action, resource) ``operation`` needs that ``policies`` do not allow; resource "" when the
    request names none. ``request``: the condition keys the request itself fills (``request_context``);
    the others are those AWS sets for the action (the service a role is passed to)."""
    for grant in actions_for(service, operation):
        resource = s3_resource(path, grant) if service == "s3" else None
        context = {k: str(v) for kv in grant.condition.values() for k, v in kv.items()} | (request or {})
        for action in grant.actions:
            if not allows(policies, action, resource, context):
                return action, resource or ""
    return None


def _role_policies(account: str, key_id: str, headers: Any) -> tuple[str, list[dict[str, Any]]] | None:
    """The assumed role's ARN and policies, or None when these are not a role's credentials in the emulator."""
    from moto.iam.access_control import AssumedRoleAccessKey, CreateAccessKeyFailure, IAMPolicy

    try:
        key = AssumedRoleAccessKey(account_id=account, partition="aws", access_key_id=key_id, headers=headers)
    except CreateAccessKeyFailure:
        return None
    return key.arn, [dict(IAMPolicy(p)._policy_json) for p in key.collect_policies()]


def apply() -> None:
    from moto.core.authorization import ActionAuthenticatorMixin

    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if not enforcing() or "X-Amz-Security-Token" not in self.headers:
            original(self, iam_request_cls, resource)
            return
        _check(self)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authorize  # type: ignore[method-assign]


def _check(response: Any) -> None:
    from tscloud_py.emulator.rest_operations import rest_operation

    key_id, service = _signed_by(response.headers.get("Authorization", ""))
    url = urlparse(response.uri)
    operation = rest_operation(service, response.method, url.path, url.query) if service == "s3" \
        else response._get_action()
    refusal = _refusal(response.current_account, key_id, response.headers, service, operation, url.path,
                       request_context(service, response.body or b"", response.region, response.current_account))
    if refusal is not None:
        raise refusal


def refusal_outside_moto(environ: dict[str, Any], service: str) -> Any | None:
    """For a request the emulator answers itself, before moto (the KeyValueStore data plane, a REST service):
    its refusal as a WSGI application, or None when it is allowed or not signed with a role's session."""
    from moto.iam.models import get_account_id_from

    from tscloud_py.emulator.rest_operations import rest_operation

    token = environ.get("HTTP_X_AMZ_SECURITY_TOKEN")
    if not enforcing() or token is None:
        return None
    key_id, _ = _signed_by(environ.get("HTTP_AUTHORIZATION", ""))
    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", ""))
    path = raw.split("?", 1)[0]  # as sent: an ARN in it keeps its encoded '/'
    operation = rest_operation(service, str(environ.get("REQUEST_METHOD", "GET")), path,
                               str(environ.get("QUERY_STRING", "")))
    return _refusal(os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(key_id), key_id,
                    {"X-Amz-Security-Token": token}, service, operation, path)


def _signed_by(authorization: str) -> tuple[str, str]:
    """The access key id and SigV4 signing name of an Authorization header (SigV4A's scope has no region)."""
    from moto.core.exceptions import InvalidClientTokenIdError

    scope = authorization.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    if len(scope) < 4:
        raise InvalidClientTokenIdError()
    return scope[0], scope[-2]


def _refusal(account: str, key_id: str, headers: Any, service: str, operation: str, path: str,
             request: dict[str, str] | None = None) -> Exception | None:
    """AWS's AccessDenied when the role whose session signed the request may not ``operation``."""
    from moto.core.exceptions import InvalidClientTokenIdError

    found = _role_policies(account, key_id, headers)
    if found is None:
        return InvalidClientTokenIdError()
    arn, policies = found
    if service == "sts" and operation == "GetCallerIdentity":
        return None  # AWS allows it to every principal
    denied = refused(policies, service, operation, path, request)
    if denied is None:
        return None
    action, on = denied
    on_words = f" on resource: {on}" if on else ""
    return _denial(service, f"User: {arn} is not authorized to perform: {action}{on_words} because no "
                            f"identity-based policy allows the {action} action")


@functools.cache
def _protocols() -> dict[str, str]:
    """SigV4 signing name -> the protocol its errors are written in."""
    import botocore.session

    session = botocore.session.get_session()
    found: dict[str, str] = {}
    for key in CATALOGUE:
        model = session.get_service_model(key.partition(":")[0])
        # the protocol the client speaks (CloudWatch's model lists CBOR first, which botocore does not send)
        found.setdefault(model.metadata.get("signingName") or model.endpoint_prefix, model.resolved_protocol)
    return found


def _denial(service: str, message: str) -> Exception:
    """AWS's refusal in the service's own error format, so its client reads the code and message."""
    from xml.sax.saxutils import escape

    from werkzeug.exceptions import HTTPException

    protocol = _protocols().get(service, "query")
    if protocol in ("json", "rest-json"):
        error_code = "AccessDeniedException"
        body, kind = json.dumps({"__type": error_code, "message": message, "Message": message}), "application/json"
    else:
        error_code = "UnauthorizedOperation" if protocol == "ec2" else "AccessDenied"
        error = f"<Error><Type>Sender</Type><Code>{error_code}</Code><Message>{escape(message)}</Message></Error>"
        wrapped = {"ec2": f"<Response><Errors>{error}</Errors></Response>", "rest-xml": error if service == "s3"
                   else f"<ErrorResponse>{error}</ErrorResponse>"}
        body, kind = wrapped.get(protocol, f"<ErrorResponse>{error}</ErrorResponse>"), "application/xml"

    class Refused(HTTPException):
        code = 403
        description = body

        def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
            return [("X-Amzn-ErrorType", error_code), ("Content-Type", kind)]

        def get_body(self, *args: Any, **kwargs: Any) -> str:
            return body

    return Refused()
