import { createFileRoute } from "@tanstack/react-router";

export const Route = createFileRoute("/empty")({
  server: { handlers: { GET: () => new Response(null, { status: 204 }) } },
});
