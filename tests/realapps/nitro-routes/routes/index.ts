export default () => new Response("<!doctype html><html><body><h1>home</h1></body></html>", {
  headers: { "content-type": "text/html; charset=utf-8" },
});
