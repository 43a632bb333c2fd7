// A queue worker: one SQS batch per invocation; failed messages are reported individually so
// only they are retried (and reach the DLQ after max_receive_count receives).
export async function handler(event) {
  const batchItemFailures = [];
  for (const record of event.Records) {
    try {
      const job = JSON.parse(record.body);
      console.log("job", job.type ?? "unknown", record.messageId);
    } catch (err) {
      console.error("bad message", record.messageId, err);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
