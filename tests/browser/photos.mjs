// node photos.mjs <base URL> <deputy code> <image file>...
// The photo button of /m/d/{code}, as a citizen on a phone uses it:
// 1. chooses 4 photos, removes one; the first upload fails (the network drops it),
//    shows its error and a retry while the others finish; retried, it finishes too;
//    every photo shows its preview (an object URL) and its progress reaching done;
//    the message is submitted with the 3 photos;
// 2. on a fresh form, chooses more than 9: the page keeps 9 and says so, and uploads
//    them no more than 2 at a time.
// Prints {"trackingCode", "previews", "kept", "note", "maxInFlight", "uploads"} as JSON.
import { checkAccessibility, main, withPage } from './browser.mjs';

const [base, code, ...files] = process.argv.slice(2);
if (!base || !code || files.length < 10) {
  console.error('usage: node photos.mjs <base URL> <deputy code> <at least 10 image files>');
  process.exit(2);
}

// A multipart POST to /graphql (the headers Chromium adds itself, such as a form's
// content type, are only in allHeaders()).
async function isUpload(request) {
  if (request.method() !== 'POST' || new URL(request.url()).pathname !== '/graphql') return false;
  const headers = await request.allHeaders();
  return (headers['content-type'] || '').startsWith('multipart/form-data');
}

async function states(page) {
  return page.locator('#photo-list li').evaluateAll((items) => items.map((li) => li.dataset.state));
}

async function waitAllDone(page, n) {
  await page.waitForFunction((n) => {
    const items = [...document.querySelectorAll('#photo-list li')];
    return items.length === n && items.every((li) => li.dataset.state === 'done'
      && li.querySelector('progress').value === 100);
  }, n, { timeout: 60_000 });
}

main(() => withPage(base, async (page) => {
  // The first upload is lost on the way (a dropped mobile connection).
  let maxInFlight = 0;
  let uploads = 0;
  let dropped = false;
  await page.route('**/graphql', async (route) => {
    const request = route.request();
    if (await isUpload(request)) {
      uploads += 1;
      if (!dropped) {
        dropped = true;
        return route.abort('connectionreset');
      }
    }
    return route.continue();
  });

  // Measured in the page, beside its own code: multipart XHRs sent and not yet
  // answered (an answer counts when the request is DONE, before the page's onload
  // may start the next one).
  await page.addInitScript(() => {
    const count = { now: 0, max: 0 };
    window.uploadsInFlight = count;
    const send = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function (body) {
      if (body instanceof FormData) {
        count.now += 1;
        count.max = Math.max(count.max, count.now);
        this.addEventListener('readystatechange', () => { if (this.readyState === 4) count.now -= 1; });
      }
      return send.call(this, body);
    };
  });
  await page.goto(`${base}/m/d/${code}`);
  await page.locator('#form').waitFor({ state: 'visible' });
  const picker = page.locator('#photos');
  if ((await picker.getAttribute('accept')) !== 'image/*' || (await picker.getAttribute('multiple')) === null) {
    throw new Error('the photo input does not offer camera and album, several at once');
  }

  // 1. Four photos, one removed.
  await page.setInputFiles('#photos', files.slice(0, 4));
  await page.locator('#photo-list li').nth(3).waitFor();
  await page.getByRole('button', { name: '移除照片4' }).click();
  if ((await page.locator('#photo-list li').count()) !== 3) throw new Error('the removed photo stays');
  // The dropped one fails with its retry; the others are not held up.
  await page.locator('#photo-list li[data-state=failed]').waitFor().catch(async (e) => {
    const shown = await page.locator('#photo-list li').evaluateAll((items) => items.map((li) => `${li.dataset.state}: ${li.textContent}`));
    throw new Error(`${e.message}\nphotos: ${JSON.stringify(shown)}; uploads seen ${uploads}`);
  });
  await page.waitForFunction(() => document.querySelectorAll('#photo-list li[data-state=done]').length === 2);
  const failed = page.locator('#photo-list li[data-state=failed]');
  const error = (await failed.locator('.photo-status').textContent()).trim();
  if (!error.startsWith('上传失败')) throw new Error(`failure shown as ${error}`);
  await checkAccessibility(page);
  await failed.getByRole('button', { name: /^重新上传照片/ }).click();
  await waitAllDone(page, 3);
  const previews = await page.locator('#photo-list img').evaluateAll((imgs) => imgs.map((img) => ({
    blob: img.src.startsWith('blob:'), width: img.naturalWidth, alt: img.alt,
  })));
  if (previews.some((p) => !p.blob || !p.width || !p.alt)) throw new Error(`previews ${JSON.stringify(previews)}`);

  await page.getByLabel('留言内容').fill(`浏览器测试：路口护栏被撞坏，附照片。${Date.now()}`);
  await page.getByLabel('手机号码').fill('13900001234');
  await page.locator('#submit').click();
  const tracking = page.locator('#tracking-code');
  await tracking.waitFor({ state: 'visible' });
  const trackingCode = (await tracking.textContent()).trim();
  if ((await page.locator('#photo-list li').count()) !== 0) throw new Error('photos stay after sending');

  // 2. More than nine: nine are kept, and the page says so.
  await page.locator('#again').click();
  await page.setInputFiles('#photos', files.slice(0, 11));
  await page.locator('#photos-note').waitFor({ state: 'visible' });
  const note = (await page.locator('#photos-note').textContent()).trim();
  const kept = await page.locator('#photo-list li').count();
  if (!(await page.locator('#photos').isDisabled())) throw new Error('a tenth photo can still be chosen');
  await waitAllDone(page, 9);
  const finalStates = await states(page);
  maxInFlight = await page.evaluate(() => window.uploadsInFlight.max);
  return { trackingCode, previews, kept, note, maxInFlight, uploads, finalStates };
  // The dropped upload is logged by Chromium as a failed resource (page errors still fail).
}, { consoleErrorsExpected: true }));
