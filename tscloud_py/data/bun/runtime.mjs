// Lambda Runtime API loop for Bun (tscloud Bun layer). Uses only web-standard APIs
// (fetch, Request, Response, Headers, TextEncoder/TextDecoder, atob/btoa) plus node:fs / node:path,
// so it runs the same under Bun and Node 20.
//
// The handler module is $LAMBDA_TASK_ROOT/<file> for _HANDLER "<file>.<export>"; the export is a
// fetch handler, either a function `(request, lambda) => Response` or an object with a `fetch`
// method (the Bun.serve shape, e.g. `export default { fetch }` with _HANDLER "index.default").
// `lambda` is { event, context }.
//
// Payload format 2.0 events (Function URL, HTTP API) become a Request (cookies, base64 bodies) and
// the Response becomes { statusCode, headers, cookies, body, isBase64Encoded }. Any other event
// (SQS, EventBridge, ...) is POSTed as JSON to http://lambda.local/_lambda/event with header
// x-lambda-event-source; a JSON response body is the invocation result (e.g. batchItemFailures),
// and a status >= 400 fails the invocation. Errors go to /runtime/invocation/{id}/error, and a
// handler that cannot be loaded to /runtime/init/error.
//
// Bun does not read NODE_OPTIONS, so the modules its --import flags name (tscloud's secret resolver,
// _tscloud/secrets.mjs, when the function reads secrets) are imported here, in order and relative to the
// task root as Node resolves them against its working directory, before the handler is loaded: a
// function's environment means the same on the Bun layer as on a nodejs runtime.
import { existsSync } from "node:fs";
import { resolve } from "node:path";

const API = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;
const EXTENSIONS = ["", ".ts", ".tsx", ".mts", ".js", ".mjs", ".cjs", ".jsx"];
const TEXT_TYPES = /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded|[\w.+-]+\+(json|xml))|image\/svg\+xml)/i;

function errorBody(err, fallbackType) {
  const e = err instanceof Error ? err : new Error(String(err));
  return JSON.stringify({
    errorMessage: e.message,
    errorType: (err instanceof Error && e.name !== "Error" ? e.name : fallbackType) || "Error",
    stackTrace: String(e.stack || "").split("\n").slice(1).map((l) => l.trim()).filter(Boolean),
  });
}

async function post(path, body, headers = {}) {
  const res = await fetch(`${API}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
  await res.arrayBuffer();
  return res.status;
}

class HandlerError extends Error {
  constructor(type, message) { super(message); this.name = type; }
}

function preloads(options, root) {
  const tokens = String(options || "").split(/\s+/).filter(Boolean);
  const found = [];
  tokens.forEach((token, i) => {
    const given = token === "--import" ? tokens[i + 1] : token.startsWith("--import=") ? token.slice(9) : null;
    if (given) found.push(/^[./]/.test(given) ? new URL(`file://${resolve(root, given)}`).href : given);
  });
  return found;
}

async function loadHandler() {
  const spec = process.env._HANDLER || "index.fetch";
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  // read before the first import: the secret resolver takes itself out of NODE_OPTIONS
  for (const module of preloads(process.env.NODE_OPTIONS, root)) {
    try {
      await import(module);
    } catch (err) {
      throw new HandlerError("Runtime.ImportModuleError", `cannot import ${module} (NODE_OPTIONS --import): ${err?.message ?? err}`);
    }
  }
  const dot = spec.lastIndexOf(".");
  if (dot <= 0) throw new HandlerError("Runtime.MalformedHandlerName", `_HANDLER "${spec}" is not "file.export"`);
  const file = spec.slice(0, dot);
  const name = spec.slice(dot + 1);
  const path = EXTENSIONS.map((ext) => resolve(root, file + ext)).find((p) => existsSync(p) && !p.endsWith("/"));
  if (!path) throw new HandlerError("Runtime.ImportModuleError", `cannot find ${file} (tried ${EXTENSIONS.filter(Boolean).join(", ")}) in ${root}`);
  const mod = await import(new URL(`file://${path}`).href);
  const target = mod[name];
  if (typeof target === "function") return target;
  if (target && typeof target.fetch === "function") return target.fetch.bind(target);
  throw new HandlerError("Runtime.HandlerNotFound", `${file}.${name} is not a fetch handler (a function or an object with fetch)`);
}

