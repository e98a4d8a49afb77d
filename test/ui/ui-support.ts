// What the UI tests share: a real Chromium, the page a headless node serves, bounded waits on
// what a page shows, and screenshots in both themes. Vitest has no Playwright matchers; these are
// the few the tests need, each waiting only as long as its condition does not hold yet.
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { NodeHandle } from '../integration/headless-cluster';

/** Where screenshots go, one light and one dark per screen. */
export const SHOTS = '/tmp/quorum-ui';
export const VIEWPORT = { width: 1366, height: 768 };
/** Long enough for a slow 2-core machine; every wait ends as soon as its condition holds. */
export const WAIT = { timeout: 20_000 };
/** Debian's Chromium (.ci/run installs it); the tests drive a real browser or fail saying why. */
export const CHROMIUM = '/usr/bin/chromium';

/** A headless Chromium, and the screenshot folder ready for it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`The UI tests need Chromium at ${CHROMIUM}: install it with "apt-get install chromium".`);
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** The page a node serves, opened with its token as the node's ready line prints it, in a browser context of its own. */
export async function openPage(browser: Browser, node: NodeHandle): Promise<Page> {
  const ready = node.lines.find((line) => line.startsWith('quorum-node ready '));
  if (!ready) throw new Error(`${node.name} printed no ready line`);
  const { api, token } = JSON.parse(ready.slice('quorum-node ready '.length)) as { api: string; token: string };
  expect(new URL(api).hostname).toBe('127.0.0.1');
  const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'light', acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`${node.name} page error:`, error.message));
  await page.goto(`${api}/#token=${token}`);
  return page;
}

/** The status bar: connection, leader, laptops online, saved or waiting. */
export function statusBar(page: Page): Locator {
  return page.getByRole('contentinfo', { name: 'Class status' });
}

/** Waits until `locator`'s text contains `text`. */
export async function expectText(locator: Locator, text: string | RegExp): Promise<void> {
  // Each read gives up quickly, so the poll (not one read) decides when to stop waiting.
  const check = expect.poll(() => locator.innerText({ timeout: 1000 }).catch(() => ''), WAIT);
  await (typeof text === 'string' ? check.toContain(text) : check.toMatch(text));
}

/** Waits until `locator`'s text no longer contains `text`. */
export async function expectNoText(locator: Locator, text: string): Promise<void> {
  await expect.poll(() => locator.innerText({ timeout: 1000 }).catch(() => text), WAIT).not.toContain(text);
}

/** `locator`'s text now contains none of `texts` (call it once what should be there is there). */
export async function expectNoneOf(locator: Locator, texts: string[]): Promise<void> {
  const shown = await locator.innerText(WAIT);
  for (const text of texts) expect(shown, `“${text}” should not be shown`).not.toContain(text);
}

export async function expectAttribute(locator: Locator, name: string, value: string): Promise<void> {
  await expect.poll(() => locator.getAttribute(name), WAIT).toBe(value);
}

/** `page` as it is now, light and dark, to `SHOTS`/`name`-light.png and -dark.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: `${SHOTS}/${name}-light.png` });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: `${SHOTS}/${name}-dark.png` });
  await page.emulateMedia({ colorScheme: 'light' });
}
