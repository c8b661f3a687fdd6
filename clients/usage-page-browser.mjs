// The reference usage page (/usage, the <usage-page> element) in Debian's Chromium
// (headless, through playwright-core) against a running `serve --demo`, with no
// network beyond the gateway (issue 22). Usage:
//   GATEWAY_URL=http://127.0.0.1:8000 ORG=org_pipeline RECORD_TOKEN=<operator key> \
//   [METER=contacts] [PAGING_ORG=org_forge] [PAUSED_ORG=org_orbit] [SHOTS=<folder>] \
//   [CHROMIUM=/usr/bin/chromium] \
//   node usage-page-browser.mjs
// As the demo's admin and member (the page's identity switcher): reads what each
// panel shows, runs axe-core at desktop and phone width, saves screenshots to SHOTS
// (usage-page-{admin,member}.png at 1280 px, -phone.png at 390 px). As the admin:
// records METER over HTTP (RECORD_TOKEN, from here, not from the page) and times the
// bar's move, switches the chart 24 h / 30 d / 7 d, pages the top users and the
// member directory, searches the directory. As the operator on PAGING_ORG: pages the
// top workspaces by cursor; on PAUSED_ORG: reads the banners. Prints one JSON object
// per line ({"event": ...}); exits 1 on failure.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { recordUsage } from './record-usage.mjs';

const base = process.env.GATEWAY_URL;
const { ORG: org, RECORD_TOKEN: recorder } = process.env;
const meter = process.env.METER ?? 'contacts';
const pagingOrg = process.env.PAGING_ORG ?? 'org_forge';
const pausedOrg = process.env.PAUSED_ORG ?? 'org_orbit';
const shots = process.env.SHOTS ?? null;
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!base || !org || !recorder) {
  console.error('GATEWAY_URL, ORG and RECORD_TOKEN are required');
  process.exit(2);
}
const origin = new URL(base).origin;
const print = (line) => console.log(JSON.stringify(line));
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

async function record(quantity) {
  await recordUsage({ base, token: recorder, organizationId: org, meter, quantity });
}

// Playwright's CSS locators pierce the element's open shadow root.
const text = async (page, selector) => (await page.locator(selector).first().textContent())?.trim() ?? null;
const count = (page, selector) => page.locator(selector).count();
const visible = (page, selector) => page.locator(selector).first().isVisible();
// Inside the page (no piercing): the element's shadow root.
const shadowText = (selector) =>
  document.querySelector('usage-page')?.shadowRoot?.querySelector(selector)?.textContent ?? null;

async function open(page, as, organization) {
  const query = new URLSearchParams({ as, ...(organization ? { organization } : {}) });
  await page.goto(`${base}/usage?${query}`);
  await page.locator(`[data-meter]`).first().waitFor({ timeout: 30000 });
  await page.locator('.live[data-state="live"]').waitFor({ timeout: 15000 });
  // Every panel painted: UsagePage's and UsageChart's (the chart and top tables come
  // with the second request), none of the shown ones still busy.
  await page.waitForFunction(() => {
    const root = document.querySelector('usage-page')?.shadowRoot;
    if (!root) return false;
    const shown = [...root.querySelectorAll('[data-panel]')].filter((panel) => !panel.hidden);
    return shown.length > 0 && shown.every((panel) => !panel.querySelector('[aria-busy="true"]'));
  }, null, { timeout: 30000 });
}

async function axe(page) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const outcome = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] });
    return outcome.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target) }));
  });
  return result;
}

async function view(page, as) {
  return {
    as,
    heading: await text(page, 'h1'),
    banners: await page.locator('[data-banner]').evaluateAll((nodes) => nodes.map((node) => node.dataset.banner)),
    aiSummary: await text(page, '[data-ai-summary]'),
    aiPanel: await text(page, '[data-panel="ai"]'),
    metersPanel: await text(page, '[data-panel="meters"]'),
    aiCategories: await page.locator('[data-table="ai-categories"] thead th').allTextContents(),
    aiSpendMeter: await text(page, '[data-meter="ai_spend_usd"] [data-amount]'),
    seats: await text(page, '[data-seats-summary]'),
    credits: await text(page, '[data-credits-summary]'),
    meters: await count(page, '.panel-meters [data-meter]'),
    myUsage: await page.locator('[data-my-meter]').allTextContents(),
    directory: await visible(page, '[data-panel="directory"]'),
    top: await visible(page, '[data-panel="top"]'),
    seatActions: await count(page, '[data-seat-action]'),
    panels: await page.locator('[data-panel]:visible h2').allTextContents(),
  };
}

