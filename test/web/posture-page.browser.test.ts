import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { CHROMIUM_PATH, cspViolations, launchChromium, recordCspViolations, type HeadlessChromium } from '../../bench/chromium';
import { createScanService } from '../../src/app';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import { defaultWebRoot } from '../../src/graphql/web.routes';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { TokensService } from '../../src/auth/tokens.service';
import { AccountsService } from '../../src/services/accounts.service';
import { startStack, TEST_ADMIN_TOKEN, type Stack } from '../support/stack';

/**
 * The posture page in real headless Chromium (Debian's chromium, driven by puppeteer-core) against the whole
 * stack: an organization of two accounts with ten days of scan history, served by startServer at / beside
 * /graphql. Signs in, reads the trend, the accounts, a finding's evidence and history, deactivates its key
 * (dry run first), and checks the CSP holds (no violation reported), axe-core finds no serious or critical
 * violation, and the page fits 390 px. Saves the README's screenshots in docs/screenshots.
 */
const MANAGEMENT = '110000000001';
const PROD = '220000000002';
const ALICE_KEY = 'AKIAPRODALICE0000001';
const ERIN_KEY = 'AKIAPRODERIN00000001';
const HISTORY_DAYS = 10;
const DAY = 86_400_000;
// The README's screenshots are rewritten only when asked (UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean.
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(__dirname, '..', '..', 'docs', 'screenshots') : path.join(os.tmpdir(), 'keywarden-screenshots');

const setupKeyUser = (userName: string, accessKeyId: string) => ({
  userName, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' }, accessKeys: [{ accessKeyId, status: 'Active' as const, createdAt: 'now-400d+30s' }],
});
const BASE: FixtureInput = {
  accountId: MANAGEMENT, accountCreatedAt: 'now-900d',
  users: [
    setupKeyUser('admin', 'AKIAMANAGEMENTADMIN1'),
    { userName: 'ops', createdAt: 'now-300d', loginProfile: { createdAt: 'now-300d' }, accessKeys: [{ accessKeyId: 'AKIAMANAGEMENTOPS001', status: 'Active', createdAt: 'now-100d', lastUsed: { date: 'now-1d', serviceName: 's3' } }] },
  ],
};
const PROD_FIXTURE: FixtureInput = {
  accountId: PROD, accountCreatedAt: 'now-900d',
  users: [
    setupKeyUser('alice', ALICE_KEY),
    setupKeyUser('bob', 'AKIAPRODBOB000000001'),
    setupKeyUser('erin', ERIN_KEY),
    { userName: 'carol', createdAt: 'now-600d', loginProfile: { createdAt: 'now-600d' }, accessKeys: [{ accessKeyId: 'AKIAPRODCAROL0000001', status: 'Active', createdAt: 'now-90d' }] },
    { userName: 'ci', createdAt: 'now-100d', accessKeys: [] },
  ],
};
// Enough failing findings for a second page (the page shows 25 a page); they appear in IAM before yesterday's scan.
const SERVICE_USERS = Array.from({ length: 24 }, (_, i) => setupKeyUser(`svc-${String(i + 1).padStart(2, '0')}`, `AKIAPRODSVC${String(i + 1).padStart(9, '0')}`));
const FAILING = 2 + 3 + 24; // management: admin; prod: alice, bob, carol (never used), the service users

const ACCOUNTS_FROM_API = `{ accounts(orderBy: { field: FAIL_COUNT, direction: DESC }) { nodes { accountId complianceSummary { counts { fail error pass } } lastScan { status } } } }`;

