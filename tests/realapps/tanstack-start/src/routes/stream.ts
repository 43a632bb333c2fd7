import { createFileRoute } from "@tanstack/react-router";

// Five chunks, 250 ms apart: about a second of streaming.
export const Route = createFileRoute("/stream")({
  server: {
    handlers: {
      GET: () => {
        let i = 0;
        const body = new ReadableStream({
          async pull(controller) {
            if (i > 0) await new Promise((r) => setTimeout(r, 250));
            if (i === 5) return controller.close();
            controller.enqueue(new TextEncoder().encode(`<p>chunk ${i++}</p>\n`));
          },
        });
        return new Response(body, { headers: { "content-type": "text/html; charset=utf-8" } });
      },
    },
  },
});