function toBase64(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(out);
}

function fromBase64(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function isHttpV2(event) {
  return Boolean(event && typeof event === "object" && event.requestContext && event.requestContext.http);
}

function toRequest(event) {
  if (!isHttpV2(event)) {
    return new Request("http://lambda.local/_lambda/event", {
      method: "POST", body: JSON.stringify(event),
      headers: { "content-type": "application/json", "x-lambda-event-source": String((event && (event.source || (event.Records && event.Records[0] && event.Records[0].eventSource))) || "unknown") },
    });
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers || {})) if (value != null) headers.set(name, String(value));
  if (Array.isArray(event.cookies) && event.cookies.length) headers.set("cookie", event.cookies.join("; "));
  const method = event.requestContext.http.method || "GET";
  const host = headers.get("x-forwarded-host") || headers.get("host") || event.requestContext.domainName || "localhost";
  const proto = headers.get("x-forwarded-proto") || "https";
  const query = event.rawQueryString ? `?${event.rawQueryString}` : "";
  let body;
  if (event.body != null && method !== "GET" && method !== "HEAD") {
    body = event.isBase64Encoded ? fromBase64(event.body) : event.body;
  }
  return new Request(`${proto}://${host}${event.rawPath || "/"}${query}`, { method, headers, body });
}

async function toResult(event, response) {
  if (!(response instanceof Response)) throw new TypeError(`the handler returned ${typeof response}, not a Response`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (!isHttpV2(event)) {
    const text = new TextDecoder().decode(bytes);
    if (response.status >= 400) throw new Error(`handler answered ${response.status}: ${text.slice(0, 500)}`);
    if (!text) return null;
    return (response.headers.get("content-type") || "").includes("json") ? JSON.parse(text) : text;
  }
  const headers = {};
  for (const [name, value] of response.headers) if (name !== "set-cookie") headers[name] = value;
  const cookies = typeof response.headers.getSetCookie === "function" ? response.headers.getSetCookie() : [];
  const textual = TEXT_TYPES.test(response.headers.get("content-type") || "text/plain");
  return {
    statusCode: response.status, headers, cookies,
    body: textual ? new TextDecoder().decode(bytes) : toBase64(bytes), isBase64Encoded: !textual,
  };
}

async function main() {
  let handler;
  try {
    handler = await loadHandler();
  } catch (err) {
    console.error("init error:", err);
    await post("/init/error", errorBody(err, "Runtime.ImportModuleError"), {
      "Lambda-Runtime-Function-Error-Type": err instanceof HandlerError ? err.name : "Runtime.ImportModuleError",
    });
    process.exit(1);
  }
  for (;;) {
    const next = await fetch(`${API}/invocation/next`);
    const id = next.headers.get("lambda-runtime-aws-request-id");
    const deadline = Number(next.headers.get("lambda-runtime-deadline-ms") || Date.now() + 900000);
    const trace = next.headers.get("lambda-runtime-trace-id");
    if (trace) process.env._X_AMZN_TRACE_ID = trace;
    const event = await next.json();
    const context = {
      awsRequestId: id, invokedFunctionArn: next.headers.get("lambda-runtime-invoked-function-arn"),
      deadlineMs: deadline, getRemainingTimeInMillis: () => deadline - Date.now(),
    };
    let result;
    try {
      result = await toResult(event, await handler(toRequest(event), { event, context }));
    } catch (err) {
      console.error(`invocation ${id} failed:`, err);
      await post(`/invocation/${id}/error`, errorBody(err, "Error"), { "Lambda-Runtime-Function-Error-Type": "Unhandled" });
      continue;
    }
    await post(`/invocation/${id}/response`, JSON.stringify(result));
  }
}

await main();
