"""The preview host's CloudFront Function: the viewer's Host looked up in the KeyValueStore, the URI moved
under that stage's prefix before the cache lookup, so no two stages ever share a cache key.

A host with no key answers 404 from the function itself (no origin request). Paths without a file
extension are pages: with ``spa`` every one is the stage's /index.html, without it a directory's
index.html. The security headers come from the behavior's SecurityHeaders policy, as static-site's do.
"""

from __future__ import annotations

import json

# CloudFront Functions' limit on a function's code (CloudFront Developer Guide, "Quotas").
MAX_CODE_BYTES = 10 * 1024

_CODE = """import cf from 'cloudfront';

const kvs = cf.kvs();
const SPA = __SPA__;

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
  let uri = request.uri;
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


def router_code(*, spa: bool) -> bytes:
    return _CODE.replace("__SPA__", json.dumps(spa)).encode()


def route_value(prefix: str, build_id: str | None, at: int) -> str:
    """A stage's value in the store: its prefix (without the trailing slash), build and deploy time.
    Short keys: a value is at most 1 KB and the whole store 5 MB."""
    return json.dumps({"p": prefix.rstrip("/"), "b": build_id, "t": at}, separators=(",", ":"))
