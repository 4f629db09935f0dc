// node rate.mjs <base URL> <tracking code> <follow secret> [screenshot.png]
// On a fresh device (nothing saved): opens /m/t/{trackingCode}, types the follow
// secret in, sees the result and rates it 满意 with a comment.
// Prints {"stateBefore", "result", "stateAfter", "rated", "graphql"} as JSON.
import { checkAccessibility, main, recordGraphql, withPage } from './browser.mjs';

const [base, trackingCode, secret, screenshot] = process.argv.slice(2);
if (!base || !trackingCode || !secret) {
  console.error('usage: node rate.mjs <base URL> <tracking code> <follow secret> [screenshot.png]');
  process.exit(2);
}

main(() => withPage(base, async (page) => {
  const graphql = await recordGraphql(page);
  await page.goto(`${base}/m/t/${trackingCode}`);
  await page.locator('#status').waitFor({ state: 'visible' });
  const stateBefore = (await page.locator('#state').textContent()).trim();
  // Without the secret only the status shows.
  await page.locator('#secret-form').waitFor({ state: 'visible' });
  if (await page.locator('#detail').isVisible()) throw new Error('details shown without the secret');

  await page.getByLabel('查询密钥').fill('0'.repeat(32));
  await page.locator('#secret-submit').click();
  await page.locator('#secret-error').waitFor({ state: 'visible' });

  await page.getByLabel('查询密钥').fill(secret);
  await page.locator('#secret-submit').click();
  await page.locator('#detail').waitFor({ state: 'visible' });
  const result = (await page.locator('#d-result').textContent()).trim();
  await page.locator('#rate-form').waitFor({ state: 'visible' });
  await checkAccessibility(page);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

  await page.getByLabel('满意', { exact: true }).check();
  await page.getByLabel('评价意见').fill('修得很快，谢谢！');
  await page.locator('#rate-submit').click();
  await page.locator('#rate-form').waitFor({ state: 'hidden' });
  const rated = (await page.locator('#d-rated').textContent()).trim();
  const stateAfter = (await page.locator('#state').textContent()).trim();
  return { stateBefore, result, stateAfter, rated, graphql };
}));
