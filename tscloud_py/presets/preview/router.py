"""The preview host's CloudFront Function: the viewer's Host looked up in the KeyValueStore, the URI moved
under that stage's prefix before the cache lookup, so no two stages ever share a cache key.

A host with no key answers 404 from the function itself (no origin request). Paths without a file
extension are pages: with ``spa`` every one is the stage's /index.html, without it a directory's
index.html. The security headers come from the behavior's SecurityHeaders policy, as static-site's do.

An ssr-app host's router serves the stage's public entries (its value's ``a``: ``assets/`` for a directory,
``robots.txt`` for a file) from its prefix, and sends every other request to the stage's own Function URL
(its value's ``o``) with ``cf.updateRequestOrigin``, signed by a Lambda OAC, the viewer's host forwarded
as ``x-forwarded-host`` (as ssr-app's own function does).
"""

from __future__ import annotations

import json

# CloudFront Functions' limit on a function's code (CloudFront Developer Guide, "Quotas").
MAX_CODE_BYTES = 10 * 1024

# What both routers do first: the stage's value, or a 404 from the function itself.
_HEAD = """import cf from 'cloudfront';

const kvs = cf.kvs();
__CONSTANTS__
async function handler(event) {
  const request = event.request;
  const host = request.headers.host ? request.headers.host.value.toLowerCase() : '';
  let route;
  try {
    route = await kvs.get(host, { format: 'json' });
  } catch (e) {
    return {
      statusCode: 404,
      statusDescription: 'Not Found',
      headers: { 'content-type': { value: 'text/plain; charset=utf-8' }, 'cache-control': { value: 'no-store' } },
      body: { encoding: 'text', data: 'No preview stage is deployed at ' + host + '\\n' },
    };
  }
"""

_STATIC = """  let uri = request.uri;
  const last = uri.substring(uri.lastIndexOf('/') + 1);
  if (uri.endsWith('/')) {
    uri += 'index.html';
  } else if (last.indexOf('.') < 0) {
    uri = SPA ? '/index.html' : uri + '/index.html';
  }
  request.uri = '/' + route.p + uri;
  return request;
}
"""

_SSR = """  const uri = request.uri;
  const assets = route.a || [];
  for (let i = 0; i < assets.length; i++) {
    const entry = '/' + assets[i];
    if (entry.endsWith('/') ? uri.startsWith(entry) : uri === entry) {
      request.uri = '/' + route.p + uri;
      return request;
    }
  }
  request.headers['x-forwarded-host'] = { value: host };
  cf.updateRequestOrigin({
    domainName: route.o,
    customOriginConfig: { port: 443, protocol: 'https', sslProtocols: ['TLSv1.2'] },
    originAccessControlConfig: { enabled: true, signingBehavior: 'always', signingProtocol: 'sigv4',
                                 originType: 'lambda' },
  });
  return request;
}
"""


def router_code(*, spa: bool, ssr: bool = False) -> bytes:
    if ssr:
        return (_HEAD.replace("__CONSTANTS__", "") + _SSR).encode()
    return (_HEAD.replace("__CONSTANTS__", f"const SPA = {json.dumps(spa)};\n") + _STATIC).encode()


def route_value(prefix: str, build_id: str | None, at: int, *, origin: str | None = None,
                assets: list[str] | None = None) -> str:
    """A stage's value in the store: its prefix (without the trailing slash), build and deploy time; for an
    ssr-app stage also its Function URL's domain and public entries. Short keys: a value is at most 1 KB
    and the whole store 5 MB."""
    value: dict[str, object] = {"p": prefix.rstrip("/"), "b": build_id, "t": at}
    if origin is not None:
        value.update(o=origin, a=assets or [])
    return json.dumps(value, separators=(",", ":"))
