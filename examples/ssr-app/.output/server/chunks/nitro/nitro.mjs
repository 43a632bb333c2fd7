// (bundled: the polyfills import is in ../../index.mjs, nitro/app is ./app.mjs)
// Nitro entry for AWS Lambda with response streaming. Written by `tscloud ssr eject-entry` for nitro 3.0.1-alpha.1.
//
// Nitro config (vite.config.ts `nitro({...})` or nitro.config.ts):
//   preset: "aws-lambda",
//   entry: "src/nitro/aws-lambda-response",   // NO extension: Nitro appends "-streaming" itself
//   awsLambda: { streaming: true },
// Keep aws-lambda-response.mjs next to this file (used when streaming is off).
//
// The polyfill import is the one this Nitro version ships (an unknown `#nitro...` import fails
// Lambda's init with ERR_PACKAGE_IMPORT_NOT_DEFINED); re-run eject-entry after upgrading Nitro.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { useNitroApp } from "./app.mjs";

const nitroApp = useNitroApp();

const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  // Open sockets (a DB pool) keep the event loop alive; do not wait for them to close.
  if (context) context.callbackWaitsForEmptyEventLoop = false;

  const response = await appFetch(event, context);

  // Status, headers and cookies travel in the prelude, which the runtime client sends with the
  // first write: write an empty chunk first so a bodyless 204 or 302 still carries them.
  responseStream = awslambda.HttpResponseStream.from(responseStream, responseMeta(event, response));
  responseStream.write("");
  if (response.body) {
    // pipeline() handles backpressure and ends (or destroys) the stream for us.
    await pipeline(Readable.fromWeb(response.body), responseStream);
  } else {
    responseStream.end();
  }
});

function isV2(event) {
  return event.version === "2.0" || Boolean(event.requestContext && event.requestContext.http);
}

// The request a Function URL / HTTP API (payload 2.0) or REST API (1.0) event stands for.
function awsRequest(event) {
  const v2 = isV2(event);
  const headers = new Headers();
  for (const [name, values] of Object.entries(event.multiValueHeaders || {})) {
    for (const value of values || []) headers.append(name, value);
  }
  for (const [name, value] of Object.entries(event.headers || {})) {
    if (value != null && !headers.has(name)) headers.set(name, value);
  }
  if (Array.isArray(event.cookies) && event.cookies.length) headers.set("cookie", event.cookies.join("; "));
  const method = (v2 ? event.requestContext.http.method : event.httpMethod) || "GET";
  const host = headers.get("x-forwarded-host") || headers.get("host")
    || (event.requestContext && event.requestContext.domainName) || "localhost";
  const proto = headers.get("x-forwarded-proto") || "https";
  const path = (v2 ? event.rawPath : event.path) || "/";
  const query = v2 ? event.rawQueryString || "" : restQuery(event);
  const hasBody = event.body != null && method !== "GET" && method !== "HEAD";
  const body = hasBody ? Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8") : undefined;
  return { url: `${proto}://${host}${path}${query ? `?${query}` : ""}`, path: `${path}${query ? `?${query}` : ""}`,
    method, headers, body };
}

// Nitro 3 apps answer a web Request (carrying the runtime hints on the SAME object);
// nitropack 2 apps answer through localFetch, which takes a path, not a URL.
function appFetch(event, context) {
  const { url, path, method, headers, body } = awsRequest(event);
  if (typeof nitroApp.fetch === "function") {
    const request = new Request(url, { method, headers, body });
    request.runtime ??= { name: "aws-lambda" };
    request.runtime.aws ??= { event, context };
    return nitroApp.fetch(request);
  }
  return nitroApp.localFetch(path, { method, headers, body, context: { aws: { event, context } } });
}

function restQuery(event) {
  const params = new URLSearchParams();
  const multi = event.multiValueQueryStringParameters;
  if (multi) {
    for (const [name, values] of Object.entries(multi)) for (const value of values || []) params.append(name, value);
  } else {
    for (const [name, value] of Object.entries(event.queryStringParameters || {})) params.append(name, value);
  }
  return params.toString();
}

function responseMeta(event, response) {
  const headers = {};
  for (const [name, value] of response.headers) if (name !== "set-cookie") headers[name] = value;
  const cookies = response.headers.getSetCookie();
  const meta = { statusCode: response.status, headers };
  if (isV2(event)) meta.cookies = cookies;
  else if (cookies.length) meta.multiValueHeaders = { "set-cookie": cookies };
  return meta;
}

export { handler as h };
