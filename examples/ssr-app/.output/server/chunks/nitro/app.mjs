const encoder = new TextEncoder();

// A tiny "app": server-renders a page in three chunks, 100 ms apart (as a page waiting on data would).
export function useNitroApp() {
  return {
    async fetch(request) {
      const url = new URL(request.url);
      if (url.pathname === "/api/health") return Response.json({ ok: true });
      const parts = ["<!doctype html><html><head><link rel=\"stylesheet\" href=\"/assets/main-5f2c1a9b.css\"></head>",
                     `<body><h1>Hello from ${url.host}</h1>`, "<script src=\"/assets/main-8d41e0c7.js\"></script></body></html>"];
      const body = new ReadableStream({
        async pull(controller) {
          if (parts.length < 3) await new Promise((resolve) => setTimeout(resolve, 100));
          const next = parts.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(encoder.encode(next));
        },
      });
      return new Response(body, { headers: { "content-type": "text/html; charset=utf-8" } });
    },
  };
}
