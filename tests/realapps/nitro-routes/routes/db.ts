import pg from "pg";

// A pool at module level, as apps do: its idle client keeps a socket (and the event loop) open.
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, idleTimeoutMillis: Number(process.env.PG_IDLE_TIMEOUT_MS || 10000), max: 2 });

export default async () => {
  const { rows } = await pool.query("select 1 as one");
  return new Response(JSON.stringify(rows), { headers: { "content-type": "application/json" } });
};
