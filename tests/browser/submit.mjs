// node submit.mjs <base URL> <deputy code> [miss-first]
// Opens {base}/m/d/{code} as a citizen who scanned the deputy's QR code, submits the
// form, reads the tracking code, then follows it on /m/t/{trackingCode}.
// With `miss-first`, the first GraphQL request is answered PERSISTED_QUERY_NOT_FOUND.
// Prints {"trackingCode", "followSecret", "deputyName", "state", "content", "graphql"}
// as JSON (`graphql`: each GraphQL request the pages sent, see recordGraphql).
import { checkAccessibility, main, recordGraphql, withPage } from './browser.mjs';

const [base, code, mode] = process.argv.slice(2);
if (!base || !code) {
  console.error('usage: node submit.mjs <base URL> <deputy code>');
  process.exit(2);
}

const content = `浏览器测试：小区东门路灯坏了两周，晚上出行不便，请尽快维修。${Date.now()}`;

main(() => withPage(base, async (page) => {
  const graphql = await recordGraphql(page, { missFirst: mode === 'miss-first' });
  await page.goto(`${base}/m/d/${code}`);
  await page.locator('#form').waitFor({ state: 'visible' });
  const deputyName = (await page.locator('#deputy-name').textContent()).trim();
  if (!deputyName) throw new Error('the deputy is not shown');
  await checkAccessibility(page);

  // The form refuses an empty message and names the problem next to the field.
  await page.locator('#submit').click();
  await page.locator('#content-error').waitFor({ state: 'visible' });
  if ((await page.locator('#content').getAttribute('aria-invalid')) !== 'true') {
    throw new Error('an empty message is not marked invalid');
  }

  await page.getByLabel('留言内容').fill(content);
  const categories = await page.locator('#category option').count();
  if (categories > 1) await page.locator('#category').selectOption({ index: 1 });
  await page.getByLabel('您的姓名').fill('测试居民');
  await page.getByLabel('手机号码').fill('139 0000 1234');
  await page.locator('#submit').click();

  const tracking = page.locator('#tracking-code');
  await tracking.waitFor({ state: 'visible' });
  const trackingCode = (await tracking.textContent()).trim();
  const followSecret = (await page.locator('#follow-secret').textContent()).trim();
  if (!/^HS[0-9A-Z]{10}$/.test(trackingCode)) throw new Error(`tracking code shown: ${trackingCode}`);
  const saved = await page.evaluate(() => localStorage.getItem('snpc.items') || '');
  if (!saved.includes(trackingCode) || !saved.includes(followSecret)) {
    throw new Error(`localStorage holds ${saved}`);
  }

  // Follow it: the saved secret shows the whole item without typing anything.
  await page.locator('#track-link').click();
  await page.waitForURL(`**/m/t/${trackingCode}`);
  await page.locator('#status').waitFor({ state: 'visible' });
  const state = (await page.locator('#state').textContent()).trim();
  if (!state) throw new Error('no status shown');
  await page.locator('#detail').waitFor({ state: 'visible' });
  const shown = (await page.locator('#d-content').textContent()).trim();
  if (shown !== content) throw new Error(`the follow page shows ${shown}`);
  await checkAccessibility(page);
  return { trackingCode, followSecret, deputyName, state, content, graphql };
}));
