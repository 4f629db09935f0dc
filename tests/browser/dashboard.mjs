// node dashboard.mjs <base URL> <artifact dir>
// Drives the supervision dashboard ({base}/dashboard) in headless Chromium for
// tests/api/dashboard.rs, one command per stdin line (JSON), one JSON answer per stdout
// line: {"ok": ...} or {"error": "..."}. Every request that leaves the gateway is
// refused (the page must need nothing else). Commands:
//   {"cmd":"open","login":L,"password":P,"query":"?year=2025&after=..."} sign in; the figures
//   {"cmd":"figures"}                         the figures shown now
//   {"cmd":"waitFigure","name":N,"not":V}     until figure N shows something other than V
//   {"cmd":"year","year":Y}                   choose a year; the figures once shown
//   {"cmd":"alerts","count":C}                until C alerts are listed: their seqs and kinds
//   {"cmd":"live"}                            until the WebSocket is (again) connected
//   {"cmd":"connections","count":N}           until it connected N times in all (and is live)
//   {"cmd":"token","not":T}                   the access token kept, once it is not T
//   {"cmd":"detail","seq":S}                  open the alert's item: title, timeline, departments
//   {"cmd":"screenshot","name":N,"width":W,"height":H}   PNG into the artifact dir
//   {"cmd":"signout"}  {"cmd":"quit"}
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { main, withPage } from './browser.mjs';

const [base, artifacts] = process.argv.slice(2);
if (!base || !artifacts) {
  console.error('usage: node dashboard.mjs <base URL> <artifact dir>');
  process.exit(2);
}

/** A generous bound on waiting for an event the test caused (not a timing goal). */
const EVENT = 60_000;

// While the gateway restarts Chromium logs the refused connections, and a request whose
// token just expired (answered 401, then refreshed) is logged too; nothing else may reach
// the console as an error.
const OUTAGE = /WebSocket connection to|Failed to load resource: net::ERR_|status of 401 \(Unauthorized\)/;

async function figures(page) {
  return page.evaluate(() => {
    const section = document.getElementById('figures');
    const values = {};
    for (const el of section.querySelectorAll('[data-figure]')) {
      values[el.dataset.figure] = { value: el.dataset.value ?? null, text: el.textContent };
    }
    return { scope: section.dataset.scope, year: section.dataset.year, updates: Number(section.dataset.updates), values };
  });
}

async function figuresShown(page, year) {
  await page.waitForFunction(
    (y) => {
      const s = document.getElementById('figures');
      return (y == null || s.dataset.year === String(y)) && Number(s.dataset.updates) >= 1;
    },
    year,
    { timeout: EVENT },
  );
  return figures(page);
}

async function alerts(page) {
  return page.evaluate(() => [...document.querySelectorAll('#alert-list li')].map((li) => ({
    seq: Number(li.dataset.seq), kind: li.dataset.kind, text: li.textContent,
  })));
}

const commands = {
  async open(page, c) {
    await page.goto(`${base}/dashboard${c.query || ''}`);
    await page.locator('#login').fill(c.login);
    await page.locator('#password').fill(c.password);
    await page.locator('#signin-button').click();
    const year = new URL(`${base}/dashboard${c.query || ''}`).searchParams.get('year');
    await page.waitForFunction(() => !document.getElementById('board').hidden, null, { timeout: EVENT });
    const shown = await figuresShown(page, year);
    const scopes = await page.locator('#scope option').evaluateAll((os) => os.map((o) => o.value));
    return { ...shown, scopes, url: page.url() };
  },
  figures: (page) => figures(page),
  async waitFigure(page, c) {
    await page.waitForFunction(
      ({ name, not }) => {
        const el = document.querySelector(`[data-figure="${name}"]`);
        return el.dataset.value !== undefined && el.dataset.value !== not;
      },
      { name: c.name, not: c.not },
      { timeout: EVENT },
    );
    return figures(page);
  },
  async year(page, c) {
    await page.locator('#year').selectOption(String(c.year));
    return figuresShown(page, c.year);
  },
  async alerts(page, c) {
    await page.waitForFunction(
      (n) => document.querySelectorAll('#alert-list li').length >= n, c.count, { timeout: EVENT },
    );
    return alerts(page);
  },
  async live(page) {
    await page.waitForFunction(
      () => document.getElementById('live-status').dataset.state === 'live', null, { timeout: EVENT },
    );
    return true;
  },
  async connections(page, c) {
    await page.waitForFunction(
      (n) => Number(document.getElementById('live-status').dataset.connections || 0) >= n
        && document.getElementById('live-status').dataset.state === 'live',
      c.count,
      { timeout: EVENT },
    );
    return page.evaluate(() => Number(document.getElementById('live-status').dataset.connections));
  },
  async token(page, c) {
    const read = () => JSON.parse(sessionStorage.getItem('smart-npc-dashboard-session')).accessToken;
    if (c.not) {
      await page.waitForFunction(
        (old) => JSON.parse(sessionStorage.getItem('smart-npc-dashboard-session')).accessToken !== old,
        c.not,
        { timeout: EVENT },
      );
    }
    return page.evaluate(read);
  },
  async detail(page, c) {
    await page.locator(`#alert-list li[data-seq="${c.seq}"] button`).click();
    await page.waitForFunction(
      () => document.querySelectorAll('#detail-body .timeline li').length > 0, null, { timeout: EVENT },
    );
    const seen = await page.evaluate(() => ({
      title: document.getElementById('detail-title').textContent,
      timeline: [...document.querySelectorAll('#detail-body .timeline li')].map((li) => li.textContent),
      departments: document.querySelectorAll('#detail-body tbody tr').length,
    }));
    await page.locator('#detail-close').click();
    return seen;
  },
  async screenshot(page, c) {
    await page.setViewportSize({ width: c.width || 1920, height: c.height || 1080 });
    // The charts follow the figures after a short pause; wait for them to be drawn.
    await page.waitForFunction(() => document.body.dataset.chartsYear, null, { timeout: EVENT });
    await page.waitForTimeout(800); // let ECharts finish its entry animation (a picture, not a check)
    const path = join(artifacts, `dashboard-${c.name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  },
  async signout(page) {
    await page.locator('#signout').click();
    await page.waitForFunction(() => !document.getElementById('signin').hidden);
    return true;
  },
};

main(() => withPage(base, async (page) => {
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !OUTAGE.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  const input = createInterface({ input: process.stdin });
  for await (const line of input) {
    if (!line.trim()) continue;
    const command = JSON.parse(line);
    if (command.cmd === 'quit') break;
    try {
      const ok = await commands[command.cmd](page, command);
      if (errors.length) throw new Error(errors.join('\n'));
      console.log(JSON.stringify({ ok }));
    } catch (e) {
      console.log(JSON.stringify({ error: `${command.cmd}: ${e && e.stack ? e.stack : e}\n${errors.join('\n')}` }));
    }
  }
  input.close();
  process.stdin.destroy(); // nothing more to read: let node exit
  if (errors.length) throw new Error(errors.join('\n'));
  return { done: true };
}, { desktop: true, consoleErrorsExpected: true }));
