// The stock graphql-ws client (6.x, with `ws`) against a running gateway: what a
// web or Node client does for live usage. Usage:
//   GATEWAY_URL=http://127.0.0.1:8000 ORG=<id> MEMBER_TOKEN=<jwt> \
//   RECORD_TOKEN=<key> METER=email node graphql-ws.mjs
// Subscribes with the member's token (in connection_init, as a browser must), records
// one event at a time with RECORD_TOKEN (an operator or service key) until the first
// tick arrives, then records 5 more and waits for their tick. Then connects with a
// wrong token, which must be refused with 4403. Prints one JSON object per line
// ({"event": "tick" | "recorded" | "refused" | "done", ...}); exits 1 on failure.
import { readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { recordUsage } from './record-usage.mjs';

const base = process.env.GATEWAY_URL;
const { ORG: org, MEMBER_TOKEN: member, RECORD_TOKEN: recorder } = process.env;
const meter = process.env.METER ?? 'email';
if (!base || !org || !member || !recorder) {
  console.error('GATEWAY_URL, ORG, MEMBER_TOKEN and RECORD_TOKEN are required');
  process.exit(2);
}
const url = base.replace(/^http/, 'ws') + '/graphql';
const live = readFileSync(new URL('../operations/usage_live.graphql', import.meta.url), 'utf8');
const print = (line) => console.log(JSON.stringify(line));
const deadline = (ms, what) =>
  new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref());

async function record(quantity) {
  await recordUsage({ base, token: recorder, organizationId: org, meter, quantity });
  print({ event: 'recorded', quantity });
}

const ticks = [];
let arrived = () => {};
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${member}` },
  retryAttempts: 0,
});
const unsubscribe = client.subscribe(
  { query: live, variables: { org } },
  {
    next: (result) => {
      if (result.errors) print({ event: 'errors', errors: result.errors });
      const tick = result.data?.usageUpdated;
      if (tick && tick.meter === meter) {
        ticks.push(tick);
        print({ event: 'tick', ...tick });
        arrived();
      }
    },
    error: (error) => {
      print({ event: 'error', error: String(error?.reason ?? error) });
      process.exit(1);
    },
    complete: () => {},
  },
);
const nextTick = (ms) =>
  Promise.race([new Promise((resolve) => (arrived = resolve)), deadline(ms, 'a tick')]);

try {
  // Live once the subscription reached the hub, which the protocol does not say.
  let ones = 0;
  for (let attempt = 0; ticks.length === 0; attempt += 1) {
    if (attempt === 200) throw new Error('the subscription never went live');
    const waiting = nextTick(250).catch(() => {});
    await record('1');
    ones += 1;
    await waiting;
  }
  // Every '1' above has committed, but under load the last one's tick may still be
  // on its way: wait until the ticks have caught up with what was recorded.
  while (Number(ticks[ticks.length - 1].used) < ones) await nextTick(60000);
  const first = ticks[ticks.length - 1];
  print({ event: 'live', used: first.used });
  const waiting = new Promise((resolve) => {
    arrived = () => {
      if (ticks.some((tick) => Number(tick.used) === Number(first.used) + 5)) resolve();
    };
  });
  await record('5');
  await Promise.race([waiting, deadline(60000, 'the tick of 5 more')]);
  unsubscribe();
  await client.dispose();

  // A wrong token: the protocol's refusal, before any subscription.
  const refused = await Promise.race([
    new Promise((resolve) => {
      const stranger = createClient({
        url,
        webSocketImpl: WebSocket,
        connectionParams: { Authorization: 'Bearer not-a-token' },
        retryAttempts: 0,
        on: {
          connected: () => resolve({ acknowledged: true }),
          closed: (event) => resolve({ code: event.code, reason: event.reason }),
        },
      });
      stranger.subscribe({ query: live, variables: { org } }, {
        next: () => {},
        error: () => {},
        complete: () => {},
      });
    }),
    deadline(60000, 'the refusal'),
  ]);
  print({ event: 'refused', ...refused });
  print({ event: 'done' });
  process.exit(0);
} catch (error) {
  print({ event: 'failed', error: String(error) });
  process.exit(1);
}
