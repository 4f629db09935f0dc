// node cross_origin.mjs <dashboard page URL> <gateway base URL> [refused]
// Opens a dashboard page served from another origin than the gateway's; the page signs
// in, queries and opens the WebSocket across origins. Prints what the page saw as JSON.
// With `refused`, the gateway is expected to turn the page away (Chromium then logs
// the blocked calls as console errors).
import { main, withPage } from './browser.mjs';

const [pageUrl, gateway, refused] = process.argv.slice(2);
if (!pageUrl || !gateway) {
  console.error('usage: node cross_origin.mjs <dashboard page URL> <gateway base URL> [refused]');
  process.exit(2);
}

main(() => withPage(pageUrl, async (page) => {
  await page.goto(`${pageUrl}?gateway=${gateway}`);
  const result = page.locator('#result');
  await page.waitForFunction(() => document.getElementById('result').textContent !== '');
  return JSON.parse(await result.textContent());
}, { allow: [gateway], consoleErrorsExpected: refused === 'refused' }));
