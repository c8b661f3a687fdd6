// graphql-http's auditServer (the GraphQL-over-HTTP reference audit) against a
// running gateway. Usage:
//   node audit-http.mjs <url> [authorization]
// or AUDIT_URL / AUDIT_AUTHORIZATION in the environment. The Authorization header
// (e.g. "Bearer ugk_...") is added to every request the audit sends, so the rate
// limit counts one caller and nothing is refused as anonymous. Prints one line per
// audit (ok, notice, warn or error, with the reason) and a summary; exits 1 on any warning or
// error (a notice, a MAY the gateway does not do, is reported but passes), 2 on bad
// usage.
import { auditServer } from 'graphql-http';

const url = process.argv[2] ?? process.env.AUDIT_URL;
const authorization = process.argv[3] ?? process.env.AUDIT_AUTHORIZATION;
if (!url) {
  console.error('usage: node audit-http.mjs <url> [authorization]');
  process.exit(2);
}

function withAuthorization(input, init = {}) {
  const headers = new Headers(init.headers);
  if (authorization) headers.set('authorization', authorization);
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: withAuthorization });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  let line = `${result.status.padEnd(5)} ${result.id} ${result.name}`;
  if (result.status !== 'ok') {
    line += `\n      ${result.reason}`;
    const response = result.response;
    if (response) {
      const body = await response.text().catch(() => '');
      line += `\n      HTTP ${response.status} ${response.headers.get('content-type') ?? ''} ${body.slice(0, 300)}`;
    }
  }
  console.log(line);
}
console.log(
  `summary: ${counts.ok} ok, ${counts.notice} notices, ${counts.warn} warnings, ${counts.error} errors`,
);
process.exit(counts.warn + counts.error === 0 ? 0 : 1);
