// The queue worker, run by Bun on Lambda through tscloud's Bun layer. Events that are not HTTP
// (an SQS batch, a schedule) arrive as a POST to /_lambda/event with the event as the JSON body;
// the JSON answered is the invocation's result.
type SqsRecord = { messageId: string; body: string; attributes: { ApproximateReceiveCount: string } };

async function handle(record: SqsRecord): Promise<void> {
  const job = JSON.parse(record.body) as { kind?: string; id?: string };
  if (job.kind === "reject") throw new Error(`job ${job.id} cannot be done`);
  console.log(`processed job ${job.id} (${job.kind}) on Bun ${Bun.version}`);
}

export async function fetch(request: Request): Promise<Response> {
  const event = await request.json();
  if (event.schedule) {
    console.log(`schedule ${event.schedule} ran`);
    return Response.json({ ok: true });
  }
  // A failed record is reported alone: the others are deleted, it comes back after the visibility
  // timeout, and after max_receive_count receives SQS moves it to the DLQ.
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of (event.Records ?? []) as SqsRecord[]) {
    try {
      await handle(record);
    } catch (err) {
      console.log(`failed ${record.messageId} (receive ${record.attributes.ApproximateReceiveCount}): ${err}`);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return Response.json({ batchItemFailures });
}
