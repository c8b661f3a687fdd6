// @apollo/client 4 in Node against a running gateway: what a mobile or partner
// client does. Usage:
//   GATEWAY_URL=http://127.0.0.1:8000 ORG=<id> TOKEN=<jwt or key> node apollo.mjs [step...]
// Steps (all by default):
//   apq      UsagePage through PersistedQueryLink over POST: the hash first, the
//            document when the gateway answers PERSISTED_QUERY_NOT_FOUND.
//   apq-get  Meters through PersistedQueryLink with useGETForHashedQueries.
//   get      Meters over GET (HttpLink useGETForQueries), no persisted query.
//   trusted  Meters by the hash of operations/meters.graphql (a trusted document,
//            sent by hash only), then an ad hoc document by hash, to be refused.
// Each HTTP exchange prints {"event": "request" | "response", "step", ...}; each
// operation {"event": "result" | "error", "step", ...}: one JSON object a line.
// Exits 1 when an operation other than the one meant to be refused fails.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';

const base = process.env.GATEWAY_URL;
const { ORG: org, TOKEN: token } = process.env;
if (!base || !org || !token) {
  console.error('GATEWAY_URL, ORG and TOKEN are required');
  process.exit(2);
}
const steps = process.argv.slice(2).length ? process.argv.slice(2) : ['apq', 'apq-get', 'get'];
const print = (line) => console.log(JSON.stringify(line));
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const documentText = (name) =>
  readFileSync(new URL(`../operations/${name}.graphql`, import.meta.url), 'utf8');

// A fetch that reports what went over the wire.
function watchedFetch(step) {
  return async (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url);
    const method = init.method ?? 'GET';
    const sent = method === 'GET'
      ? Object.fromEntries(url.searchParams)
      : JSON.parse(init.body);
    const extensions = typeof sent.extensions === 'string'
      ? JSON.parse(sent.extensions)
      : sent.extensions;
    print({
      event: 'request',
      step,
      method,
      hash: extensions?.persistedQuery?.sha256Hash ?? null,
      query: typeof sent.query === 'string' && sent.query.length > 0,
    });
    const response = await fetch(input, init);
    const body = await response.clone().text();
    let codes = [];
    try {
      codes = (JSON.parse(body).errors ?? []).map((error) => error.extensions?.code);
    } catch {
      codes = ['<not json>'];
    }
    print({ event: 'response', step, status: response.status, codes });
    return response;
  };
}

function client(step, { persisted, ...http }) {
  const httpLink = new HttpLink({
    uri: base + '/graphql',
    headers: { authorization: `Bearer ${token}` },
    fetch: watchedFetch(step),
    ...http,
  });
  return new ApolloClient({
    link: persisted ? ApolloLink.from([new PersistedQueryLink(persisted), httpLink]) : httpLink,
    cache: new InMemoryCache(),
  });
}

async function run(step, apollo, document, variables) {
  try {
    const result = await apollo.query({ query: gql(document), variables, fetchPolicy: 'no-cache' });
    print({ event: 'result', step, data: result.data });
    return true;
  } catch (error) {
    const codes = (error.errors ?? []).map((e) => e.extensions?.code);
    print({ event: 'error', step, codes, message: String(error.message ?? error) });
    return false;
  }
}

let ok = true;
for (const step of steps) {
  if (step === 'apq') {
    const apollo = client(step, { persisted: { sha256 } });
    ok = (await run(step, apollo, documentText('usage_page'), { org })) && ok;
  } else if (step === 'apq-get') {
    const apollo = client(step, { persisted: { sha256, useGETForHashedQueries: true } });
    ok = (await run(step, apollo, documentText('meters'), { org })) && ok;
    ok = (await run(step, apollo, documentText('meters'), { org })) && ok;
  } else if (step === 'get') {
    const apollo = client(step, { useGETForQueries: true });
    ok = (await run(step, apollo, documentText('meters'), { org })) && ok;
  } else if (step === 'trusted') {
    // The registered document's hash: the sha256 of the file as the repo ships it.
    const registered = sha256(documentText('meters'));
    const apollo = client(step, { persisted: { generateHash: () => registered } });
    ok = (await run(step, apollo, documentText('meters'), { org })) && ok;
    const adHoc = client(`${step}-ad-hoc`, { persisted: { sha256 } });
    await run(`${step}-ad-hoc`, adHoc, '{ viewer { kind } }', {});
  } else {
    console.error(`unknown step ${step}`);
    process.exit(2);
  }
}
process.exit(ok ? 0 : 1);
