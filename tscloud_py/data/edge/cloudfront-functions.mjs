// Runs CloudFront Functions for the local edge: one JSON request per stdin line, one JSON reply per line.
//
// Each function runs in its own V8 context holding only what the cloudfront-js runtimes offer: the
// ECMAScript built-ins, console.log, require('crypto') (hashes and HMACs) and, in cloudfront-js-2.0,
// Buffer and the 'cloudfront' module: cf.kvs() (the associated KeyValueStore, read through the host: a
// lookup is one {"ask"} line out and one {"answer"} line back) and cf.updateRequestOrigin. `import x from
// 'cloudfront'` (and 'crypto') is how AWS's examples load them; it is read as the require it stands for.
// No timers, no network, no file system, no eval or Function constructor.
import crypto from "node:crypto";
import readline from "node:readline";
import vm from "node:vm";

const TIMEOUT_MS = 1000;
const contexts = new Map();
const IMPORT = /^[ \t]*import[ \t]+([A-Za-z_$][\w$]*)[ \t]+from[ \t]+(['"])(cloudfront|crypto)\2[ \t]*;?/gm;
const asks = new Map();
let nextAsk = 0;
let current = null; // the call being run: its message (associated stores) and what the function set

function ask(question) {
  const id = String(++nextAsk);
  process.stdout.write(JSON.stringify({ ask: id, ...question }) + "\n");
  return new Promise((resolve) => asks.set(id, resolve));
}

function storeArn(id) {
  const stores = (current && current.message.stores) || [];
  if (id === undefined) {
    if (stores.length !== 1) throw new Error(`cf.kvs(): the function has ${stores.length} key value stores associated; name one`);
    return stores[0];
  }
  const arn = stores.find((a) => a === id || a.endsWith("/" + id));
  if (!arn) throw new Error(`cf.kvs(${JSON.stringify(id)}): that key value store is not associated with the function`);
  return arn;
}

function kvs(id) {
  const handle = () => storeArn(id);
  return {
    async get(key, options) {
      const answer = await ask({ op: "get", store: handle(), key: String(key) });
      if (!answer.found) throw new Error(`Key ${key} not found`);
      const format = (options && options.format) || "string";
      if (format === "json") return JSON.parse(answer.value);
      if (format === "bytes") return Buffer.from(answer.value, "utf8");
      return answer.value;
    },
    async exists(key) {
      return (await ask({ op: "get", store: handle(), key: String(key) })).found;
    },
    async meta() {
      return (await ask({ op: "meta", store: handle() })).value;
    },
  };
}

function cloudfrontModule() {
  return {
    kvs,
    updateRequestOrigin(params) {
      if (!params || typeof params.domainName !== "string" || !params.domainName) {
        throw new Error("cf.updateRequestOrigin: domainName is required");
      }
      current.origin = JSON.parse(JSON.stringify(params));
    },
  };
}

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
  if (runtime === "cloudfront-js-2.0") modules.cloudfront = cloudfrontModule();
  const globals = {
    console: { log: (...args) => logs.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")) },
    require: (name) => {
      if (name in modules) return modules[name];
      if (name === "cloudfront") throw new Error("the 'cloudfront' module needs cloudfront-js-2.0");
      throw new Error(`Cannot find module '${name}' (the cloudfront-js runtime offers only 'crypto' and 'cloudfront')`);
    },
  };
  if (runtime === "cloudfront-js-2.0") globals.Buffer = Buffer;
  const context = vm.createContext(globals, { codeGeneration: { strings: false, wasm: false } });
  const source = code.replace(IMPORT, (_m, name, _q, module) => `const ${name} = require("${module}");`);
  new vm.Script(source + "\n;globalThis.__handler = typeof handler === 'function' ? handler : undefined;", {
    filename: "function.js",
  }).runInContext(context, { timeout: TIMEOUT_MS });
  if (typeof context.__handler !== "function") throw new Error("the function code defines no handler(event)");
  entry = { context, logs };
  contexts.set(key, entry);
  return entry;
}

async function run(message) {
  current = { message, origin: null };
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
  return { result: JSON.parse(JSON.stringify(result === undefined ? null : result)), logs: [...entry.logs],
           origin: current.origin };
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    return;
  }
  if (message.answer !== undefined) {
    const resolve = asks.get(message.answer);
    asks.delete(message.answer);
    if (resolve) resolve(message);
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