async function screenshot(page, name) {
  if (shots === null) return null;
  const path = join(shots, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const requests = [];
const blocked = [];
const websockets = [];
const problems = [];
const browser = await chromium.launch({
  executablePath,
  // No DNS but the gateway's: what a machine without internet sees.
  args: ['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
});
try {
  const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    blocked.push(url);
    return route.abort('internetdisconnected');
  });
  const page = await context.newPage();
  page.on('request', (request) => requests.push(request.url()));
  page.on('websocket', (socket) => websockets.push(socket.url()));
  page.on('pageerror', (error) => problems.push({ kind: 'pageerror', text: String(error) }));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push({ kind: 'console', text: message.text() });
  });

  // ----- the two roles, desktop then phone -----
  for (const as of ['admin', 'member']) {
    await page.setViewportSize({ width: 1280, height: 900 });
    await open(page, as);
    print({ event: 'view', ...(await view(page, as)) });
    print({ event: 'axe', as, width: 1280, violations: await axe(page) });
    print({ event: 'screenshot', as, width: 1280, path: await screenshot(page, `usage-page-${as}.png`) });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    print({ event: 'axe', as, width: 390, violations: await axe(page) });
    print({ event: 'phone', as, overflow, path: await screenshot(page, `usage-page-${as}-phone.png`) });
  }

  // ----- live: a recorded event moves the admin's bar -----
  await page.setViewportSize({ width: 1280, height: 900 });
  await open(page, 'admin');
  const amount = `[data-meter="${meter}"] [data-amount]`;
  const bar = `[data-meter="${meter}"] [role="progressbar"]`;
  const before = { amount: await text(page, amount), valuetext: await page.locator(bar).getAttribute('aria-valuetext') };
  // The subscription is acknowledged before the gateway's hub has it registered
  // (the protocol does not say when): record until one tick moves the bar, timing each.
  const attempts = [];
  let moved = null;
  for (let attempt = 0; moved === null && attempt < 10; attempt += 1) {
    const previous = await text(page, amount);
    await record('1');
    const started = Date.now();
    try {
      await page.waitForFunction(([selector, old]) => {
        const now = document.querySelector('usage-page')?.shadowRoot?.querySelector(selector)?.textContent;
        return now != null && now !== old;
      }, [amount, previous], { timeout: 3000, polling: 'raf' });
      moved = Date.now() - started;
      attempts.push(moved);
    } catch {
      attempts.push(null);
    }
  }
  const after = { amount: await text(page, amount), valuetext: await page.locator(bar).getAttribute('aria-valuetext') };
  print({ event: 'live', meter, before, after, ms: moved, attempts });

  // ----- chart range switch (UsageChart) -----
  const chart = {};
  for (const range of ['LAST_24_HOURS', 'LAST_30_DAYS', 'LAST_7_DAYS']) {
    await page.locator(`[data-range="${range}"]`).click();
    await page.locator(`[data-range="${range}"][aria-pressed="true"]`).waitFor({ timeout: 10000 });
    const granularity = { LAST_24_HOURS: 'HOUR', LAST_30_DAYS: 'WEEK', LAST_7_DAYS: 'DAY' }[range];
    const figure = page.locator(`figure[data-granularity="${granularity}"]`);
    await figure.waitFor({ timeout: 10000 });
    chart[range] = {
      granularity,
      points: Number(await figure.getAttribute('data-points')),
      rows: await count(page, '[data-table="chart"] tbody tr'),
    };
  }
  print({ event: 'chart', ...chart });

  // ----- paging: top users (Show more = a larger first), member directory (after) -----
  const users = '[data-table="top-users"] tbody tr';
  const usersBefore = await count(page, users);
  await page.locator('[data-more="users"]').click();
  await page.waitForFunction(([selector, n]) => document.querySelector('usage-page').shadowRoot.querySelectorAll(selector).length > n, [users, usersBefore], { timeout: 10000 });
  const usersAfter = await count(page, users);
  const members = '[data-table="members"] tbody tr';
  const membersBefore = await count(page, members);
  // Keyboard: the Show more button is reachable and pressed with Enter.
  await page.locator('[data-more="members"]').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(([selector, n]) => document.querySelector('usage-page').shadowRoot.querySelectorAll(selector).length > n, [members, membersBefore], { timeout: 10000 });
  const membersAfter = await count(page, members);
  const caption = await text(page, '[data-table="members"] caption');
  await page.getByLabel('Name or email').fill('chen');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForFunction(() => /of \d+\)/.test(document.querySelector('usage-page').shadowRoot.querySelector('[data-table="members"] caption')?.textContent ?? '') && !document.querySelector('usage-page').shadowRoot.querySelector('[data-table="members"] caption').textContent.includes('of 48'), null, { timeout: 10000 });
  const found = await page.locator('[data-table="members"] tbody tr td:first-child').allTextContents();
  print({ event: 'paging', usersBefore, usersAfter, membersBefore, membersAfter, caption, search: 'chen', found });

  // ----- the operator on another organization: top workspaces by cursor -----
  await open(page, 'operator', pagingOrg);
  const workspaces = '[data-table="top-workspaces"] tbody tr';
  const workspacesBefore = await count(page, workspaces);
  const firstPage = await page.locator(`${workspaces} td:first-child`).allTextContents();
  await page.locator('[data-more="workspaces"]').click();
  await page.waitForFunction(([selector, n]) => document.querySelector('usage-page').shadowRoot.querySelectorAll(selector).length > n, [workspaces, workspacesBefore], { timeout: 10000 });
  print({
    event: 'workspaces',
    organization: pagingOrg,
    before: workspacesBefore,
    after: await count(page, workspaces),
    firstPage,
    names: await page.locator(`${workspaces} td:first-child`).allTextContents(),
    caption: await text(page, '[data-table="top-workspaces"] caption'),
    pools: await page.locator('[data-pool-kind]').allTextContents(),
  });

  // ----- the operator on an organization whose AI access is paused (past due) -----
  await open(page, 'operator', pausedOrg);
  print({
    event: 'paused',
    organization: pausedOrg,
    banners: await page.locator('[data-banner]').evaluateAll((nodes) => nodes.map((node) => node.dataset.banner)),
    text: await text(page, '[data-banner="ai-paused"]'),
    role: await page.locator('[data-banner="ai-paused"]').getAttribute('role'),
  });

  print({ event: 'network', requests, blocked, websockets, origin });
  print({ event: 'problems', problems });
  print({ event: 'done' });
  await browser.close();
  process.exit(0);
} catch (error) {
  print({ event: 'network', requests, blocked, websockets, origin });
  print({ event: 'problems', problems });
  print({ event: 'failed', error: String(error) });
  await browser.close();
  process.exit(1);
}
