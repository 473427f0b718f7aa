import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Debian's `chromium` package (`apt-get install -y chromium`); CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface HeadlessChromium {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Real headless Chromium with a fresh profile, and nothing that reaches out by itself (the machines' network
 * is closed: background networking, component updates, sync and QUIC are off).
 */
export async function launchChromium(): Promise<HeadlessChromium> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'keywarden-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`,
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface CspViolation {
  directive: string;
  blockedURI: string;
  sourceFile: string;
}

/**
 * Records every Content-Security-Policy violation the page reports (the `securitypolicyviolation` event, set
 * up before any of the page's scripts run) into `window.__cspViolations`; read them with `cspViolations`.
 */
export async function recordCspViolations(page: Page): Promise<void> {
  // A string: this file compiles without the DOM library, and the script runs in the page, not here.
  await page.evaluateOnNewDocument(`
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push({ directive: e.effectiveDirective, blockedURI: e.blockedURI, sourceFile: e.sourceFile });
    });
  `);
}

export function cspViolations(page: Page): Promise<CspViolation[]> {
  return page.evaluate('window.__cspViolations ?? []') as Promise<CspViolation[]>;
}
