// Launches Debian's Chromium (not a Playwright download) in a fresh profile, and
// refuses every request that leaves the app's origin: the pages must need nothing else.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const DESKTOP = {
  viewport: { width: 1280, height: 800 },
  deviceScaleFactor: 1,
  isMobile: false,
  hasTouch: false,
  userAgent: undefined,
};

/**
 * Runs `body(page, ctx)` in a phone-sized page; closes the browser and the profile.
 * `allow`: other origins the page may reach (a dashboard calling the gateway);
 * `consoleErrorsExpected`: the page is meant to fail (Chromium logs a refused CORS call);
 * `desktop`: a 1280×800 desktop window instead of the phone (GraphiQL).
 */
export async function withPage(
  base, body, { allow = [], consoleErrorsExpected = false, desktop = false } = {},
) {
  const origin = new URL(base).origin;
  const reachable = [origin, ...allow.map((a) => new URL(a).origin)];
  const profile = mkdtempSync(join(tmpdir(), 'smart-npc-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    // What WeChat's in-app browser on Android sends (the pages must not care).
    userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36 MicroMessenger/8.0.50',
    timeout: 30_000,
    ...(desktop ? DESKTOP : {}),
  });
  const foreign = [];
  const problems = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (reachable.some((o) => url.startsWith(o + '/')) || url.startsWith('data:')) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !consoleErrorsExpected) problems.push(`console: ${m.text()}`);
  });
  try {
    const result = await body(page, { origin, problems });
    if (foreign.length) throw new Error(`requests left the origin: ${foreign.join(', ')}`);
    const real = problems.filter((p) => !/404 \(Not Found\)/.test(p));
    if (real.length) throw new Error(real.join('\n'));
    return result;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Every form control has a label (WCAG 1.3.1 / 4.1.2) and big enough targets. */
export async function checkAccessibility(page) {
  const report = await page.evaluate(() => {
    const unlabeled = [];
    const small = [];
    for (const el of document.querySelectorAll('input, select, textarea, button, a')) {
      if (el.closest('[hidden]')) continue;
      if (el.matches('input, select, textarea') && !(el.labels && el.labels.length)) unlabeled.push(el.id || el.name);
      const box = el.getBoundingClientRect();
      const target = el.matches('input[type=radio]') ? el.closest('label').getBoundingClientRect() : box;
      if (target.height < 44) small.push(`${el.tagName}#${el.id} ${Math.round(target.height)}px`);
    }
    return { lang: document.documentElement.lang, unlabeled, small };
  });
  if (report.lang !== 'zh-CN') throw new Error(`lang is ${report.lang}`);
  if (report.unlabeled.length) throw new Error(`controls without a label: ${report.unlabeled}`);
  if (report.small.length) throw new Error(`touch targets under 44px: ${report.small}`);
}

/** Prints the result as the last line (the Rust test reads it) and exits. */
export async function main(run) {
  try {
    const result = await run();
    console.log(JSON.stringify(result));
  } catch (e) {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(1);
  }
}

/**
 * Records every GraphQL POST the page sends: its operation name, whether it named the
 * document by hash (`extensions.persistedQuery`) and whether it carried the text.
 * With `missFirst`, the first one is answered as a server that does not know the hash
 * yet (Apollo's `PERSISTED_QUERY_NOT_FOUND`), as after a deploy of new pages.
 */
export async function recordGraphql(page, { missFirst = false } = {}) {
  const sent = [];
  let missed = !missFirst;
  await page.route('**/graphql', (route) => {
    const request = route.request();
    if (request.method() !== 'POST') return route.continue();
    const body = JSON.parse(request.postData() || '{}');
    sent.push({
      name: body.operationName || null,
      hash: !!(body.extensions && body.extensions.persistedQuery && body.extensions.persistedQuery.sha256Hash),
      text: typeof body.query === 'string',
    });
    if (!missed) {
      missed = true;
      return route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] }),
      });
    }
    return route.continue();
  });
  return sent;
}