describe('the posture page in headless Chromium', () => {
  let stack: Stack;
  let chromium: HeadlessChromium;
  let page: Page;
  let base: string;
  let firstScanAt: Date;
  const pageErrors: string[] = [];
  const keyStatus = (accessKeyId: string) => stack.members[PROD]!.state.findAccessKey(accessKeyId)?.key.status;

  beforeAll(async () => {
    if (!readFileSafe(path.join(defaultWebRoot(), 'index.html'))) throw new Error('dist/web is missing: run `npm run build` first (it bundles web/)');
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (.ci/run does), or set CHROMIUM_PATH`);
    stack = await startStack(BASE, {
      worker: false, // started by the scans test, so it sees its scans QUEUED first
      members: [PROD_FIXTURE],
      organization: {
        rootId: 'r-ab12', ous: { 'ou-ab12-11111111': 'r-ab12' },
        accounts: [
          { id: MANAGEMENT, name: 'management', email: 'aws@example.com', state: 'ACTIVE', parent: 'r-ab12' },
          { id: PROD, name: 'prod', email: 'prod@example.com', state: 'ACTIVE', parent: 'ou-ab12-11111111' },
        ],
      },
    });
    const accounts = new AccountsService(stack.prisma, stack.aws);
    await accounts.sync();
    const prodIam = await accounts.iamClientFor(PROD, 'keywarden-page-test');
    // One scan of each account a day for ten days, the last a minute ago; erin's setup key is deactivated
    // in IAM before the sixth (a resolved bar), and 24 users with setup keys appear before the ninth.
    const now = Date.now();
    for (let d = HISTORY_DAYS - 1; d >= 0; d--) {
      const at = new Date(now - d * DAY - 60_000);
      if (d === HISTORY_DAYS - 1) firstScanAt = at;
      if (d === 4) stack.members[PROD]!.state.setKeyStatus(ERIN_KEY, 'Inactive');
      if (d === 1) for (const user of SERVICE_USERS) stack.members[PROD]!.state.addUser(user);
      expect((await stack.scan({ mode: 'PER_USER_API' }, {}, at)).status).toBe('COMPLETED');
      expect((await createScanService(stack.prisma, prodIam, () => at).run({ collect: { mode: 'PER_USER_API', concurrency: 16 }, control: DEFAULT_CONTROL_SETTINGS })).status).toBe('COMPLETED');
    }
    base = stack.server.url.replace(/\/graphql$/, '');
    mkdirSync(SCREENSHOTS, { recursive: true });
    chromium = await launchChromium();
    page = await chromium.browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    if (process.env.DEBUG_PAGE) page.on('console', (m) => console.log(m.text()));
    await recordCspViolations(page);
    await page.setViewport({ width: 1280, height: 900 });
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await stack?.close();
  });

  it('serves the page without a token, gzipped, while /graphql keeps refusing requests without one', async () => {
    const html = await fetch(`${base}/`, { headers: { 'accept-encoding': 'gzip' } });
    expect([html.status, html.headers.get('content-type'), html.headers.get('content-security-policy')?.startsWith("default-src 'none'")]).toEqual([200, 'text/html; charset=utf-8', true]);
    const js = await fetch(`${base}/app.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect([js.status, js.headers.get('content-encoding'), js.headers.get('content-type')]).toEqual([200, 'gzip', 'text/javascript; charset=utf-8']);
    const api = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' }, body: '{"query":"{ controls { id } }"}' });
    expect([api.status, api.headers.get('content-encoding')]).toEqual([401, null]);
    expect((await fetch(`${base}/graphiql`, { redirect: 'manual' })).headers.get('location')).toBe('/graphiql/');
  });

  it('signs in by keyboard with a pasted token kept in sessionStorage only, and draws one trend point per day of history', async () => {
    const response = await page.goto(`${base}/`, { waitUntil: 'load' });
    const csp = response!.headers()['content-security-policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toMatch(/style-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(await seriousAxeViolations(page)).toEqual([]); // the sign-in form
    // By keyboard alone: the token field has focus on load, Enter signs in.
    expect(await page.evaluate('document.activeElement.id')).toBe('token');
    await page.keyboard.type(TEST_ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#trend-chart canvas');
    const days = Math.floor(Date.now() / DAY) - Math.floor(firstScanAt.getTime() / DAY) + 1;
    expect(days).toBeGreaterThanOrEqual(HISTORY_DAYS);
    expect(await page.$eval('#trend-chart', (el) => el.getAttribute('data-points'))).toBe(String(days));
    expect(await page.$$eval('#trend-table tbody tr', (rows) => rows.length)).toBe(days);
    // The flow chart's figures: erin's key resolved once over the range.
    const resolved = await page.$$eval('#trend-table tbody tr', (rows) => rows.map((r) => Number(r.children[5]!.textContent) || 0));
    expect(resolved.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await page.evaluate('[sessionStorage.getItem("keywarden.token"), document.cookie, location.href]')).toEqual([TEST_ADMIN_TOKEN, '', `${base}/`]);
  });

  it('ranks the accounts exactly as accounts(orderBy: FAIL_COUNT) does, with each last scan', async () => {
    await page.waitForSelector('#accounts-table tbody tr');
    const api: any = await stack.gql(ACCOUNTS_FROM_API);
    expect(api.errors).toBeUndefined();
    const expected = api.data.accounts.nodes.map((a: any) => [a.accountId, String(a.complianceSummary.counts.fail), String(a.complianceSummary.counts.error), String(a.complianceSummary.counts.pass), a.lastScan.status]);
    expect(expected.map((r: string[]) => r[0])).toEqual([PROD, MANAGEMENT]); // prod fails more: the order is the API's, not id order
    const shown = await page.$$eval('#accounts-table tbody tr', (rows) => rows.map((r) => [r.children[1], r.children[3], r.children[4], r.children[5], r.children[7]].map((c) => c!.textContent!.trim())));
    expect(shown).toEqual(expected);
    // "Show" narrows the trend to that account: a point for each day it was scanned, none carried forward.
    await page.click(`button[aria-label="Show account ${PROD}"]`);
    await page.waitForFunction(`document.querySelector('#trend .scope')?.textContent.startsWith('Showing account ${PROD}')`);
    await page.waitForSelector('#trend-chart canvas');
    expect(await page.$eval('#trend-chart', (el) => el.getAttribute('aria-label'))).toContain(`for ${PROD}`);
    expect(await page.$eval('#trend-chart', (el) => el.getAttribute('data-points'))).toBe(String(HISTORY_DAYS));
    await page.waitForFunction(`document.querySelector('#findings .status')?.textContent.includes('in ${PROD}')`);
    await page.click('#trend .scope button'); // Show all accounts
    await page.waitForFunction(`document.querySelector('#trend .scope')?.textContent.startsWith('Showing all accounts')`);
  });

  it("pages the failing findings with the API's cursors and filters them by account and reason", async () => {
    const status = () => page.$eval('#findings .status', (el) => el.textContent);
    const users = () => page.$$eval('#findings-table tbody tr', (rows) => rows.map((r) => r.children[0]!.textContent));
    await page.waitForSelector('#findings-table tbody tr');
    expect(await status()).toBe(`${FAILING - 1} failing findings; page 1 of 2.`); // erin's resolved
    const first = await users();
    expect(first).toHaveLength(25);
    await page.click('#findings nav button:last-child'); // Next page
    await page.waitForFunction(`document.querySelector('#findings .status')?.textContent.includes('page 2 of 2')`);
    const second = await users();
    // Every failing finding once over the two pages (erin's resolved, alice's still failing here).
    expect([...first, ...second].sort()).toEqual(['admin', 'alice', 'bob', 'carol', ...Array.from({ length: 24 }, (_, i) => `svc-${String(i + 1).padStart(2, '0')}`)]);
    expect(await page.$eval('#findings nav button:last-child', (b) => (b as unknown as { disabled: boolean }).disabled)).toBe(true);
    await page.click('#findings nav button:first-child'); // Previous page: asked again with the first page's cursor
    await page.waitForFunction(`document.querySelector('#findings .status')?.textContent.includes('page 1 of 2')`);
    expect(await users()).toEqual(first);
    await page.select('#findings-account', PROD);
    await page.waitForFunction(`document.querySelector('#findings .status')?.textContent.startsWith('${FAILING - 2} failing findings in ${PROD}')`);
    // The reason filter is the API's (FindingFilter.reasons): the count and the pages are of the matching findings,
    // every one of them on the first page, not the matches among the 25 of an unfiltered page.
    const api: any = await stack.gql(`{ findings(first: 100, filter: { status: [FAIL], accountIds: ["${PROD}"], reasons: [NEVER_USED] }, orderBy: { field: IDENTITY, direction: ASC }) { totalCount nodes { userName } } }`);
    expect(api.errors).toBeUndefined();
    const expectedNeverUsed = api.data.findings.nodes.map((n: { userName: string }) => n.userName);
    expect(expectedNeverUsed.length).toBeGreaterThan(0);
    await page.select('#findings-reason', 'NEVER_USED');
    await page.waitForFunction(`document.querySelector('#findings .status')?.textContent.includes('with reason')`);
    expect(await status()).toBe(`${api.data.findings.totalCount} failing findings in ${PROD} with reason "never used"; page 1 of ${Math.ceil(api.data.findings.totalCount / 25)}.`);
    // carol's later key, never used; the setup keys are never used too, but only past the grace period
    const neverUsed = await users();
    expect(neverUsed).toEqual(expectedNeverUsed.slice(0, 25));
    const rows = await page.$$eval('#findings-table tbody tr', (trs) => trs.map((r) => r.children[3]!.textContent));
    expect(rows.every((r) => r!.includes('never used'))).toBe(true);
    await page.select('#findings-reason', '');
    await page.select('#findings-account', '');
    await page.waitForFunction(`document.querySelector('#findings .status')?.textContent.startsWith('${FAILING - 1} failing findings;')`);
  });

  it("opens a failing finding's evidence and history", async () => {
    await page.waitForSelector(`button[aria-label="Evidence for alice ${ALICE_KEY}"]`);
    await page.click(`button[aria-label="Evidence for alice ${ALICE_KEY}"]`);
    await page.waitForSelector('#evidence');
    const evidence = await page.$eval('#evidence', (el) => el.textContent);
    expect(evidence).toContain('Key created after the user30 s (within the');
    expect(evidence).toContain('Key last usednever');
    expect(evidence).toContain('Key statusActive'); // AccessKeyStatus ACTIVE, shown as IAM spells it
    expect(evidence).toMatch(/Data sourcePER_USER_API, as of .* UTC \(\d+ (s|min|h|d) ago\)/);
    await page.waitForSelector('#history-table tbody tr');
    const history = await page.$$eval('#history-table tbody tr', (rows) => rows.map((r) => r.children[1]!.textContent));
    expect(history).toEqual(['FAIL', 'FAIL', 'FAIL', 'FAIL', 'FAIL', 'FAIL']);
  });

  it('deactivates the key only after a dry run shows the plan, and IAM then has it Inactive', async () => {
    await page.type('#deactivate-reason', 'setup key never used (page test)');
    await page.click('#deactivate-dry-run');
    await page.waitForSelector('#deactivate-plan');
    expect(await page.$eval('#deactivate-plan', (el) => el.textContent)).toMatch(/^Dry run: DRY_RUN\. .+/);
    expect(keyStatus(ALICE_KEY)).toBe('Active');
    await page.click('#deactivate-confirm');
    await page.waitForFunction(`/SUCCEEDED/.test(document.querySelector('#deactivate-outcome')?.textContent ?? '')`);
    expect(await page.$eval('#deactivate-outcome', (el) => el.textContent)).toContain('the key is now Inactive');
    expect(keyStatus(ALICE_KEY)).toBe('Inactive');
    const audit: any = await stack.gql(`{ remediationActions(filter: { accessKeyId: "${ALICE_KEY}" }) { nodes { status dryRun reason } } }`);
    expect(audit.data.remediationActions.nodes).toEqual([
      { status: 'SUCCEEDED', dryRun: false, reason: 'setup key never used (page test)' },
      { status: 'DRY_RUN', dryRun: true, reason: 'setup key never used (page test)' },
    ]);
  });

  it('tells a token without remediation:write that it cannot remediate, and changes nothing', async () => {
    const { token } = await new TokensService(stack.prisma).create({ name: 'page-reader', scopes: ['findings:read'], createdBy: 'test' });
    const context = await chromium.browser.createBrowserContext();
    const reader = await context.newPage();
    try {
      await reader.goto(`${base}/`);
      await reader.type('#token', token);
      await reader.click('#signin button[type=submit]');
      await reader.waitForSelector('button[aria-label="Evidence for bob AKIAPRODBOB000000001"]');
      await reader.click('button[aria-label="Evidence for bob AKIAPRODBOB000000001"]');
      await reader.waitForSelector('#deactivate-reason');
      await reader.type('#deactivate-reason', 'not allowed');
      await reader.click('#deactivate-dry-run');
      await reader.waitForSelector('#deactivate-outcome [role=alert]');
      expect(await reader.$eval('#deactivate-outcome', (el) => el.textContent)).toBe('This token cannot remediate: it needs the remediation:write scope.');
      expect(await reader.$('#deactivate-confirm')).toBeNull();
      expect(keyStatus('AKIAPRODBOB000000001')).toBe('Active');
    } finally {
      await context.close();
    }
  });

  it('queues a scan of every account, shows it waiting, and polls until the worker has run it', async () => {
    await page.click('#scan-all');
    await page.waitForFunction(`document.querySelector('#scans [aria-live]')?.textContent === '2 scans queued.'`);
    const top = () => page.$$eval('#scans-table tbody tr', (rows) => rows.slice(0, 2).map((r) => [r.children[0]!.textContent, r.children[1]!.textContent, r.children[2]!.textContent]));
    expect((await top()).sort()).toEqual([[MANAGEMENT, 'QUEUED', 'waiting for a worker'], [PROD, 'QUEUED', 'waiting for a worker']]);
    await stack.fleet.startWorker();
    // No click: the view polls while a scan is queued or running.
    await page.waitForFunction(`[...document.querySelectorAll('#scans-table tbody tr')].slice(0, 2).every((r) => r.children[1].textContent === 'COMPLETED')`, { timeout: 20_000 });
    const outcomes = Object.fromEntries((await top()).map(([account, , outcome]) => [account, outcome]));
    // alice's key is Inactive since the deactivation (already resolved by its re-evaluation): prod fails for bob,
    // carol and the 24 service users.
    expect(outcomes[PROD]).toMatch(/^26 FAIL, 0 ERROR, \d+ PASS; 0 opened, 0 resolved$/);
    expect(outcomes[MANAGEMENT]).toBe('1 FAIL, 0 ERROR, 1 PASS; 0 opened, 0 resolved');
  });

  it('passes axe-core and its CSP at 1280 and 390 px, fits 390 px without sideways scrolling, and saves screenshots', async () => {
    for (const width of [1280, 390]) {
      await page.setViewport({ width, height: width === 390 ? 844 : 900 });
      await new Promise((r) => setTimeout(r, 200)); // charts resize on the resize event
      if (width === 390) expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      expect([width, await seriousAxeViolations(page)]).toEqual([width, []]);
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: path.join(SCREENSHOTS, `posture-${width}.png`) as `${string}.png`, fullPage: true });
    }
    expect(await cspViolations(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('serves GraphiQL at /graphiql from its own bundle, exploring the schema with the session token under its CSP', async () => {
    await page.setViewport({ width: 1280, height: 900 });
    const introspection = page.waitForResponse((r) => r.url() === `${base}/graphql` && r.request().method() === 'POST');
    const response = await page.goto(`${base}/graphiql`, { waitUntil: 'load' });
    // What GraphiQL needs beyond the page's policy (web.routes.ts says why), and nothing more.
    expect(response!.headers()['content-security-policy']).toBe("default-src 'none';script-src 'self';connect-src 'self';img-src 'self' data:;font-src 'self' data:;manifest-src 'self';base-uri 'none';form-action 'self';frame-ancestors 'none';object-src 'none';style-src 'self' 'unsafe-inline';worker-src 'self'");
    const answered = await introspection;
    expect(answered.status()).toBe(200);
    expect(JSON.stringify(await answered.json())).toContain('"__schema"');
    await page.waitForSelector('.graphiql-container');
    expect(answered.request().headers().authorization).toBe(`Bearer ${TEST_ADMIN_TOKEN}`); // prefilled from the sign-in
    expect(await page.evaluate('JSON.stringify({ ...localStorage })')).not.toContain(TEST_ADMIN_TOKEN); // headers not persisted
    expect(await cspViolations(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's own source, evaluated through DevTools (which the page's CSP does not govern; a <script> tag would be refused). */
async function seriousAxeViolations(page: Page): Promise<{ id: string; impact: string; nodes: string[] }[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) })))`,
  )) as { id: string; impact: string; nodes: string[] }[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

function readFileSafe(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
