// Runs CloudFront Functions for the local edge: one JSON request per stdin line, one JSON reply per line.
//
// Each function runs in its own V8 context holding only what the cloudfront-js runtimes offer: the
// ECMAScript built-ins, console.log, require('crypto') (hashes and HMACs) and, in cloudfront-js-2.0,
// Buffer. No timers, no network, no file system, no eval or Function constructor.
import crypto from "node:crypto";
import readline from "node:readline";
import vm from "node:vm";

const TIMEOUT_MS = 1000;
const contexts = new Map();

function cryptoSubset() {
  return {
    createHash: (alg) => crypto.createHash(alg),
    createHmac: (alg, key) => crypto.createHmac(alg, key),
  };
}

function compile(code, runtime) {
  const key = runtime + "\0" + code;
  let entry = contexts.get(key);
  if (entry) return entry;
  const logs = [];
  const modules = { crypto: cryptoSubset() };
  const globals = {
    console: { log: (...args) => logs.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")) },
    require: (name) => {
      if (name in modules) return modules[name];
      if (name === "cloudfront") throw new Error("cloudfront: KeyValueStore is not emulated by the local edge");
      throw new Error(`Cannot find module '${name}' (the cloudfront-js runtime offers only 'crypto' and 'cloudfront')`);
    },
  };
  if (runtime === "cloudfront-js-2.0") globals.Buffer = Buffer;
  const context = vm.createContext(globals, { codeGeneration: { strings: false, wasm: false } });
  new vm.Script(code + "\n;globalThis.__handler = typeof handler === 'function' ? handler : undefined;", {
    filename: "function.js",
  }).runInContext(context, { timeout: TIMEOUT_MS });
  if (typeof context.__handler !== "function") throw new Error("the function code defines no handler(event)");
  entry = { context, logs };
  contexts.set(key, entry);
  return entry;
}

async function run(message) {
  const entry = compile(message.code, message.runtime);
  entry.logs.length = 0;
  entry.context.__event = message.event;
  let result = new vm.Script("__handler(__event)").runInContext(entry.context, { timeout: TIMEOUT_MS });
  if (result && typeof result.then === "function") {
    if (message.runtime !== "cloudfront-js-2.0") throw new Error("cloudfront-js-1.0 has no promises; use cloudfront-js-2.0");
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the function did not finish within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    });
    try {
      result = await Promise.race([result, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
  return { result: JSON.parse(JSON.stringify(result === undefined ? null : result)), logs: [...entry.logs] };
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    return;
  }
  let reply;
  try {
    reply = { id: message.id, ok: true, ...(await run(message)) };
  } catch (err) {
    reply = { id: message.id, ok: false, error: String(err && err.message ? err.message : err) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
