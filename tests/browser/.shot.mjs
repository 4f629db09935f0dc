import { withPage } from './browser.mjs';
const base = 'http://127.0.0.1:18080';
await withPage(base, async (page) => {
  await page.goto(`${base}/m/t`);
  await page.evaluate((src) => { document.body.innerHTML = '<img id="c" width="420" src="' + src + '">'; }, `${base}/deputies/XJJXBHFZ/card.svg`);
  await page.locator('#c').waitFor();
  await page.waitForTimeout(500);
  await page.locator('#c').screenshot({ path: '/tmp/s-card.png' });
});
