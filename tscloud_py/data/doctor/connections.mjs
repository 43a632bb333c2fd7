// Loaded with `node --import` by `tscloud ssr doctor`. Every outgoing TCP connection that the function
// opens is reported on stderr once it is established, with the package whose code opened it, read
// from the call stack at connect() time: a file under node_modules/<package>/ (traced builds) or a
// bundled chunk _libs/<package>.mjs (Nitro 3 and Vite builds). The doctor attributes these lines to
// the probe that was running, to say which pools the probes really connected.
import net from "node:net";

const MARK = "tscloud-doctor:connect";
const seen = new WeakSet();
const connect = net.Socket.prototype.connect;

function packageOf(stack) {
  for (const line of String(stack).split("\n").slice(1)) {
    if (line.includes("node:") || line.includes("connections.mjs")) continue;
    const traced = line.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g);
    if (traced) return traced[traced.length - 1].replace(/^node_modules\//, "").replace(/\/$/, "");
    const bundled = line.match(/_libs\/([^/:]+?)\.m?js/);
    if (bundled) return bundled[1].replace(/^@([^+]+)\+/, "@$1/").replace(/__/, "/");
  }
  return "(app)";
}

function target(args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (first && typeof first === "object") {
    return first.path ? String(first.path) : `${first.host || "localhost"}:${first.port}`;
  }
  return typeof first === "string" && !/^\d+$/.test(first) ? first : `${args[1] || "localhost"}:${first}`;
}

net.Socket.prototype.connect = function (...args) {
  if (!seen.has(this)) {
    seen.add(this);
    try {
      const pkg = packageOf(new Error().stack);
      const where = target(args);
      this.once("connect", () => process.stderr.write(`${MARK} ${pkg} ${where}\n`));
    } catch {
      // Reporting must never change what the function does.
    }
  }
  return connect.apply(this, args);
};
