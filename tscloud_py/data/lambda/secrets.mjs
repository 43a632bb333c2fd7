// tscloud's secret resolver for Lambda functions (Node.js), shipped in the function's zip as
// _tscloud/secrets.mjs and preloaded with NODE_OPTIONS="--import ./_tscloud/secrets.mjs".
//
// The function's configuration holds only where each secret lives: TSCLOUD_SECRETS is a JSON object
// {"VAR": "<Secrets Manager ARN>[:json-key:version-stage:version-id]" | "<SSM parameter ARN>"}, the
// same references an ECS task definition's valueFrom takes. Before the runtime loads the handler, this
// module reads each value with the function role's credentials and sets process.env.VAR, so the handler
// reads its secrets as plain environment variables and no value is ever part of the configuration that
// GetFunctionConfiguration shows.
//
// It needs nothing but Node itself: requests are signed here (SigV4) and sent with fetch, so it runs the
// same on every nodejs runtime, with any bundler, and under AWS's runtime interface client locally.
// AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL are honoured as the AWS
// SDKs honour them. Any failure ends the init with one line naming the variable and AWS's error code.
import { createHash, createHmac } from "node:crypto";

const SELF = "--import ./_tscloud/secrets.mjs";
const ATTEMPTS = 3;
const TIMEOUT_MS = 3000;

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const hmac = (key, data) => createHmac("sha256", key).update(data).digest();

/** SigV4 headers for a POST of `body` to `url` (exported for the signer's test against botocore's). */
export function sign({ url, service, region, target, body, credentials, now = new Date() }) {
  const amzDate = now.toISOString().replace(/[-:]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const headers = {
    "content-type": "application/x-amz-json-1.1",
    host: url.host,
    "x-amz-date": amzDate,
    "x-amz-target": target,
  };
  if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const canonical = ["POST", url.pathname || "/", "", ...names.map((n) => `${n}:${headers[n]}`), "",
    names.join(";"), sha256(body)].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  let key = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of [region, service, "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return headers;
}

const SERVICES = {
  secretsmanager: { env: "SECRETS_MANAGER", prefix: "secretsmanager." },
  ssm: { env: "SSM", prefix: "AmazonSSM." },
};

function endpoint(service, partition, region) {
  const override = process.env[`AWS_ENDPOINT_URL_${SERVICES[service].env}`] || process.env.AWS_ENDPOINT_URL;
  if (override) return new URL(override);
  return new URL(`https://${service}.${region}.${partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com"}`);
}

class AwsError extends Error {
  constructor(code, message, retry) {
    super(`${code}: ${message}`);
    this.retry = retry;
  }
}

async function request(arn, action, payload) {
  const [, partition, service, region] = arn.split(":");
  const url = endpoint(service, partition, region);
  const body = JSON.stringify(payload);
  const credentials = {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
    sessionToken: process.env.AWS_SESSION_TOKEN,
  };
  for (let attempt = 1; ; attempt++) {
    try {
      const headers = sign({ url, service, region, target: SERVICES[service].prefix + action, body, credentials });
      delete headers.host; // fetch sends the URL's own host, which is what was signed
      const res = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
      const text = await res.text();
      if (res.ok) return JSON.parse(text);
      let doc = {};
      try { doc = JSON.parse(text); } catch { /* an HTML or empty error page */ }
      const code = String(doc.__type || `HTTP ${res.status}`).split("#").pop();
      const throttled = /Throttl|TooManyRequests|RequestLimitExceeded/.test(code);
      throw new AwsError(code, doc.message || doc.Message || res.statusText, res.status >= 500 || throttled);
    } catch (err) {
      const retry = err instanceof AwsError ? err.retry : true; // network errors and timeouts are retried
      if (!retry || attempt >= ATTEMPTS) throw err;
      await new Promise((done) => setTimeout(done, 100 * 2 ** attempt));
    }
  }
}

async function secretValue(ref) {
  const parts = ref.split(":");
  const [key, stage, versionId] = parts.slice(7);
  const payload = { SecretId: parts.slice(0, 7).join(":") };
  if (stage) payload.VersionStage = stage;
  if (versionId) payload.VersionId = versionId;
  const out = await request(ref, "GetSecretValue", payload);
  if (typeof out.SecretString !== "string") throw new Error("holds a binary value; an environment variable holds text");
  if (!key) return out.SecretString;
  const value = JSON.parse(out.SecretString)[key];
  if (value === undefined) throw new Error(`has no JSON key ${key}`);
  return typeof value === "string" ? value : JSON.stringify(value);
}

async function parameterValue(arn) {
  const out = await request(arn, "GetParameters", { Names: [arn], WithDecryption: true });
  const found = (out.Parameters || [])[0];
  if (!found) throw new Error("ParameterNotFound: no such parameter");
  return found.Value;
}

export async function resolve(spec) {
  const wanted = Object.entries(spec);
  const values = await Promise.all(wanted.map(async ([name, ref]) => {
    try {
      return ref.split(":")[2] === "ssm" ? await parameterValue(ref) : await secretValue(ref);
    } catch (err) {
      throw new Error(`cannot read ${name} from ${ref.split(":").slice(0, 7).join(":")}: ${err.message}`);
    }
  }));
  return Object.fromEntries(wanted.map(([name], i) => [name, values[i]]));
}

const spec = JSON.parse(process.env.TSCLOUD_SECRETS || "{}");
// a child process of the function inherits the values already read, and must not look them up again
if (!Object.keys(spec).every((name) => name in process.env)) {
  try {
    Object.assign(process.env, await resolve(spec));
  } catch (err) {
    console.error(`tscloud: the function's secrets were not read at init: ${err.message}`);
    process.exit(1);
  }
}
// children started with another working directory could not load this module; they need it no more
const options = (process.env.NODE_OPTIONS || "").replace(SELF, "").trim();
if (options) process.env.NODE_OPTIONS = options;
else delete process.env.NODE_OPTIONS;
