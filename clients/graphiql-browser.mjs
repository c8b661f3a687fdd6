// GraphiQL in Debian's Chromium (headless, through playwright-core) against a running
// `serve --demo`, with no network beyond the gateway: the page must render from the
// gateway's own files (issue 16). Usage:
//   GATEWAY_URL=http://127.0.0.1:8000 ORG=org_pipeline RECORD_TOKEN=<operator key> \
//   [METER=contacts] [CHROMIUM=/usr/bin/chromium] node graphiql-browser.mjs
// Chromium resolves no host but 127.0.0.1, and every request to another origin is
// aborted and reported. Opens GraphiQL, reads the headers editor and the explorer
// button, runs `{ viewer { id kind } }` with the execute button, then starts a
// usageUpdated subscription and records usage over HTTP (RECORD_TOKEN, from here,
// not from the page) until its tick shows in the result pane. Prints one JSON
// object per line ({"event": "rendered" | "explorer" | "headers" | "query" | "tick"
// | "network" | "done" | "failed", ...}); exits 1 on failure.
import { chromium } from 'playwright-core';
import { recordUsage } from './record-usage.mjs';

const base = process.env.GATEWAY_URL;
const { ORG: org, RECORD_TOKEN: recorder } = process.env;
const meter = process.env.METER ?? 'contacts';
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!base || !org || !recorder) {
  console.error('GATEWAY_URL, ORG and RECORD_TOKEN are required');
  process.exit(2);
}
const origin = new URL(base).origin;
const wsOrigin = origin.replace(/^http/, 'ws');
const print = (line) => console.log(JSON.stringify(line));

const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const RESULT = '.result-window .CodeMirror';
const EXPLORER_BUTTON = 'button[aria-label="Show GraphiQL Explorer"]';

async function record(quantity) {
  await recordUsage({ base, token: recorder, organizationId: org, meter, quantity });
}

const editorValue = (page, selector) =>
  page.$eval(selector, (element) => element.CodeMirror.getValue());
// Types the operation in, then waits for GraphiQL to parse it (it does so 100 ms
// after the last change, as a person would wait before pressing run): the fetcher
// picks the websocket by the parsed operation's kind.
async function setQuery(page, text, kind) {
  await page.$eval(QUERY_EDITOR, (element, value) => element.CodeMirror.setValue(value), text);
  await page.waitForFunction(
    ([selector, expected]) =>
      document.querySelector(selector).CodeMirror.documentAST?.definitions[0]?.operation ===
      expected,
    [QUERY_EDITOR, kind],
    { timeout: 10000 },
  );
}

async function resultJson(page) {
  const text = await editorValue(page, RESULT);
  try {
    return JSON.parse(text);
  } catch {
    return null; // empty, or still being written
  }
}

async function waitForResult(page, accept, what, ms = 30000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const result = await resultJson(page);
    if (result && accept(result)) return result;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out: ${what} (result pane: ${await editorValue(page, RESULT)})`);
}

const requests = [];
const blocked = [];
const websockets = [];
const browser = await chromium.launch({
  executablePath,
  // No DNS but the gateway's: what a machine without internet sees.
  args: ['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
});
try {
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    blocked.push(url);
    return route.abort('internetdisconnected');
  });
  const page = await context.newPage();
  page.on('request', (request) => requests.push(request.url()));
  page.on('websocket', (socket) => websockets.push(socket.url()));
  page.on('pageerror', (error) => print({ event: 'pageerror', error: String(error) }));

  await page.goto(base + '/graphql');
  await page.waitForSelector(QUERY_EDITOR, { timeout: 30000 });
  print({
    event: 'rendered',
    loading: (await page.textContent('#graphiql')).includes('Loading...'),
    title: await page.title(),
  });

  // The explorer plugin: its sidebar button, and its panel listing the schema's
  // root fields once introspection has answered.
  await page.click(EXPLORER_BUTTON);
  const explorer = page.locator('.graphiql-explorer-root');
  await explorer.getByText('viewer', { exact: true }).first().waitFor({ timeout: 30000 });
  print({ event: 'explorer', button: true, lists: 'viewer' });

  await page.getByRole('button', { name: 'Headers', exact: true }).click();
  const headers = await editorValue(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
  print({ event: 'headers', text: headers });

  await setQuery(page, '{ viewer { id kind } }', 'query');
  await page.click('.graphiql-execute-button');
  const answered = await waitForResult(page, (r) => 'data' in r || 'errors' in r, 'the query');
  print({ event: 'query', result: answered });

  await setQuery(
    page,
    `subscription { usageUpdated(organizationId: "${org}") { meter used } }`,
    'subscription',
  );
  await page.click('.graphiql-execute-button');
  // Live once the subscription reached the gateway's hub, which the protocol does
  // not say: record one unit at a time until a tick shows.
  let tick = null;
  for (let attempt = 0; tick === null; attempt += 1) {
    if (attempt === 100) throw new Error(`no tick reached the result pane: ${await editorValue(page, RESULT)}`);
    await record('1');
    tick = await waitForResult(
      page,
      (r) => r.data?.usageUpdated?.meter === meter,
      'a tick',
      500,
    ).catch(() => null);
  }
  print({ event: 'tick', result: tick });
  await page.click('.graphiql-execute-button'); // stops the subscription

  print({ event: 'network', requests, blocked, websockets, origin, wsOrigin });
  print({ event: 'done' });
  await browser.close();
  process.exit(0);
} catch (error) {
  print({ event: 'network', requests, blocked, websockets, origin, wsOrigin });
  print({ event: 'failed', error: String(error) });
  await browser.close();
  process.exit(1);
}
