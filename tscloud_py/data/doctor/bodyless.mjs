// Loaded with `node --import` by `tscloud ssr doctor --probe-bodyless`. A request carrying the header
// x-tscloud-doctor-bodyless is answered by the Nitro app itself with `new Response(null, {status: 204})`,
// so the build's own Lambda runtime has to deliver a response without a body. Nitro 3 registers its
// app on globalThis.__nitro__ (the app itself up to 3.0.1-alpha.1, a map of apps by id after); the
// app's fetch is wrapped in place, so the handler's own reference sees it. nitropack 2 keeps its app
// private: there the probe is answered as a normal request.
const HEADER = "x-tscloud-doctor-bodyless";

function wrap(app) {
  if (!app || typeof app.fetch !== "function" || app.__tscloudBodyless) return app;
  const fetch = app.fetch;
  app.fetch = function (request, ...rest) {
    if (request && request.headers && typeof request.headers.get === "function" && request.headers.get(HEADER)) {
      return Promise.resolve(new Response(null, { status: 204 }));
    }
    return fetch.call(this, request, ...rest);
  };
  Object.defineProperty(app, "__tscloudBodyless", { value: true });
  return app;
}

let current;
Object.defineProperty(globalThis, "__nitro__", {
  configurable: true,
  get() {
    return current;
  },
  set(value) {
    if (value && typeof value === "object" && typeof value.fetch !== "function") {
      for (const key of Object.keys(value)) value[key] = wrap(value[key]);
      current = new Proxy(value, {
        set(target, key, app) {
          target[key] = wrap(app);
          return true;
        },
      });
    } else {
      current = wrap(value);
    }
  },
});
