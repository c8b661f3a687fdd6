// One event recorded over plain HTTP with the contract's RecordUsage document, the way
// a metering service does it: the browser and websocket scripts use it to make the
// gateway tick while they watch (the recording is theirs, never the page's).
import { readFileSync } from 'node:fs';

const document = readFileSync(new URL('../operations/record_usage.graphql', import.meta.url), 'utf8');

// Records `quantity` of `meter` in `organizationId` with `token`; throws unless the
// one event was accepted.
export async function recordUsage({ base, token, organizationId, meter, quantity }) {
  const response = await fetch(base + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: document,
      variables: {
        events: [{ idempotencyKey: crypto.randomUUID(), organizationId, meter, quantity }],
      },
    }),
  });
  const body = await response.json();
  if (body.errors || body.data.recordUsage.accepted !== 1) {
    throw new Error(`recordUsage: ${JSON.stringify(body)}`);
  }
}
