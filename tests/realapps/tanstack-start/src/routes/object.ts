import { createFileRoute } from "@tanstack/react-router";

// Server routes answer with a Response; Response.json is the nearest to "a plain object".
export const Route = createFileRoute("/object")({
  server: { handlers: { GET: () => Response.json({ ok: true, kind: "object" }) } },
});
